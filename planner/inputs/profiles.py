"""Load profiles: read CSV or Parquet in long format and validate every row.

A profile has one row per (timestamp, site, workload) with the metrics of
:data:`planner.inputs.units.METRICS`. Timestamps are tz-aware ISO-8601 (any offset: DST
changes are fine because everything is converted to UTC), on a fixed step shared by
every (site, workload) series. The result is a dense cube per metric, shape
(sites, workloads, timesteps), in the spec's site and workload order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.errors import InputError
from planner.inputs.spec import Spec
from planner.inputs.units import METRICS

KEY_COLUMNS = ("timestamp", "site", "workload")
_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Profile:
    """A validated load profile. ``values[metric]`` has shape (sites, workloads, timesteps)."""

    sites: tuple[str, ...]
    workloads: tuple[str, ...]
    timestamps_ns: npt.NDArray[np.int64]
    step_s: int
    values: dict[str, FloatArray]

    @property
    def n_steps(self) -> int:
        return int(self.timestamps_ns.shape[0])

    def content_hash(self) -> str:
        """SHA-256 of the validated content: same data, same hash, whatever the file format."""
        digest = hashlib.sha256()
        digest.update(
            f"sites={','.join(self.sites)};workloads={','.join(self.workloads)};"
            f"step={self.step_s};".encode()
        )
        digest.update(np.ascontiguousarray(self.timestamps_ns, dtype="<i8").tobytes())
        for metric in METRICS:
            digest.update(metric.encode())
            digest.update(np.ascontiguousarray(self.values[metric], dtype="<f8").tobytes())
        return digest.hexdigest()


def read_profile(path: Path, spec: Spec) -> Profile:
    """Read a CSV or Parquet load profile and validate it against the spec."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = _read_csv(path)

        def label(i: int) -> str:
            return f"line {i + 2}"
    elif suffix in (".parquet", ".pq"):
        frame = _read_parquet(path)

        def label(i: int) -> str:
            return f"row {i + 1}"
    else:
        raise InputError(str(path), "", "expected a .csv or .parquet load profile")
    return profile_from_frame(frame, spec, str(path), label)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        # Metric columns parse as floats where they are clean; anything else stays text and
        # is reported row by row by _metric.
        text_columns = dict.fromkeys(KEY_COLUMNS, str)
        return pd.read_csv(path, dtype=text_columns, keep_default_na=False, na_filter=False)
    except FileNotFoundError:
        raise InputError(str(path), "", "file not found") from None
    except pd.errors.EmptyDataError:
        raise InputError(str(path), "", "the file is empty: expected a header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(str(path), "", f"cannot parse CSV ({first})") from None


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise InputError(str(path), "", "file not found") from None
    except (pa.ArrowException, OSError) as exc:
        raise InputError(str(path), "", f"cannot read Parquet ({exc})") from None
    if "timestamp" in table.column_names:
        kind = table.schema.field("timestamp").type
        if pa.types.is_timestamp(kind) and kind.tz is None:
            raise InputError(
                str(path), "column 'timestamp'", "expected tz-aware timestamps, got naive ones"
            )
    frame: pd.DataFrame = table.to_pandas()
    return frame


def profile_from_frame(
    frame: pd.DataFrame, spec: Spec, source: str, label: Callable[[int], str]
) -> Profile:
    """Validate a long-format frame (one row per timestamp, site, workload) into a Profile."""
    measured = _check_columns(frame, spec, source)
    n_rows = len(frame)
    if n_rows == 0:
        raise InputError(source, "", "no data rows")

    def fail(row: int, column: str, expected: str) -> InputError:
        return InputError(source, f"{label(row)}, column '{column}'", expected)

    site_codes = _codes(frame["site"], spec.site_names, "site", fail)
    workload_names = tuple(w.name for w in spec.workloads)
    workload_codes = _codes(frame["workload"], workload_names, "workload", fail)
    ts = _timestamps(frame["timestamp"], fail)
    metric_arrays = {m: _metric(frame[m], m, fail) for m in measured}

    n_sites, n_workloads = len(spec.site_names), len(workload_names)
    series = site_codes.astype(np.int64) * n_workloads + workload_codes
    # Duplicates: sort by (series, time) and compare neighbours.
    order = np.lexsort((ts, series))
    same = (series[order][1:] == series[order][:-1]) & (ts[order][1:] == ts[order][:-1])
    if same.any():
        first, second = sorted((int(order[1:][same][0]), int(order[:-1][same][0])))
        raise fail(
            max(first, second),
            "timestamp",
            f"duplicate (timestamp, site, workload); the same as {label(min(first, second))}",
        )
    # Monotonic within each series, in file order.
    file_order = np.lexsort((np.arange(n_rows), series))
    ts_f, series_f = ts[file_order], series[file_order]
    same_series = series_f[1:] == series_f[:-1]
    back = same_series & (ts_f[1:] <= ts_f[:-1])
    if back.any():
        row = int(file_order[1:][back][0])
        raise fail(row, "timestamp", "timestamps must increase within each (site, workload)")
    # Fixed step, the same for every series.
    diffs = ts_f[1:] - ts_f[:-1]
    step_diffs = diffs[same_series]
    if step_diffs.size == 0:
        raise InputError(source, "", "expected at least two timestamps per (site, workload)")
    step_ns = int(step_diffs[0])
    odd = same_series & (diffs != step_ns)
    if odd.any():
        i = int(np.flatnonzero(odd)[0])
        row = int(file_order[i + 1])
        raise fail(
            row,
            "timestamp",
            f"step of {diffs[i] / 1e9:g} s, expected a fixed step of {step_ns / 1e9:g} s "
            "(mixed steps or a gap)",
        )
    # Every (site, workload) present, on the same grid.
    counts = np.bincount(series, minlength=n_sites * n_workloads)
    for code in range(n_sites * n_workloads):
        if counts[code] == 0:
            site, workload = (
                spec.site_names[code // n_workloads],
                workload_names[code % n_workloads],
            )
            raise InputError(source, "", f"no rows for site '{site}', workload '{workload}'")
    starts = np.full(n_sites * n_workloads, np.iinfo(np.int64).max)
    np.minimum.at(starts, series, ts)
    for code in range(n_sites * n_workloads):
        if counts[code] != counts[0] or starts[code] != starts[0]:
            site, workload = (
                spec.site_names[code // n_workloads],
                workload_names[code % n_workloads],
            )
            first_row = int(np.flatnonzero(series == code)[0])
            raise fail(
                first_row,
                "timestamp",
                f"series ({site}, {workload}) covers {counts[code]} steps from "
                f"{_iso(int(starts[code]))}, expected {counts[0]} steps from "
                f"{_iso(int(starts[0]))} like the first series",
            )
    n_steps = int(counts[0])
    cube_order = order  # sorted by (series, time): reshape to (sites, workloads, steps)
    values: dict[str, FloatArray] = {}
    for metric, array in metric_arrays.items():
        values[metric] = array[cube_order].reshape(n_sites, n_workloads, n_steps)
    for metric, (source_metric, factor) in spec.derived_metrics.items():
        if metric not in values:
            values[metric] = values[source_metric] * factor
    timestamps = ts[cube_order][:n_steps].copy()
    return Profile(
        sites=spec.site_names,
        workloads=workload_names,
        timestamps_ns=timestamps,
        step_s=step_ns // 10**9,
        values=values,
    )


def _check_columns(frame: pd.DataFrame, spec: Spec, source: str) -> list[str]:
    columns = [str(c) for c in frame.columns]
    for column in KEY_COLUMNS:
        if column not in columns:
            raise InputError(source, f"column '{column}'", "required column is missing")
    measured = []
    for metric in METRICS:
        if metric in columns:
            measured.append(metric)
        elif metric not in spec.derived_metrics:
            raise InputError(
                source,
                f"column '{metric}'",
                "required metric column is missing (or say in the spec's derived_metrics how "
                "to derive it)",
            )
    for metric, (source_metric, _) in spec.derived_metrics.items():
        if metric not in columns and source_metric not in columns:
            raise InputError(
                source,
                f"column '{source_metric}'",
                f"missing, and '{metric}' is derived from it",
            )
    for column in columns:
        if column not in KEY_COLUMNS and column not in METRICS:
            expected = ", ".join((*KEY_COLUMNS, *METRICS))
            raise InputError(source, f"column '{column}'", f"unknown column (expected {expected})")
    return measured


def _codes(
    column: pd.Series,
    names: tuple[str, ...],
    what: str,
    fail: Callable[[int, str, str], InputError],
) -> npt.NDArray[np.int64]:
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    labels = pd.Index([str(u).strip() for u in uniques])
    lookup = pd.Index(list(names)).get_indexer(labels)
    unknown = np.flatnonzero(lookup < 0)
    if unknown.size:
        row = int(np.flatnonzero(np.isin(codes, unknown))[0])
        value = labels[codes[row]]
        raise fail(row, what, f"unknown {what} '{value}' (the spec has: {', '.join(names)})")
    return np.asarray(lookup[codes], dtype=np.int64)


def _timestamps(
    column: pd.Series, fail: Callable[[int, str, str], InputError]
) -> npt.NDArray[np.int64]:
    """Parse each distinct timestamp once (a profile repeats every timestamp per series)."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        parsed = column.dt.tz_convert("UTC")
        if parsed.isna().any():
            row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
            raise fail(row, "timestamp", "missing timestamp")
        utc = parsed.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]")
        return np.asarray(utc.astype(np.int64), dtype=np.int64)
    codes, uniques = pd.factorize(column.astype(str), use_na_sentinel=False)
    text = pd.Series(uniques, dtype=object).astype(str).str.strip()
    naive = ~text.str.contains(_TZ_SUFFIX, regex=True).to_numpy()
    if naive.any():
        row = int(np.flatnonzero(np.isin(codes, np.flatnonzero(naive)))[0])
        raise fail(
            row,
            "timestamp",
            f"expected a tz-aware ISO-8601 timestamp with an offset, got '{text.iloc[codes[row]]}'",
        )
    parsed_unique = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    bad = parsed_unique.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(np.isin(codes, np.flatnonzero(bad)))[0])
        raise fail(row, "timestamp", f"not an ISO-8601 timestamp: '{text.iloc[codes[row]]}'")
    utc_unique = parsed_unique.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]")
    return np.asarray(utc_unique.astype(np.int64)[codes], dtype=np.int64)


def _metric(
    column: pd.Series, name: str, fail: Callable[[int, str, str], InputError]
) -> FloatArray:
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        text = column.astype(str).str.strip()
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
        bad_text = np.isnan(numbers) & ~text.str.lower().isin(["nan", "", "na", "null"]).to_numpy()
        if bad_text.any():
            row = int(np.flatnonzero(bad_text)[0])
            raise fail(row, name, f"expected a number, got '{text.iloc[row]}'")
    elif pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        raise fail(0, name, f"expected numbers, got a column of type {column.dtype}")
    missing = ~np.isfinite(numbers)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise fail(row, name, f"expected a finite number, got {numbers[row]} (missing value?)")
    negative = numbers < 0
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        raise fail(row, name, f"expected a load >= 0, got {numbers[row]:g}")
    return numbers


def _iso(ns: int) -> str:
    return pd.Timestamp(ns, tz="UTC").isoformat()


def write_profile(frame: pd.DataFrame, path: Path) -> None:
    """Write a long-format profile to CSV or Parquet, atomically (temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if path.suffix.lower() == ".csv":
        frame.to_csv(tmp, index=False)
    else:
        frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    tmp.replace(path)
