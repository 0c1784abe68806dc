"""`planner profile`: pull a load profile from Prometheus, and show what a profile holds."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from planner.cli._shell import (
    BadInput,
    Duration,
    FiniteFloat,
    file_path,
    interactive,
    planner_errors,
)
from planner.inputs.profile_options import FILL_METHODS


@click.group(short_help="Pull a profile from Prometheus; show a profile.")
def profile() -> None:
    """Load profiles: from the region's monitoring, and a look at one before sizing."""


def _epoch(value: str, option: str) -> int:
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (ValueError, pd.errors.OutOfBoundsDatetime):
        raise BadInput(f"{option}: not an ISO-8601 timestamp: '{value}'") from None
    if stamp.tzinfo is None:
        raise BadInput(f"{option}: expected a timestamp with an offset, got '{value}'")
    return int(stamp.tz_convert("UTC").timestamp())


def _secret_from(file: Path | None, env: str | None, what: str) -> str | None:
    """A token or password from a file or an environment variable; it travels in an HTTP
    header, so only printable ASCII is taken (never echoed in the message)."""
    if file is not None:
        where = str(file)
        try:
            text = file.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError:
            raise BadInput(f"{file}: the {what} file is not UTF-8 text") from None
        except OSError as exc:
            raise BadInput(f"{file}: cannot read the {what} ({exc.strerror})") from None
        if not text:
            raise BadInput(f"{file}: the {what} file is empty")
    elif env is not None:
        where = f"${env}"
        text = os.environ.get(env, "").strip()
        if not text:
            raise BadInput(f"{where}: the environment variable with the {what} is not set")
    else:
        return None
    if not all(" " <= c <= "~" for c in text):
        raise BadInput(
            f"{where}: the {what} has a character outside printable ASCII (an HTTP header "
            "carries it): check for a stray character or line break"
        )
    return text


def is_profile_file(path: Path) -> bool:
    """An existing file the pull may replace: a profile (its header names the key columns)."""
    try:
        if path.suffix.lower() == ".csv":
            header = path.read_text(encoding="utf-8")[:2000].splitlines()[0]
            return {"timestamp", "site", "workload"} <= set(header.split(","))
        import pyarrow.parquet as pq

        return {"timestamp", "site", "workload"} <= set(pq.read_schema(path).names)
    except Exception:
        return False


