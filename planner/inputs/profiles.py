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
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.errors import InputError
from planner.fsutil import atomic_write
from planner.inputs.files import reading
from planner.inputs.profile_options import ProfileOptions
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
    notes: tuple[str, ...] = ()

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


def read_profile(path: Path, spec: Spec, options: ProfileOptions | None = None) -> Profile:
    """Read a CSV or Parquet load profile and validate it against the spec."""
    frame, label, notes = read_frame(path)
    return profile_from_frame(
        frame, spec, str(path), label, options or ProfileOptions(), notes, consume=True
    )


def read_frame(path: Path) -> tuple[pd.DataFrame, Callable[[int], str], list[str]]:
    """The raw long-format frame of a CSV or Parquet file, how to name its rows in
    messages, and notes on how it was read."""
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix == ".csv":
        return _read_csv(path, notes), lambda i: f"line {i + 2}", notes
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path), lambda i: f"row {i + 1}", notes
    raise InputError(str(path), "", "expected a .csv or .parquet load profile")


def _sniff_csv(path: Path) -> tuple[list[str], str]:
    """The header's column names and the delimiter (',' or ';')."""
    import csv

    with reading(path, "CSV"), path.open(encoding="utf-8-sig", newline="") as handle:
        header = handle.readline()
    delimiter = ";" if header.count(";") > header.count(",") else ","
    names = next(csv.reader([header], delimiter=delimiter), [])
    return [n.strip() for n in names], delimiter


