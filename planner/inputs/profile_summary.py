"""What a profile holds, per site and workload, without a spec: for a user to check what
was pulled or exported before sizing on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import InputError
from planner.inputs.profiles import KEY_COLUMNS, parse_metric, parse_timestamps, read_frame
from planner.inputs.units import METRICS


def summarise_profile(path: Path) -> list[str]:
    """Lines: per (site, workload) the range, step and missing steps; per metric the
    peak and the 50th, 95th and 99th percentiles (nearest rank)."""
    frame, label, notes = read_frame(path)
    for column in KEY_COLUMNS:
        if column not in frame.columns:
            raise InputError(str(path), f"column '{column}'", "required column is missing")
    if frame.empty:
        raise InputError(str(path), "", "no data rows")

    def fail(row: int, column: str, expected: str) -> InputError:
        return InputError(str(path), f"{label(row)}, column '{column}'", expected)

    stamps = parse_timestamps(frame["timestamp"], fail)
    metrics = [m for m in METRICS if m in frame.columns]
    values = {m: parse_metric(frame[m], m, fail, allow_missing=True) for m in metrics}
    sites = frame["site"].astype(str).str.strip().to_numpy()
    workloads = frame["workload"].astype(str).str.strip().to_numpy()
    lines = [f"{path}: {len(frame):,} rows, metrics: {', '.join(metrics) or 'none'}"]
    lines += [f"note: {n}" for n in notes]
    for site, workload in sorted(set(zip(sites, workloads, strict=True))):
        rows = np.flatnonzero((sites == site) & (workloads == workload))
        ts = np.sort(stamps[rows])
        steps = np.diff(ts)
        step_s = float(np.median(steps[steps > 0])) / 1e9 if (steps > 0).any() else 0.0
        expected = round((ts[-1] - ts[0]) / 1e9 / step_s) + 1 if step_s else len(ts)
        lines.append(
            f"{site} / {workload}: {_iso(int(ts[0]))} to {_iso(int(ts[-1]))}, step "
            f"{step_s:g} s, {len(ts):,} samples, {max(0, expected - len(ts)):,} missing steps"
        )
        for metric in metrics:
            series = values[metric][rows]
            present = series[np.isfinite(series)]
            empty = len(series) - len(present)
            if present.size == 0:
                lines.append(f"  {metric:<12} no values")
                continue
            p50, p95, p99 = (np.percentile(present, q, method="inverted_cdf") for q in (50, 95, 99))
            lines.append(
                f"  {metric:<12} peak {present.max():,.3f}  p99 {p99:,.3f}  p95 {p95:,.3f}  "
                f"p50 {p50:,.3f}" + (f"  ({empty:,} empty cells)" if empty else "")
            )
    return lines


def _iso(ns: int) -> str:
    return pd.Timestamp(ns, tz="UTC").isoformat()