@profile.command(short_help="Pull a load profile from Prometheus.")
@click.option("--url", required=True, help="Prometheus base URL (https://prometheus.example:9090).")
@click.option(
    "--queries",
    "queries_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Queries file: PromQL per metric, label values per site and workload.",
)
@click.option("--start", required=True, metavar="TIME", help="ISO-8601 with offset.")
@click.option("--end", required=True, metavar="TIME", help="ISO-8601 with offset.")
@click.option(
    "--step",
    type=Duration(maximum_s=86400),
    default="5m",
    show_default=True,
    help="Time between samples of the profile (at most 1 d); rate() windows should be at least it.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    callback=file_path,
    help="The profile to write (.parquet or .csv).",
)
@click.option(
    "--max-points",
    type=click.IntRange(2, 11_000),
    default=10_000,
    show_default=True,
    help="Points per request (Prometheus allows 11,000 per series).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Requests in flight at once.",
)
@click.option(
    "--timeout",
    type=FiniteFloat(1, 600),
    default=30.0,
    show_default=True,
    help="Seconds per request.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 100),
    default=30,
    show_default=True,
    help="Tries more at most after a timeout, a dropped connection, 429 or 5xx, with "
    "jittered waits doubling from 0.5 s to 8 s (within --retry-for).",
)
@click.option(
    "--retry-for",
    type=FiniteFloat(0, 3600),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="How long one request keeps retrying (long enough for a Prometheus restart).",
)
@click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Keep finished requests in .OUT.pull/ beside the output, so that a rerun of the "
    "same command after a failure asks only for the rest (removed when the pull completes).",
)
@click.option(
    "--bearer-token-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File holding a bearer token (never printed).",
)
@click.option("--bearer-token-env", metavar="VAR", help="Environment variable holding the token.")
@click.option("--basic-auth-user", metavar="USER", help="User for HTTP basic auth.")
@click.option(
    "--basic-auth-password-env",
    metavar="VAR",
    help="Environment variable holding the basic-auth password.",
)
@click.option("--ca-bundle", type=click.Path(path_type=Path, dir_okay=False), help="PEM CA bundle.")
@click.option(
    "--fill-gaps",
    type=Duration(maximum_s=7 * 86400),
    default="0s",
    show_default=True,
    help="Fill gaps up to this long (e.g. 15m, at most 7d); longer gaps are an error.",
)
@click.option(
    "--fill-method",
    type=click.Choice(FILL_METHODS),
    default="hold",
    show_default=True,
    help="How gaps are filled: hold the last value, or linear.",
)
@planner_errors
def pull(
    url: str,
    queries_path: Path,
    start: str,
    end: str,
    step: float,
    out: Path,
    max_points: int,
    concurrency: int,
    timeout: float,
    retries: int,
    retry_for: float,
    resume: bool,
    bearer_token_file: Path | None,
    bearer_token_env: str | None,
    basic_auth_user: str | None,
    basic_auth_password_env: str | None,
    ca_bundle: Path | None,
    fill_gaps: float,
    fill_method: str,
) -> None:
    """Query /api/v1/query_range for every (site, workload, metric) and write a profile."""
    from planner.inputs.profile_options import ProfileOptions
    from planner.inputs.profiles import write_profile
    from planner.inputs.prometheus import Credentials, PullOptions, chunks, get_profile_frame
    from planner.inputs.pull_cache import PullCache, cache_dir_for
    from planner.inputs.queries import read_queries

    if not url.startswith(("http://", "https://")):
        from planner.inputs.prometheus import redact_url

        raise BadInput(f"--url: expected http:// or https://, got '{redact_url(url)}'")
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise BadInput(f"{out}: expected a .parquet or .csv file name")
    if bearer_token_file is not None and bearer_token_env is not None:
        raise click.UsageError("give the token from a file or from a variable, not both")
    token = _secret_from(bearer_token_file, bearer_token_env, "token")
    password = _secret_from(None, basic_auth_password_env, "password") if basic_auth_user else None
    if token and basic_auth_user:
        raise click.UsageError("give a bearer token or basic auth, not both")
    step_s = int(step)
    if step_s < 1 or step_s != step:
        raise BadInput("--step: expected a whole number of seconds, at least 1 s")
    options = PullOptions(
        url=url,
        start_s=_epoch(start, "--start"),
        end_s=_epoch(end, "--end"),
        step_s=step_s,
        max_points=max_points,
        concurrency=concurrency,
        timeout_s=timeout,
        retries=retries,
        retry_for_s=retry_for,
        ca_bundle=ca_bundle,
        credentials=Credentials(token, basic_auth_user, password),
        gaps=ProfileOptions(fill_gaps_s=fill_gaps, fill_method=fill_method),
    )
    queries = read_queries(queries_path)
    if out.exists() and not is_profile_file(out):
        raise BadInput(
            f"{out}: exists and is not a profile; choose another path (nothing was changed)"
        )
    total = len(queries.series()) * len(
        chunks(options.start_s, options.end_s, options.step_s, options.max_points)
    )
    cache = PullCache(cache_dir_for(out)) if resume else None
    if interactive():
        with click.progressbar(length=total, label="querying Prometheus", file=sys.stderr) as bar:
            frame, notes = get_profile_frame(
                queries, options, progress=lambda n: bar.update(n), cache=cache
            )
    else:
        frame, notes = get_profile_frame(queries, options, cache=cache)
    if cache is not None and cache.kept:
        click.echo(f"note: resumed: {cache.kept} of {total} requests from the last run", err=True)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    write_profile(frame, out, replaceable=is_profile_file)
    click.echo(
        f"wrote {out}: {len(queries.sites)} sites x {len(queries.workloads)} workloads, "
        f"{frame['timestamp'].nunique():,} steps of {step_s} s ({total:,} requests)"
    )


@profile.command(short_help="What a profile holds: range, step, peaks, percentiles, gaps.")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=False))
@planner_errors
def show(path: Path) -> None:
    """Per site and workload: time range, step, gaps, and per metric the peak and p50/p95/p99."""
    from planner.inputs.profile_summary import summarise_profile

    for line in summarise_profile(path):
        click.echo(line)