def _read_csv(path: Path, notes: list[str]) -> pd.DataFrame:
    names, delimiter = _sniff_csv(path)
    blank = [i for i, name in enumerate(names) if not name.strip()]
    if blank:
        trailing = blank[-1] == len(names) - 1
        raise InputError(
            str(path),
            f"column {blank[0] + 1} of the header",
            "has no name"
            + (f": a '{delimiter}' at the end of every row? (remove it)" if trailing else "")
            + "; expected only named columns",
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(str(path), f"column '{name}'", "appears twice in the header")
        seen.add(name)
    decimal = "." if delimiter == "," else ","
    if delimiter == ";":
        notes.append(
            f"{path}: read as semicolon-separated with decimal commas (a spreadsheet export)"
        )
    try:
        # Metric columns parse as floats where they are clean; anything else stays text and
        # is reported row by row by _metric.
        text_columns = dict.fromkeys(KEY_COLUMNS, str)
        frame = pd.read_csv(
            path,
            sep=delimiter,
            decimal=decimal,
            dtype=text_columns,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
        )
    except FileNotFoundError:
        raise InputError(str(path), "", "file not found") from None
    except pd.errors.EmptyDataError:
        raise InputError(str(path), "", "the file is empty: expected a header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(str(path), "", f"cannot parse CSV ({first})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if delimiter == ";":
        for column in frame.columns:
            if column not in KEY_COLUMNS and frame[column].dtype == object:
                frame[column] = frame[column].astype(str).str.replace(",", ".", regex=False)
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def opened(read: Callable[[Path], Any]) -> Any:
        try:
            return read(path)
        except FileNotFoundError:
            raise InputError(str(path), "", "file not found") from None
        except IsADirectoryError:
            raise InputError(str(path), "", "is a folder, expected a Parquet file") from None
        except (pa.ArrowException, OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(str(path), "", f"cannot read Parquet ({first})") from None

    seen: set[str] = set()
    for name in opened(lambda p: pq.read_schema(p).names):
        if name in seen:
            raise InputError(str(path), f"column '{name}'", "appears twice")
        seen.add(name)
    # The system allocator: the columns pandas takes over zero-copy are freed back to the
    # OS as the profile consumes them (jemalloc would keep the pages for a while).
    pa.set_memory_pool(pa.system_memory_pool())
    parquet = opened(pq.ParquetFile)
    names = parquet.schema_arrow.names
    if "timestamp" in names:
        kind = parquet.schema_arrow.field("timestamp").type
        if pa.types.is_timestamp(kind) and kind.tz is None:
            raise InputError(
                str(path), "column 'timestamp'", "expected tz-aware timestamps, got naive ones"
            )
    columns: dict[str, pd.Series] = {}

    # column by column: only one column is ever held twice (as Arrow and as pandas)
    def read_column(column: str) -> Any:
        return opened(lambda _: parquet.read(columns=[column]))

    for name in names:
        table = read_column(name)
        try:
            columns[name] = table.column(0).to_pandas()
        except (pa.ArrowException, ValueError, OverflowError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(
                str(path),
                f"column '{name}'",
                f"cannot convert ({first}); timestamps must lie between 1677 and 2262"
                if name == "timestamp"
                else f"cannot convert ({first})",
            ) from None
        del table
    frame = pd.DataFrame(columns, copy=False)
    return frame


def profile_from_frame(
    frame: pd.DataFrame,
    spec: Spec,
    source: str,
    label: Callable[[int], str],
    options: ProfileOptions | None = None,
    notes: list[str] | None = None,
    *,
    consume: bool = False,
) -> Profile:
    """Validate a long-format frame (one row per timestamp, site, workload) into a Profile.

    With ``consume`` the frame's metric columns are dropped as they move into the
    profile (the caller's frame is used up; it halves the peak memory of a large file).

    Rows may come in any order. The step is the median interval within the series;
    timestamps within ``options.jitter`` of a step are snapped to the grid; gaps are
    filled by ``options``' policy or refused, naming the series and the range.
    """
    options = options or ProfileOptions()
    notes = list(notes or [])
    measured = _check_columns(frame, spec, source, options, notes)
    n_rows = len(frame)
    if n_rows == 0:
        raise InputError(source, "", "no data rows")

    def fail(row: int, column: str, expected: str) -> InputError:
        return InputError(source, f"{label(row)}, column '{column}'", expected)

    site_codes = _codes(frame["site"], spec.site_names, "site", fail)
    workload_names = tuple(w.name for w in spec.workloads)
    workload_codes = _codes(frame["workload"], workload_names, "workload", fail)
    ts = parse_timestamps(frame["timestamp"], fail)
    if consume:
        del frame["timestamp"]  # held as nanoseconds in ts now
    may_fill = options.fill_gaps_s > 0
    metric_arrays = {m: parse_metric(frame[m], m, fail, allow_missing=may_fill) for m in measured}

    n_sites, n_workloads = len(spec.site_names), len(workload_names)
    n_series = n_sites * n_workloads
    series = site_codes * np.int32(n_workloads) + workload_codes  # int32
    del site_codes, workload_codes

    def pair(code: int) -> str:
        return f"({spec.site_names[code // n_workloads]}, {workload_names[code % n_workloads]})"

    counts = np.bincount(series, minlength=n_series)
    for code in range(n_series):
        if counts[code] == 0:
            raise InputError(source, "", f"no rows for site, workload {pair(code)}")
    # The step: the median interval between consecutive samples of a series (series by
    # series, so no sorted copy of the whole profile is ever held).
    pooled = []
    for code in range(n_series):
        gaps = np.diff(np.sort(ts[series == code]))
        pooled.append(gaps[gaps > 0])
    positive = np.concatenate(pooled)
    del pooled
    if positive.size == 0:
        raise InputError(source, "", "expected at least two timestamps per (site, workload)")
    step_ns = _nice_step_s(float(np.median(positive)) / 1e9, options.jitter) * 10**9
    if step_ns <= 0:
        raise InputError(source, "column 'timestamp'", "expected a step of at least 1 s")
    # Snap to the grid within the jitter tolerance.
    origin = int(ts.min())
    # the nearest grid step, in integers (round half up); and how far off it each sample is
    index = ts - origin
    index += step_ns // 2
    index //= step_ns
    off = index * step_ns
    off += origin
    off -= ts
    np.abs(off, out=off)
    tolerance = options.jitter * step_ns
    if (off > tolerance).any():
        row = int(np.flatnonzero(off > tolerance)[0])
        raise fail(
            row,
            "timestamp",
            f"{off[row] / 1e9:g} s off the {step_ns / 1e9:g} s step grid (more than the "
            f"jitter tolerance of {tolerance / 1e9:g} s): mixed steps?",
        )
    if off.any():
        notes.append(
            f"{source}: {int(np.count_nonzero(off))} timestamps snapped to the "
            f"{step_ns / 1e9:g} s grid (at most {off.max() / 1e9:g} s off)"
        )
    del off, ts
    n_steps = int(index.max()) + 1
    if n_steps * n_series > 50_000_000:
        raise InputError(
            source,
            "column 'timestamp'",
            f"{n_steps:,} steps of {step_ns / 1e9:g} s per series "
            "is more than the planner holds in memory; resample to a longer step",
        )
    # Each row's cell in the (series, step) cube; a cell filled twice is a duplicate.
    cell = series.astype(np.int64) * n_steps + index
    del series, index
    filled = np.bincount(cell, minlength=n_series * n_steps)
    if (filled > 1).any():
        a, b = (int(r) for r in np.flatnonzero(cell == int(np.argmax(filled > 1)))[:2])
        raise fail(
            max(a, b),
            "timestamp",
            f"duplicate (timestamp, site, workload); the same as {label(min(a, b))}",
        )
    del filled
    grid_ns = origin + np.arange(n_steps, dtype=np.int64) * step_ns
    values: dict[str, FloatArray] = {}
    for metric in list(metric_arrays):
        cube = np.full((n_series, n_steps), np.nan)
        cube.reshape(-1)[cell] = metric_arrays.pop(metric)
        if consume:
            del frame[metric]  # the column is in the cube now: free it
        fill_gaps(cube, metric, grid_ns, step_ns, options, source, pair, notes)
        values[metric] = cube.reshape(n_sites, n_workloads, n_steps)
    for metric, (source_metric, factor) in spec.derived_metrics.items():
        if metric not in values:
            values[metric] = values[source_metric] * factor
    return Profile(
        sites=spec.site_names,
        workloads=workload_names,
        timestamps_ns=grid_ns,
        step_s=step_ns // 10**9,
        values=values,
        notes=tuple(notes),
    )


#: Steps that monitoring systems export at (divisors of a day): a median interval within
#: the jitter tolerance of one of these is taken as exactly that step.
NICE_STEPS_S = tuple(
    sorted(
        {1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30}
        | {60 * n for n in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)}
        | {3600 * n for n in (1, 2, 3, 4, 6, 8, 12, 24)}
    )
)


def _nice_step_s(median_s: float, jitter: float) -> int:
    """The step in whole seconds: the nearest common step when the median interval is
    within half the jitter tolerance of it, else the median rounded."""
    nearest = min(NICE_STEPS_S, key=lambda s: abs(s - median_s))
    if abs(nearest - median_s) <= 0.5 * jitter * nearest:
        return nearest
    return round(median_s)


def fill_gaps(
    cube: FloatArray,
    metric: str,
    grid_ns: npt.NDArray[np.int64],
    step_ns: int,
    options: ProfileOptions,
    source: str,
    pair: Callable[[int], str],
    notes: list[str],
) -> None:
    """Fill the NaN gaps of each series (rows of ``cube``) in place, or refuse them."""
    missing = np.isnan(cube)
    if not missing.any():
        return
    n_series, n_steps = cube.shape
    positions = np.arange(n_steps)
    valid = ~missing
    prev = np.maximum.accumulate(np.where(valid, positions, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(valid, positions, n_steps)[:, ::-1], axis=1)[:, ::-1]
    gap_steps = nxt - prev - 1
    limit = int(options.fill_gaps_s * 1e9 // step_ns)
    edge = missing & ((prev < 0) | (nxt >= n_steps))
    too_long = missing & (gap_steps > limit)
    bad = edge | too_long
    if bad.any():
        s, t = (int(v[0]) for v in np.nonzero(bad))
        first, last = int(prev[s, t]) + 1, int(nxt[s, t]) - 1
        span = (last - first + 1) * step_ns / 60e9
        where = "at the start" if prev[s, t] < 0 else "at the end" if nxt[s, t] >= n_steps else ""
        hint = (
            "a gap at the start or end of a series is never filled; trim the other series"
            if where
            else "--fill-gaps fills gaps up to a given length "
            f"(now {options.fill_gaps_s / 60:g} min)"
        )
        raise InputError(
            source,
            f"series {pair(s)}, column '{metric}'",
            f"no data from {_iso(int(grid_ns[first]))} to {_iso(int(grid_ns[last]))} "
            f"({last - first + 1} step{'s' if last > first else ''}, {span:g} min"
            f"{', ' + where if where else ''}); {hint}",
        )
    if options.fill_method == "linear":
        for row in np.flatnonzero(missing.any(axis=1)):
            ok = valid[row]
            cube[row, ~ok] = np.interp(positions[~ok], positions[ok], cube[row, ok])
    else:
        rows = np.arange(n_series)[:, None]
        cube[:] = cube[rows, np.maximum(prev, 0)]
    notes.append(
        f"{source}: column '{metric}': filled {int(missing.sum())} missing samples "
        f"({options.fill_method}, gaps up to {options.fill_gaps_s / 60:g} min)"
    )


def _check_columns(
    frame: pd.DataFrame, spec: Spec, source: str, options: ProfileOptions, notes: list[str]
) -> list[str]:
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
    extra = [c for c in columns if c not in KEY_COLUMNS and c not in METRICS]
    if extra and options.strict:
        expected = ", ".join((*KEY_COLUMNS, *METRICS))
        raise InputError(source, f"column '{extra[0]}'", f"unknown column (expected {expected})")
    if extra:
        notes.append(
            f"{source}: ignoring column(s) {', '.join(repr(c) for c in extra)} "
            "(not a planner metric; --strict refuses them)"
        )
    return measured


def _codes(
    column: pd.Series,
    names: tuple[str, ...],
    what: str,
    fail: Callable[[int, str, str], InputError],
) -> npt.NDArray[np.int64]:
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.isna().any():
        codes = column.cat.codes.to_numpy()  # int8 or int16: no factorising, no copy
        uniques = column.cat.categories
    else:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
    labels = pd.Index([str(u).strip() for u in uniques])
    lookup = pd.Index(list(names)).get_indexer(labels)
    unknown = np.flatnonzero(lookup < 0)
    if unknown.size:
        used = np.isin(codes, unknown)
        if used.any():
            row = int(np.flatnonzero(used)[0])
            value = labels[codes[row]]
            raise fail(row, what, f"unknown {what} '{value}' (the spec has: {', '.join(names)})")
    return np.asarray(lookup.astype(np.int32)[codes], dtype=np.int32)


def parse_timestamps(
    column: pd.Series, fail: Callable[[int, str, str], InputError]
) -> npt.NDArray[np.int64]:
    """Parse each distinct timestamp once (a profile repeats every timestamp per series)."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        parsed = column.dt.tz_convert("UTC")
        if parsed.isna().any():
            row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
            raise fail(row, "timestamp", "missing timestamp")
        first, last = parsed.min(), parsed.max()
        if not (first.year >= FIRST_YEAR and last.year <= LAST_YEAR):
            _check_years(parsed.dt.year.to_numpy(), lambda i: str(column.iloc[i]), fail)
        # the epoch in the column's own unit (a view), scaled to nanoseconds: one new array
        unit = column.dtype.unit
        scale = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit]
        return np.asarray(column.array.asi8, dtype=np.int64) * scale
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
    years = parsed_unique.dt.year.to_numpy()[codes]
    _check_years(years, lambda i: str(text.iloc[codes[i]]), fail)
    utc_unique = parsed_unique.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]")
    return np.asarray(utc_unique.astype(np.int64)[codes], dtype=np.int64)


#: Timestamps are held as nanoseconds since 1970 in 64 bits: these years fit.
FIRST_YEAR, LAST_YEAR = 1678, 2261


def _check_years(
    years: npt.NDArray[np.integer[Any]],
    value: Callable[[int], str],
    fail: Callable[[int, str, str], InputError],
) -> None:
    outside = (years < FIRST_YEAR) | (years > LAST_YEAR)
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise fail(
            row,
            "timestamp",
            f"'{value(row)}' is outside the supported years {FIRST_YEAR} to {LAST_YEAR}",
        )


def parse_metric(
    column: pd.Series,
    name: str,
    fail: Callable[[int, str, str], InputError],
    *,
    allow_missing: bool = False,
) -> FloatArray:
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        text = column.astype(str).str.strip()
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
        bad_text = np.isnan(numbers) & ~text.str.lower().isin(["nan", "", "na", "null"]).to_numpy()
        if bad_text.any():
            row = int(np.flatnonzero(bad_text)[0])
            raise fail(row, name, f"expected a number, got '{text.iloc[row]}'")
    elif column.dtype == np.float64:
        numbers = column.to_numpy()  # a view: no copy of a float column
    elif pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        raise fail(0, name, f"expected numbers, got a column of type {column.dtype}")
    infinite = np.isinf(numbers)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise fail(row, name, f"expected a finite number, got {numbers[row]}")
    missing = np.isnan(numbers)
    if missing.any() and not allow_missing:
        row = int(np.flatnonzero(missing)[0])
        raise fail(
            row,
            name,
            "expected a finite number, got nan (a missing value: --fill-gaps fills short gaps)",
        )
    negative = numbers < 0  # NaN compares False
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        raise fail(row, name, f"expected a load >= 0, got {numbers[row]:g}")
    return numbers


def _iso(ns: int) -> str:
    return pd.Timestamp(ns, tz="UTC").isoformat()


def write_profile(
    frame: pd.DataFrame, path: Path, replaceable: Callable[[Path], bool] | None = None
) -> None:
    """Write a long-format profile to CSV or Parquet, atomically (temp file, then rename)."""

    def write(tmp: Path) -> None:
        if path.suffix.lower() == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")

    atomic_write(path, write, replaceable=replaceable, what="profile")
