"""Load profiles straight from Prometheus (`/api/v1/query_range`).

For each (site, workload, metric) of a :class:`~planner.inputs.queries.QuerySet` the
range [start, end] is queried at a fixed step, in chunks of at most ``max_points``
points (Prometheus refuses more than 11,000 per series), several requests at a time,
with retries on 5xx, 429, timeouts and dropped connections: jittered exponential backoff
for up to a minute per request (a Prometheus restart), and finished requests kept on
disk so that a rerun resumes (:mod:`planner.inputs.pull_cache`). Every query is probed
once before the bulk pull, so a refused query fails at once, naming every failing series.
Prometheus omits the steps where a series has no sample; those are gaps, filled or
refused by the same policy as file profiles (:func:`planner.inputs.profiles.fill_gaps`).

The HTTP client is httpx: connection pooling across threads, explicit timeouts, TLS
verified by default with an optional CA bundle, and a transport that tests can point at a
real local server. Credentials go into request headers only; no message or log shows them.
"""

from __future__ import annotations

import json
import math
import random
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
from planner.inputs.pull_cache import PullCache
from planner.inputs.queries import QuerySet
from planner.inputs.units import METRICS

#: Prometheus refuses more than 11,000 points per series in one query_range.
PROMETHEUS_MAX_POINTS = 11_000
RETRY_STATUSES = {429, 500, 502, 503, 504}
BACKOFF_CAP_S = 8.0


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
    retries: int = 30  # tries more at most, within retry_for_s
    retry_for_s: float = 60.0  # how long one request keeps retrying (a Prometheus restart)
    backoff_s: float = 0.5  # the first wait; it doubles up to BACKOFF_CAP_S, jittered
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


class UnreachableError(InputError):
    """Prometheus gave no usable answer within the retry budget (not the query's fault)."""


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
        self._jitter = random.Random()
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
        started = time.monotonic()
        tries = 0
        for attempt in range(self.options.retries + 1):
            if attempt:
                # exponential backoff with jitter (requests in flight together do not
                # come back together), within the request's retry budget
                wait = min(BACKOFF_CAP_S, self.options.backoff_s * 2 ** (attempt - 1))
                wait *= self._jitter.uniform(0.5, 1.0)
                if time.monotonic() - started + wait > self.options.retry_for_s:
                    break
                time.sleep(wait)
            tries += 1
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
        raise UnreachableError(
            self.options.shown_url,
            where,
            f"{problem} after {tries} tries over {time.monotonic() - started:.0f} s; is "
            "Prometheus reachable?",
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
    cache: PullCache | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Pull every series; the long-format profile and notes about gaps filled.

    Every query is first asked once for a short window (:func:`probe_queries`), so a
    refused query fails before the bulk pull and every failing series is named.
    ``progress(n)`` is called as each of the bulk requests finishes. With ``cache``,
    finished requests are kept and read back on a rerun (:mod:`planner.inputs.pull_cache`).
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
        key = {
            "url": redact_url(options.url),
            "query": query,
            "first": first,
            "last": last,
            "step": options.step_s,
        }
        points = cache.get(key) if cache is not None else None
        if points is None:
            points = client.query_range(query, first, last, f"({site}, {workload}, {metric})")
            if cache is not None:
                cache.put(key, points)
        for stamp, text in points:
            t = round((float(stamp) - options.start_s) / options.step_s)
            value = float(text)
            if 0 <= t < grid.size and math.isfinite(value):
                values[i, t] = value
                seen[i] = True
        progress(1)

    try:
        probe_queries(client, queries, options)
        tasks = [(i, part) for i in range(len(series)) for part in parts]
        _run_all(pull, tasks, options.concurrency)
    except InputError as exc:
        kept = cache.count() if cache is not None else 0
        if cache is not None and not isinstance(exc, UnreachableError):
            cache.remove()  # the input is wrong, not the server: nothing to resume
        elif kept:
            raise InputError(
                exc.source,
                exc.where,
                f"{exc.expected} ({kept} of {len(series) * len(parts)} requests finished and "
                f"kept in {cache.folder if cache else ''}: the same command resumes from them)",
            ) from None
        raise
    finally:
        client.close()
    empty = [
        f"({site}, {workload}, {metric}) [{queries.query(site, workload, metric)}]"
        for i, (site, workload, metric) in enumerate(series)
        if not seen[i]
    ]
    if empty:
        if cache is not None:
            cache.remove()
        raise InputError(
            options.shown_url,
            f"{_iso(options.start_s)} to {_iso(options.end_s)}",
            f"{len(empty)} of {len(series)} queries returned no data: " + "; ".join(empty),
        )
    result = _frame(queries, series, values, grid, options)
    if cache is not None:
        cache.remove()
    return result


def probe_queries(client: PrometheusClient, queries: QuerySet, options: PullOptions) -> None:
    """Ask each query once for its first few steps; raise one error naming every series
    whose query is refused (a syntax error, several series, authentication), not just the
    first. No data in the window is not an error here: the bulk pull decides that."""
    series = queries.series()
    last = min(options.end_s, options.start_s + 10 * options.step_s)
    failures: list[str | None] = [None] * len(series)

    def probe(i: int) -> None:
        site, workload, metric = series[i]
        try:
            client.query_range(
                queries.query(site, workload, metric),
                options.start_s,
                last,
                f"({site}, {workload}, {metric})",
            )
        except InputError as exc:
            if not exc.where or isinstance(exc, UnreachableError):
                raise  # the server or the credentials, not this query
            failures[i] = f"({site}, {workload}, {metric}): {exc.expected}"

    _run_all(probe, list(range(len(series))), options.concurrency)
    failed = [f for f in failures if f is not None]
    if failed:
        raise InputError(
            options.shown_url,
            "",
            f"{len(failed)} of {len(series)} queries fail before the pull: " + "; ".join(failed),
        )


def _run_all(work: Callable[[Any], None], tasks: list[Any], concurrency: int) -> None:
    """``work`` on every task, ``concurrency`` at a time; the first failure ends the run
    (what is still queued is dropped) and is raised."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = [pool.submit(work, task) for task in tasks]
        try:
            for future in futures:
                future.result()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


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
