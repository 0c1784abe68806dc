"""The required runtime: the whole risk of one grid failure, hand cases and properties."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.inputs.spec import GridOutages
from planner.power.risk import (
    as_was_survival_curve,
    grid_quantiles,
    required_runtime,
    risk_terms,
    survival_curve,
)
from planner.simulate.availability import SiteChain, survival_by_duration
from tests.conftest import power_spec


def test_hand_case_generator_never_starts_and_no_failover() -> None:
    """p_fts = 1, lambda = 0, every failover fails, exponential outages of mean 30 min:
    P_out(R) = exp(-R / 30), so R = 30 ln(1 / 0.01) = 138.155 min for a risk of 0.01."""
    power = power_spec(
        generator_fail_to_start=1.0,
        failover_failure_probability=1.0,
        accepted_risk=0.01,
        max_runtime_min=200.0,
    )
    decided = required_runtime(power)
    assert decided.met
    assert decided.minutes == pytest.approx(30 * math.log(100), abs=1e-3)
    short = required_runtime(dataclasses.replace(power, max_runtime_min=100.0))
    assert not short.met
    assert short.minutes == 100.0
    assert "not met by battery alone" in short.deciding
    assert "something other than batteries" in short.reason


def test_the_example_counts_every_term() -> None:
    """The example's inputs: the fail-to-run rate, the failover's failure chance and its
    time and the grid's return all enter; the old formula (fail-to-start only, no grid
    return) would give the same runtime whatever the first two were."""
    base = power_spec(
        generator_fail_to_start=0.0094,
        generator_fail_to_run_per_hour=0.00157,
        failover_failure_probability=0.01,
        failover_p50_min=4,
        failover_p95_min=10,
        shutdown_min=6,
        grid=GridOutages(0.4, "lognormal", p50_minutes=30, p95_minutes=240),
    )
    r = required_runtime(base).minutes
    worse_failover = required_runtime(dataclasses.replace(base, failover_failure_probability=0.02))
    worse_run = required_runtime(dataclasses.replace(base, generator_fail_to_run_per_hour=0.01))
    assert worse_failover.minutes > r
    assert worse_run.minutes > r
    terms = required_runtime(base).risk
    assert terms.total == pytest.approx(1e-4, rel=1e-3)
    assert terms.fail_to_run > 0
    assert terms.fail_to_start > 0


def _runtime(**changes: float) -> float:
    power = power_spec(
        generator_fail_to_start=0.0094,
        generator_fail_to_run_per_hour=0.00157,
        failover_failure_probability=0.01,
        grid=GridOutages(0.4, "lognormal", p50_minutes=30, p95_minutes=240),
        max_runtime_min=600.0,
    )
    return required_runtime(dataclasses.replace(power, **changes)).minutes


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 0.2), st.floats(0.0, 0.2))
def test_battery_never_shrinks_as_failover_fails_more_often(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert (
        _runtime(failover_failure_probability=high)
        >= _runtime(failover_failure_probability=low) - 1e-6
    )


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 0.05), st.floats(0.0, 0.05))
def test_battery_never_shrinks_as_the_generator_fails_to_run_more(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert (
        _runtime(generator_fail_to_run_per_hour=high)
        >= _runtime(generator_fail_to_run_per_hour=low) - 1e-6
    )


@settings(max_examples=30, deadline=None)
@given(st.floats(1.0, 600.0), st.floats(1.0, 600.0))
def test_risk_falls_as_runtime_grows(a: float, b: float) -> None:
    power = power_spec(generator_fail_to_run_per_hour=0.002, failover_failure_probability=0.01)
    durations = grid_quantiles(power.grid)
    low, high = sorted((a, b))
    assert risk_terms(power, high, durations).total <= risk_terms(power, low, durations).total


def test_survival_curve_matches_the_monte_carlo() -> None:
    """The closed-form chance of no clinical downtime in an outage of X hours, against the
    simulation of the same chain (new battery, fixed runtime), within 4 standard errors."""
    power = power_spec(
        generator_fail_to_start=0.2,
        generator_fail_to_run_per_hour=0.05,
        failover_failure_probability=0.3,
        failover_p50_min=5,
        failover_p95_min=12,
        shutdown_min=5,
    )
    runtime = 15.0
    hours = (0.1, 0.5, 2.0, 8.0)
    closed = survival_curve(power, runtime, hours)
    chain = SiteChain(
        generator_fail_to_start=0.2,
        generator_fail_to_run_per_hour=0.05,
        detection_minutes=0.25,
        runtime_new_minutes=runtime,
        peukert_k=0.0,
        end_of_life_capacity=1.0,
        failover_p50_minutes=5,
        failover_p95_minutes=12,
        failover_failure_probability=0.3,
    )
    n = 200_000
    simulated = survival_by_duration(np.random.default_rng(5), chain, hours, n)
    for p, q in zip(closed, simulated, strict=True):
        se = math.sqrt(max(p * (1 - p), 1e-6) / n)
        # the closed form counts a failover too late when d + T + s > R; the simulation
        # only needs d + T <= R (the shutdown need not finish): the closed form is the
        # more cautious of the two by at most P(R - s < d + T <= R)
        assert q >= p - 4 * se
        assert q - p < 0.2
    assert closed[0] == 1.0  # shorter than the battery
    old = as_was_survival_curve(power, hours)
    assert all(o <= s for o, s in zip(old, closed, strict=True))


def test_the_regional_survival_curve_matches_the_monte_carlo_of_a_regional_outage() -> None:
    """Both sites lose the grid for exactly X hours: the closed form against the
    simulation's regional kernel (no shutdown time, so both count a failover too late
    alike), and below the one-site curve once both sites can go dark."""
    from planner.power.risk import regional_survival_curve
    from planner.simulate.availability import regional_survival_by_duration

    power = power_spec(
        generator_fail_to_start=0.3,
        generator_fail_to_run_per_hour=0.05,
        failover_failure_probability=0.2,
        failover_p50_min=5,
        failover_p95_min=12,
        shutdown_min=0,
    )
    runtimes = (15.0, 25.0)
    hours = (0.1, 0.5, 2.0, 8.0)
    closed = regional_survival_curve(power, runtimes, hours)
    chains = tuple(
        SiteChain(
            generator_fail_to_start=0.3,
            generator_fail_to_run_per_hour=0.05,
            detection_minutes=(power.generator_start_s + power.generator_transfer_s) / 60.0,
            runtime_new_minutes=r,
            peukert_k=0.0,
            end_of_life_capacity=1.0,
            failover_p50_minutes=5,
            failover_p95_minutes=12,
            failover_failure_probability=0.2,
        )
        for r in runtimes
    )
    n = 200_000
    simulated = regional_survival_by_duration(np.random.default_rng(3), chains, hours, n)
    for p, q in zip(closed, simulated, strict=True):
        se = math.sqrt(max(p * (1 - p), 1e-6) / n)
        assert abs(q - p) < 4 * se + 1e-3
    assert closed[0] == 1.0
    one_site = survival_curve(power, min(runtimes), hours)
    assert all(r <= o + 1e-12 for r, o in zip(closed, one_site, strict=True))
    assert closed[-1] < one_site[-1] - 0.05  # both dark: lost however fast the failover
