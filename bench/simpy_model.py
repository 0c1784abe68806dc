"""A SimPy discrete-event model of the availability simulation's system, for comparison.

The same assumptions as ``planner.simulate.availability`` for each site's own grid
outages: Poisson arrivals, lognormal or exponential durations, the generator failing to
start or while running, a battery of random age, a failover that takes a lognormal time
or fails, a restart after a hard power loss. One SimPy process per outage races the
grid's return, the battery and the failover as events. (Regional outages, which take
both sites at once, are left out here: the comparison runs with their rate at zero.)

    .venv/bin/python bench/simpy_model.py PLAN YEARS [SPEC]   # JSON: downtime, rate
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np
import simpy

from planner.power.battery import lognormal_from_p50_p95
from planner.simulate.availability import OutageModel, SiteChain

MINUTES_PER_YEAR = 525_600.0


def simulate(
    rng: np.random.Generator, years: int, outages: OutageModel, sites: tuple[SiteChain, ...]
) -> np.ndarray:
    """Clinical downtime [min] per simulated year, summed over the sites."""
    env = simpy.Environment()
    downtime = np.zeros(years)

    def duration() -> float:
        if outages.distribution == "exponential":
            return float(rng.exponential(outages.mean_minutes))
        mu, sigma = lognormal_from_p50_p95(outages.p50_minutes, outages.p95_minutes)
        return float(rng.lognormal(mu, sigma))

    def outage(chain: SiteChain, year: int, length: float):  # type: ignore[no-untyped-def]
        fails_start = rng.random() < chain.generator_fail_to_start
        rate = chain.generator_fail_to_run_per_hour / 60.0
        gone = 0.0 if fails_start else (rng.exponential(1.0 / rate) if rate > 0 else math.inf)
        if gone >= length:
            return
        yield env.timeout(gone)
        age = rng.random()
        capacity = 1.0 - (1.0 - chain.end_of_life_capacity) * age
        runtime = chain.runtime_new_minutes * capacity**chain.peukert_k
        mu, sigma = lognormal_from_p50_p95(chain.failover_p50_minutes, chain.failover_p95_minutes)
        move = chain.detection_minutes + float(rng.lognormal(mu, sigma))
        move_fails = rng.random() < chain.failover_failure_probability
        grid_back = env.timeout(length - gone)
        battery_out = env.timeout(runtime)
        fired = yield grid_back | battery_out
        if grid_back in fired:
            return  # the grid returned before the battery ran out
        dark_at = env.now
        power_back = env.timeout(length - gone - runtime + chain.recovery_minutes)
        if move_fails:
            yield power_back
        elif move <= runtime:
            return  # the work moved before the site went dark
        else:
            yield power_back | env.timeout(move - runtime)
        downtime[year] += env.now - dark_at

    def arrivals(chain: SiteChain):  # type: ignore[no-untyped-def]
        mean_gap = MINUTES_PER_YEAR / outages.outages_per_year
        while True:
            yield env.timeout(float(rng.exponential(mean_gap)))
            year = int(env.now // MINUTES_PER_YEAR)
            if year >= years:
                return
            env.process(outage(chain, year, duration()))

    for chain in sites:
        if outages.outages_per_year > 0:
            env.process(arrivals(chain))
    env.run()
    return downtime


def main() -> None:
    """Run the model on a plan's sized design for YEARS years, loading it as the planner's
    command does (the plan, its spec's power section): the whole command, timed by the
    caller, and the simulation alone, timed here."""
    from pathlib import Path

    from planner.inputs.example import example_spec_path
    from planner.inputs.spec import read_spec
    from planner.outputs.plan import read_plan
    from planner.simulate.plan_fleet import outage_model, sized_chains

    plan = read_plan(Path(sys.argv[1]))
    years = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    spec = read_spec(Path(sys.argv[3]) if len(sys.argv) > 3 else example_spec_path())
    assert spec.power is not None
    chains = sized_chains(spec, plan)
    model = outage_model(spec.power)
    started = time.perf_counter()
    down = simulate(np.random.default_rng(1), years, model, chains)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "years": years,
                "sites": len(chains),
                "seconds": seconds,
                "site_years_per_s": years * len(chains) / seconds,
                "mean_downtime_min": float(down.mean()),
            }
        )
    )


if __name__ == "__main__":
    main()
