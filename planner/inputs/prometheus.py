"""Load profiles straight from Prometheus (`/api/v1/query_range`).

For each (site, workload, metric) of a :class:`~planner.inputs.queries.QuerySet` the
range [start, end] is queried at a fixed step, in chunks of at most ``max_points``
points (Prometheus refuses more than 11,000 per series), several requests at a time,
with retries and exponential backoff on 5xx, 429, timeouts and dropped connections.
Prometheus omits the steps where a series has no sample; those are gaps, filled or
refused by the same policy as file profiles (:func:`planner.inputs.profiles.fill_gaps`).

The HTTP client is httpx: connection pooling across threads, explicit timeouts, TLS
verified by default with an optional CA bundle, and a transport that tests can point at a
real local server. Credentials go into request headers only; no message or log shows them.
"""

from __future__ import annotations

import json
import math
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import InputError
from planner.inputs.profile_options import ProfileOptions
from planner.inputs.profiles import fill_gaps
from planner.inputs.queries import QuerySet
from planner.inputs.units import METRICS

#: Prometheus refuses more than 11,000 points per series in one query_range.
PROMETHEUS_MAX_POINTS = 11_000
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Credentials:
    """A bearer token or basic-auth pair. ``repr`` never shows a secret."""

    bearer_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bearer_token}"} if self.bearer_token else {}


@dataclass(frozen=True)
class PullOptions:
    url: str
    start_s: int  # epoch seconds (UTC)
    end_s: int
    step_s: int
    max_points: int = 10_000
    concurrency: int = 4
    timeout_s: float = 30.0
    retries: int = 3
    backoff_s: float = 0.5
    ca_bundle: Path | None = None
    credentials: Credentials = field(default_factory=Credentials)
    gaps: ProfileOptions = field(default_factory=ProfileOptions)

    @property
    def shown_url(self) -> str:
        """The URL as messages show it: a password in it replaced by ***."""
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """``http://user:secret@host`` as ``http://user:***@host`` (for messages and notes)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "(the given URL)"
    if parts.password is None and "@" not in parts.netloc:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}" if user else f"***@{host}"))


def chunks(start_s: int, end_s: int, step_s: int, max_points: int) -> list[tuple[int, int]]:
    """Consecutive [first, last] evaluation times on the grid start + k x step, at most
    ``max_points`` each, covering start..end with no point twice."""
    if end_s < start_s:
        raise InputError("--end", "", "expected an end after the start")
    points = (end_s - start_s) // step_s + 1
    out = []
    for first in range(0, points, max_points):
        last = min(points, first + max_points) - 1
        out.append((start_s + first * step_s, start_s + last * step_s))
    return out


def _certificate_problem(exc: BaseException) -> str:
    """The verification failure behind a connection error, if that is what it is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or "verification failed")
        text = str(seen)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return text.split("certificate verify failed:", 1)[-1].strip(" )]") or text
        seen = seen.__cause__ or seen.__context__
    return ""


def _iso(seconds: int) -> str:
    return pd.Timestamp(seconds, unit="s", tz="UTC").isoformat()


#: The most a single answer may be: a range query of one series at 11,000 points is under
#: 1 MiB; anything near this is not Prometheus, or not one series.
MAX_ANSWER_BYTES = 64 * 2**20


class _OverdueError(Exception):
    """The whole answer did not arrive within the request's time."""


@dataclass(frozen=True)
class _Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class PrometheusClient:
    """`query_range` with retries; errors are one-line :class:`InputError`s."""

    def __init__(self, options: PullOptions) -> None:
        import httpx

        verify: ssl.SSLContext | bool = True
        if options.ca_bundle is not None:
            if not options.ca_bundle.is_file():
                raise InputError(str(options.ca_bundle), "", "CA bundle not found")
            try:
                verify = ssl.create_default_context(cafile=str(options.ca_bundle))
            except (ssl.SSLError, ValueError, UnicodeDecodeError) as exc:
                raise InputError(
                    str(options.ca_bundle), "", f"not a PEM CA bundle ({type(exc).__name__})"
                ) from None
        auth = (
            httpx.BasicAuth(options.credentials.username, options.credentials.password or "")
            if options.credentials.username
            else None
        )
        self.options = options
        self.client = httpx.Client(
            base_url=options.url.rstrip("/"),
            timeout=options.timeout_s,
            verify=verify,
            auth=auth,
            headers=options.credentials.headers(),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max(1, options.concurrency)),
        )

    def close(self) -> None:
        self.client.close()

    def _get(self, params: dict[str, str], where: str) -> _Answer:
        """One request, read in chunks under two limits httpx's per-read timeout does not
        give: the whole answer within ``timeout_s`` (a server that drips a byte a second
        never times out a read) and at most :data:`MAX_ANSWER_BYTES` of it."""
        deadline = time.monotonic() + self.options.timeout_s
        with self.client.stream("GET", "/api/v1/query_range", params=params) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise InputError(
                        self.options.shown_url,
                        where,
                        f"the answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB: not a "
                        "Prometheus range query for one series (lower --max-points?)",
                    )
                if time.monotonic() > deadline:
                    raise _OverdueError
            return _Answer(response.status_code, bytes(body))

    def _redact(self, text: str) -> str:
        """``text`` (a server's message) with any secret of ours in it replaced by ***."""
        c = self.options.credentials
        for secret in (c.bearer_token, c.password):
            if secret:
                text = text.replace(secret, "***")
        return text

    def query_range(self, query: str, first_s: int, last_s: int, what: str) -> list[Any]:
        import httpx

        params = {
            "query": query,
            "start": str(first_s),
            "end": str(last_s),
            "step": f"{self.options.step_s}s",
        }
        where = f"{what}, {_iso(first_s)} to {_iso(last_s)}"
        problem = ""
        for attempt in range(self.options.retries + 1):
            if attempt:
                time.sleep(self.options.backoff_s * 2 ** (attempt - 1))
            try:
                response = self._get(params, where)
            except (httpx.TimeoutException, _OverdueError):
                problem = f"no answer within {self.options.timeout_s:g} s"
                continue
            except httpx.TransportError as exc:
                if _certificate_problem(exc):
                    raise InputError(
                        self.options.shown_url,
                        "",
                        f"the server's TLS certificate is not trusted ({_certificate_problem(exc)}"
                        "): give the CA that signed it with --ca-bundle",
                    ) from None
                problem = f"cannot connect ({type(exc).__name__})"
                continue
            if response.status_code in RETRY_STATUSES:
                problem = f"HTTP {response.status_code}"
                continue
            return self._result(response, query, where)
        raise InputError(
            self.options.shown_url,
            where,
            f"{problem} after {self.options.retries + 1} tries; is Prometheus reachable?",
        )

    def _result(self, response: Any, query: str, where: str) -> list[Any]:
        if response.status_code in (401, 403):
            raise InputError(
                self.options.shown_url,
                "",
                f"authentication failed (HTTP {response.status_code}): check the token or "
                "the user and password",
            )
        try:
            body = response.json()
        except ValueError:
            raise InputError(
                self.options.shown_url,
                where,
                f"not a Prometheus API answer (HTTP {response.status_code})",
            ) from None
        if response.status_code != 200 or body.get("status") != "success":
            error = self._redact(str(body.get("error", f"HTTP {response.status_code}")))[:200]
            raise InputError(
                self.options.shown_url, where, f"query refused: {error} (query: {query})"
            )
        data = body.get("data") or {}
        if data.get("resultType") != "matrix":
            raise InputError(
                self.options.shown_url, where, f"expected a range vector (query: {query})"
            )
        result: list[Any] = data.get("result") or []
        if len(result) > 1:
            raise InputError(
                self.options.shown_url,
                where,
                f"the query returns {len(result)} series, expected one: aggregate it, e.g. "
                f"sum(...) (query: {query})",
            )
        return result[0]["values"] if result else []


