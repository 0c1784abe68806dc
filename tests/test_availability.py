"""Monte Carlo availability against closed forms on simple cases."""

from __future__ import annotations

import math

import numpy as np

from planner.simulate.availability import OutageModel, SiteChain, simulate_years, summarise


def chain(runtime: float, move: float, move_fails: float, recovery: float = 0.0) -> SiteChain:
    return SiteChain(
        recovery_minutes=recovery,
        generator_fail_to_start=1.0,
        generator_fail_to_run_per_hour=0.0,
        detection_minutes=0.0,
        runtime_new_minutes=runtime,
        peukert_k=1.0,
        end_of_life_capacity=1.0,
        failover_p50_minutes=move,
        failover_p95_minutes=move,
        failover_failure_probability=move_fails,
    )


def test_monte_carlo_matches_closed_form_without_failover() -> None:
    """Exponential outages (rate L, mean m), generator always fails, no failover:
    downtime per outage (D - R)^+, so E[downtime per year] = L m exp(-R / m)."""
    rate, mean, runtime = 3.0, 40.0, 25.0
    down, longest = simulate_years(
        np.random.default_rng(1),
        200_000,
        OutageModel(rate, "exponential", mean_minutes=mean),
        (chain(runtime, 1.0, 1.0),),
    )
    result = summarise(down, longest)
    expected = rate * mean * math.exp(-runtime / mean)
    low, high = result.ci99_downtime_min
    assert low <= expected <= high
    assert high - low < 0.05 * expected  # the interval is tight enough to mean something


def test_monte_carlo_matches_closed_form_with_failover() -> None:
    """Failover always completes after T: per outage E[(min(T, D) - R)^+]
    = m (exp(-R / m) - exp(-T / m))."""
    rate, mean, runtime, move = 2.0, 30.0, 10.0, 45.0
    down, longest = simulate_years(
        np.random.default_rng(2),
        200_000,
        OutageModel(rate, "exponential", mean_minutes=mean),
        (chain(runtime, move, 0.0),),
    )
    result = summarise(down, longest)
    expected = rate * mean * (math.exp(-runtime / mean) - math.exp(-move / mean))
    low, high = result.ci99_downtime_min
    assert low <= expected <= high
    # No single outage can exceed T - R = 35 minutes here.
    assert result.p_outage_over_hour == 0.0
    assert longest.max() <= move - runtime + 1e-9


def test_reproducible_with_a_seed() -> None:
    model = OutageModel(0.4, "lognormal", p50_minutes=30, p95_minutes=240)
    runs = [
        simulate_years(np.random.default_rng(7), 10_000, model, (chain(10, 5, 0.1),))[0]
        for _ in range(2)
    ]
    assert np.array_equal(runs[0], runs[1])


def test_no_downtime_seen_gives_a_bound_not_a_zero_interval() -> None:
    down, longest = simulate_years(
        np.random.default_rng(3),
        1_000,
        OutageModel(0.1, "exponential", mean_minutes=1.0),
        (chain(1e9, 1.0, 0.0),),  # a battery that never runs out
    )
    result = summarise(down, longest)
    assert result.years_with_downtime == 0
    assert math.isnan(result.ci99_downtime_min[1])
    assert math.isnan(result.nines_ci99[0])
    assert result.p_downtime_year_upper99 == 1 - 0.01 ** (1 / 1_000)


def test_monte_carlo_matches_closed_form_with_recovery_and_regional_outages() -> None:
    """Generator always fails, every failover fails, a restart of Q minutes after a hard
    loss; each site has its own outages (rate L) and both share regional ones (rate L_r).
    Per outage reaching past the battery the work is down D - R + Q, so
    E[downtime per year] = (2 L + L_r) exp(-R / m) (m + Q): a regional outage counts
    once, not twice (the minutes are the same for both sites)."""
    rate, regional, mean, runtime, restart = 1.5, 0.5, 40.0, 25.0, 90.0
    down, longest = simulate_years(
        np.random.default_rng(4),
        200_000,
        OutageModel(rate, "exponential", mean_minutes=mean, regional_outages_per_year=regional),
        (chain(runtime, 1.0, 1.0, restart), chain(runtime, 1.0, 1.0, restart)),
    )
    result = summarise(down, longest)
    expected = (2 * rate + regional) * math.exp(-runtime / mean) * (mean + restart)
    low, high = result.ci99_downtime_min
    assert low <= expected <= high
    assert high - low < 0.05 * expected


def test_a_regional_outage_with_one_site_holding_costs_only_the_failover() -> None:
    """Regional outages only; site A's generator always fails and its failover lands after
    T; site B's generator never fails. Once dark, A is back only after the grid and a
    500-minute restart, so the failover decides: A's work is down from R to T whenever
    the outage outlasts the battery, E = L_r exp(-R / m) (T - R)."""
    regional, mean, runtime, move = 2.0, 30.0, 10.0, 45.0
    holding = SiteChain(
        generator_fail_to_start=0.0,
        generator_fail_to_run_per_hour=0.0,
        detection_minutes=0.0,
        runtime_new_minutes=runtime,
        peukert_k=1.0,
        end_of_life_capacity=1.0,
        failover_p50_minutes=move,
        failover_p95_minutes=move,
        failover_failure_probability=0.0,
    )
    down, longest = simulate_years(
        np.random.default_rng(6),
        200_000,
        OutageModel(0.0, "exponential", mean_minutes=mean, regional_outages_per_year=regional),
        (chain(runtime, move, 0.0, 500.0), holding),
    )
    result = summarise(down, longest)
    expected = regional * math.exp(-runtime / mean) * (move - runtime)
    low, high = result.ci99_downtime_min
    assert low <= expected <= high


def test_a_regional_day_without_generators_is_a_day_dark_however_fast_the_failover() -> None:
    """Every outage regional and exactly 24 h, no generator ever starts, failover perfect
    (lands in 1 minute, never fails): each site's work moves to a site that is itself on
    battery, and both go dark. Work is back only after the grid and the restart, so each
    outage costs D + Q - max(R_A, R_B) minutes, not 0."""
    regional, day, restart = 1.25, 1_440.0, 120.0
    runtimes = (30.0, 55.0)
    down, longest = simulate_years(
        np.random.default_rng(9),
        20_000,
        OutageModel(
            0.0, "lognormal", p50_minutes=day, p95_minutes=day, regional_outages_per_year=regional
        ),
        tuple(chain(r, 1.0, 0.0, restart) for r in runtimes),
    )
    result = summarise(down, longest)
    expected = regional * (day + restart - max(runtimes))
    low, high = result.ci99_downtime_min
    assert low <= expected <= high
    assert high - low < 0.05 * expected


def test_a_failover_onto_a_site_on_battery_lasts_only_until_that_site_goes_dark() -> None:
    """Regional outages only, both generators fail. Site A's battery lasts 10 min and its
    work moves in 5 min to B, whose battery lasts 40 min; B's failover never lands. A's
    work is up on B until B goes dark at 40, then down with B's own until the grid and
    the restart return: per outage D + Q - 40 minutes (every D here exceeds 40)."""
    regional, day, restart = 2.0, 600.0, 30.0
    down, longest = simulate_years(
        np.random.default_rng(10),
        20_000,
        OutageModel(
            0.0, "lognormal", p50_minutes=day, p95_minutes=day, regional_outages_per_year=regional
        ),
        (chain(10.0, 5.0, 0.0, restart), chain(40.0, 5.0, 1.0, restart)),
    )
    result = summarise(down, longest)
    expected = regional * (day + restart - 40.0)
    low, high = result.ci99_downtime_min
    assert low <= expected <= high
