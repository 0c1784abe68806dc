"""The report's what-if section, from a sweep's table: a tornado of each varied input's
effect on TCO and availability, and the cheapest plan for each input's every value.

Effects are main effects: for each varied input, the median over the feasible scenarios
at each of its values; the bar spans the lowest to the highest of those medians. In a full
factorial sweep (or a Latin hypercube sample) every value meets the same mix of the
others, so the bars compare like with like."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import InputError

INPUT_PREFIX = "in:"


@dataclass(frozen=True)
class Effect:
    key: str
    low: float  # the lowest median over the input's values
    high: float
    low_at: str  # the value giving ``low``
    high_at: str


@dataclass(frozen=True)
class Alternative:
    key: str
    value: str
    scenarios: int  # feasible scenarios with this value
    tco: float | None  # the cheapest of them (None: none feasible)
    difference: float | None  # against the chosen plan's TCO
    fleet: str  # servers per site of the cheapest


@dataclass(frozen=True)
class WhatIf:
    scenarios: int
    failed: int
    tco: tuple[Effect, ...]
    downtime: tuple[Effect, ...]
    alternatives: tuple[Alternative, ...]


def read_sweep(folder: Path) -> Any:
    """The table `planner sweep` wrote into ``folder`` (sweep.parquet)."""
    import pandas as pd

    path = folder / "sweep.parquet"
    if not path.is_file():
        raise InputError(str(folder), "sweep.parquet", "expected the folder `planner sweep` wrote")
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # truncated, or not Parquet at all
        raise InputError(str(path), "", f"not a readable Parquet sweep table ({exc})") from None
    for column in ("scenario", "status", "tco"):
        if column not in frame.columns:
            raise InputError(str(path), f"column '{column}'", "expected a sweep table")
    if not pd.api.types.is_numeric_dtype(frame["tco"]):
        raise InputError(str(path), "column 'tco'", f"expected numbers, got {frame['tco'].dtype}")
    return frame


def _inputs(frame: Any) -> list[str]:
    """The table's varied-input columns."""
    return [c for c in frame.columns if c.startswith(INPUT_PREFIX)]


def _effects(frame: Any, metric: str) -> tuple[Effect, ...]:
    ok = frame[frame["status"] == "ok"]
    out = []
    if metric not in ok.columns:
        return ()
    for column in _inputs(frame):
        medians = ok.groupby(column, sort=True)[metric].median().dropna()
        if len(medians) < 2:
            continue
        out.append(
            Effect(
                column.removeprefix(INPUT_PREFIX),
                float(medians.min()),
                float(medians.max()),
                str(medians.idxmin()),
                str(medians.idxmax()),
            )
        )
    return tuple(sorted(out, key=lambda e: (-(e.high - e.low), e.key)))


def what_if(frame: Any, chosen_tco: float, sites: tuple[str, ...]) -> WhatIf:
    ok = frame[frame["status"] == "ok"]
    alternatives = []
    for column in _inputs(frame):
        key = column.removeprefix(INPUT_PREFIX)
        for value in sorted(frame[column].astype(str).unique()):
            rows = ok[ok[column].astype(str) == value]
            if rows.empty:
                alternatives.append(Alternative(key, value, 0, None, None, "infeasible"))
                continue
            best = rows.sort_values(["tco", "scenario"]).iloc[0]
            fleet = ", ".join(
                f"{site} {int(best[f'{site}:servers'])} servers"
                for site in sites
                if f"{site}:servers" in rows.columns
            )
            alternatives.append(
                Alternative(
                    key,
                    value,
                    len(rows),
                    float(best["tco"]),
                    float(best["tco"]) - chosen_tco,
                    fleet,
                )
            )
    return WhatIf(
        scenarios=len(frame),
        failed=int((frame["status"] != "ok").sum()),
        tco=_effects(frame, "tco"),
        downtime=_effects(frame, "downtime_min_per_year"),
        alternatives=tuple(alternatives),
    )
