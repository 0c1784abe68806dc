"""Benchmark of the availability Monte Carlo: simulated site-years per second.

Runs the bundled example's sized design (two sites) for growing numbers of years, in one
process, and prints the throughput. Figures are printed, never asserted.

    .venv/bin/python bench/bench_availability.py
"""

from __future__ import annotations

import time

import numpy as np

from planner.jobs.size import SizeInputs, run_size
from planner.simulate.availability import simulate_years, summarise
from planner.simulate.plan_fleet import outage_model, sized_chains


def main() -> None:
    result = run_size(SizeInputs.bundled())
    power = result.spec.power
    assert power is not None
    chains = sized_chains(result.spec, result.plan)
    model = outage_model(power)
    for years in (100_000, 1_000_000, 10_000_000):
        rng = np.random.default_rng(1)
        started = time.perf_counter()
        down, longest = simulate_years(rng, years, model, chains)
        summary = summarise(down, longest)
        seconds = time.perf_counter() - started
        site_years = years * len(chains)
        print(
            f"{years:>11,} years x {len(chains)} sites: {seconds:6.2f} s, "
            f"{site_years / seconds:,.0f} site-years/s; downtime "
            f"{summary.mean_downtime_min:.4f} min/year"
        )


if __name__ == "__main__":
    main()