def get_profile_frame(
    queries: QuerySet,
    options: PullOptions,
    progress: Callable[[int], None] = lambda _: None,
) -> tuple[pd.DataFrame, list[str]]:
    """Pull every series; the long-format profile and notes about gaps filled.

    ``progress(n)`` is called as each of the requests finishes.
    """
    grid = np.arange(options.start_s, options.end_s + 1, options.step_s, dtype=np.int64)
    series = queries.series()
    parts = chunks(options.start_s, options.end_s, options.step_s, options.max_points)
    values = np.full((len(series), grid.size), np.nan)
    seen = np.zeros(len(series), dtype=bool)
    client = PrometheusClient(options)

    def pull(task: tuple[int, tuple[int, int]]) -> None:
        i, (first, last) = task
        site, workload, metric = series[i]
        query = queries.query(site, workload, metric)
        points = client.query_range(query, first, last, f"({site}, {workload}, {metric})")
        for stamp, text in points:
            t = round((float(stamp) - options.start_s) / options.step_s)
            value = float(text)
            if 0 <= t < grid.size and math.isfinite(value):
                values[i, t] = value
                seen[i] = True
        progress(1)

    try:
        tasks = [(i, part) for i in range(len(series)) for part in parts]
        with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
            futures = [pool.submit(pull, task) for task in tasks]
            try:
                for future in futures:
                    future.result()
            except BaseException:  # the first failure ends the pull: drop what is queued
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        client.close()
    for i in np.flatnonzero(~seen):
        site, workload, metric = series[i]
        raise InputError(
            options.shown_url,
            f"({site}, {workload}, {metric}), {_iso(options.start_s)} to {_iso(options.end_s)}",
            f"the query returned no data: {queries.query(site, workload, metric)}",
        )
    return _frame(queries, series, values, grid, options)


def _namer(queries: QuerySet, pairs: list[tuple[str, str]], metric: str) -> Callable[[int], str]:
    """How a gap message names series k of ``pairs``: the pair and its query."""

    def name(k: int) -> str:
        site, workload = pairs[k]
        return f"({site}, {workload}) [{queries.query(site, workload, metric)}]"

    return name


def _frame(
    queries: QuerySet,
    series: list[tuple[str, str, str]],
    values: np.ndarray,
    grid: np.ndarray,
    options: PullOptions,
) -> tuple[pd.DataFrame, list[str]]:
    sites, workloads = list(queries.sites), list(queries.workloads)
    pairs = [(s, w) for s in sites for w in workloads]
    notes: list[str] = []
    grid_ns = grid * 10**9
    columns: dict[str, np.ndarray] = {}
    for metric in METRICS:
        rows = [series.index((s, w, metric)) for s, w in pairs]
        cube = values[rows].copy()
        fill_gaps(
            cube,
            metric,
            grid_ns,
            options.step_s * 10**9,
            options.gaps,
            options.shown_url,
            _namer(queries, pairs, metric),
            notes,
        )
        columns[metric] = cube.reshape(-1)
    stamps = pd.to_datetime(np.tile(grid, len(pairs)), unit="s", utc=True)
    frame = pd.DataFrame(
        {
            "timestamp": stamps,
            "site": np.repeat([s for s, _ in pairs], grid.size),
            "workload": np.repeat([w for _, w in pairs], grid.size),
            **columns,
        }
    )
    return frame, notes
