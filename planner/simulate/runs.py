"""One availability run of a plan, the same for every command that shows it.

`planner simulate availability` and `planner report` both call :func:`run_availability`
with the same defaults (``YEARS`` years, seed ``SEED``, the same chunks), so a report
prints exactly the figure the command prints for the same plan, years and seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from planner.inputs.spec import Spec
from planner.power.risk import SURVIVAL_HOURS
from planner.simulate import SEED, YEARS
from planner.simulate.availability import (
    AvailabilityResult,
    regional_survival_by_duration,
    simulate_years,
    summarise,
    survival_by_duration,
)
from planner.simulate.plan_fleet import as_was_chain, outage_model, sized_chains

CHUNKS = 20  # the Monte Carlo runs in chunks, whether or not a progress bar is shown
SURVIVAL_SAMPLES = 200_000  # outages per duration for the survival curve


@dataclass(frozen=True)
class DesignRun:
    result: AvailabilityResult
    survival: list[float]  # P(no clinical downtime) per SURVIVAL_HOURS, one site's grid lost
    regional_survival: list[float]  # the same with both sites' grid lost at once

    @property
    def downtime_per_year(self) -> npt.NDArray[np.float64]:
        return self.result.downtime_per_year


def run_availability(
    spec: Spec,
    plan: dict[str, Any],
    years: int = YEARS,
    seed: int = SEED,
    progress: Callable[[Sequence[int], str], Iterable[int]] = lambda it, _: it,
) -> dict[str, DesignRun]:
    """The sized design (both sites) and the as-was design: {"sized": ..., "as-was": ...}."""
    power = spec.power
    assert power is not None
    rng = np.random.default_rng(seed)
    designs = {"sized": sized_chains(spec, plan), "as-was": (as_was_chain(power),)}
    chunk = -(-years // CHUNKS)
    parts: dict[str, list[tuple[Any, Any]]] = {name: [] for name in designs}
    # the same chunks whether or not a bar is shown, so a seed gives the same numbers
    for start in progress(range(0, years, chunk), f"simulating {years:,} years"):
        n = min(chunk, years - start)
        for name, chains in designs.items():
            parts[name].append(simulate_years(rng, n, outage_model(power), chains))
    results = {
        name: summarise(
            np.concatenate([d for d, _ in parts[name]]), np.concatenate([m for _, m in parts[name]])
        )
        for name in designs
    }
    return {
        name: DesignRun(
            results[name],
            survival_by_duration(rng, chains[0], SURVIVAL_HOURS, SURVIVAL_SAMPLES),
            regional_survival_by_duration(rng, chains, SURVIVAL_HOURS, SURVIVAL_SAMPLES),
        )
        for name, chains in designs.items()
    }
