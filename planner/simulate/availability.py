"""Monte Carlo availability: many simulated years of grid outages, vectorised (numpy).

Per site-year: outages ~ Poisson(rate) (drawn as one Poisson count over all the years,
each outage in a uniformly drawn year: the same law); each outage lasts D (lognormal by p50/p95, or
exponential). The generator fails to start with p_fts, or fails while running after an
exponential time (rate per hour). Once the generator is gone the battery carries the
site for R = R_new x c^k minutes (c: remaining capacity of a battery of random age,
uniform between new and end of life; k the exponent that maps the plan's new and
end-of-life runtimes onto each other). If the grid returns first, nothing happens.
Otherwise the site goes dark at t_gen + R, and comes back only after the grid returns
and the restart after a hard power loss (core network, storage, databases,
applications: ``recovery_minutes``) is done. Its clinical work moves to the other site
after T (lognormal by p50/p95, plus the time it takes to notice the generator failed);
the move fails outright with p_ff. Clinical downtime of one outage, with G = D - t_gen:

    0                                       if G <= R
    G + recovery - R                        if the failover fails
    max(0, min(T, G + recovery) - R)        otherwise

A **regional** outage (rate ``regional_outages_per_year``) takes the grid from both
sites at once for the same D; each site's generator, battery and failover play out
independently. A site's work moved to the other site runs only while that site has
power itself: a failover onto a site on battery lasts until that site goes dark, and
work that lands on a dark site waits for it (or its own site) to come back. The year's
downtime counts the minutes in which either site's clinical work is down (the union of
the two works' down intervals). With both generators failed and both batteries flat,
both works are down until the grid and the restart return, however fast the failover.

The as-was design is the same kernel with one site, a fixed battery runtime and the
cold standby's activation time and failure probability in place of the failover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from planner.power.battery import lognormal_from_p50_p95

MINUTES_PER_YEAR = 525_600.0
Z99 = 2.5758293035489004


@dataclass(frozen=True)
class OutageModel:
    outages_per_year: float
    distribution: str  # "exponential" or "lognormal"
    mean_minutes: float = 0.0
    p50_minutes: float = 0.0
    p95_minutes: float = 0.0
    regional_outages_per_year: float = 0.0


@dataclass(frozen=True)
class SiteChain:
    """One site's power chain and the failover that rescues it."""

    generator_fail_to_start: float
    generator_fail_to_run_per_hour: float
    detection_minutes: float
    runtime_new_minutes: float
    peukert_k: float
    end_of_life_capacity: float
    failover_p50_minutes: float
    failover_p95_minutes: float
    failover_failure_probability: float
    recovery_minutes: float = 0.0


@dataclass(frozen=True)
class AvailabilityResult:
    years: int
    mean_downtime_min: float
    ci99_downtime_min: tuple[float, float]
    availability: float
    nines: float
    nines_ci99: tuple[float, float]
    p_outage_over_hour: float
    downtime_per_year: npt.NDArray[np.float64]
    years_with_downtime: int
    p_downtime_year_upper99: float


def _durations(rng: np.random.Generator, model: OutageModel, n: int) -> npt.NDArray[np.float64]:
    if model.distribution == "exponential":
        return rng.exponential(model.mean_minutes, n)
    mu, sigma = lognormal_from_p50_p95(model.p50_minutes, model.p95_minutes)
    return rng.lognormal(mu, sigma, n)


_Times = npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Outcomes:
    """One site's fate in n outages: when it goes dark (inf: never), when its clinical
    work runs again, and the clinical downtime those give."""

    dark_at: npt.NDArray[np.float64]
    back_at: npt.NDArray[np.float64]
    moved_at: npt.NDArray[np.float64]  # the failover lands (inf: it fails)
    power_back_at: npt.NDArray[np.float64]


def _site_outcomes(
    rng: np.random.Generator, chain: SiteChain, duration: npt.NDArray[np.float64]
) -> _Outcomes:
    n = duration.shape[0]
    fails_start = rng.random(n) < chain.generator_fail_to_start
    rate_per_min = chain.generator_fail_to_run_per_hour / 60.0
    run_fail_at = rng.exponential(1.0 / rate_per_min, n) if rate_per_min > 0 else np.full(n, np.inf)
    gen_gone_at = np.where(fails_start, 0.0, run_fail_at)
    # only the outages the generator does not carry to the end need the battery, the
    # failover and the restart: draw those for them alone
    exposed = np.flatnonzero(gen_gone_at < duration)
    m = exposed.shape[0]
    gone, length = gen_gone_at[exposed], duration[exposed]
    age = rng.random(m)
    capacity = 1.0 - (1.0 - chain.end_of_life_capacity) * age
    runtime = chain.runtime_new_minutes * capacity**chain.peukert_k
    mu, sigma = lognormal_from_p50_p95(chain.failover_p50_minutes, chain.failover_p95_minutes)
    move = chain.detection_minutes + rng.lognormal(mu, sigma, m)
    move_fails = rng.random(m) < chain.failover_failure_probability
    goes_dark = length - gone > runtime
    dark_at = np.full(n, np.inf)
    back_at = np.full(n, np.inf)
    moved_at = np.full(n, np.inf)
    dark_at[exposed] = np.where(goes_dark, gone + runtime, np.inf)
    power_back = duration + chain.recovery_minutes
    moved_at[exposed] = np.where(move_fails, np.inf, gone + move)
    back_at[exposed] = np.where(
        goes_dark, np.minimum(moved_at[exposed], power_back[exposed]), np.inf
    )
    return _Outcomes(dark_at, back_at, moved_at, power_back)


def _downtime(o: _Outcomes) -> npt.NDArray[np.float64]:
    dark = np.isfinite(o.dark_at)
    out = np.zeros(o.dark_at.shape[0])
    out[dark] = np.maximum(o.back_at[dark] - o.dark_at[dark], 0.0)
    return out


def simulate_years(
    rng: np.random.Generator, years: int, outages: OutageModel, sites: tuple[SiteChain, ...]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Downtime minutes per year, and the longest single clinical outage per year."""
    total = np.zeros(years)
    longest = np.zeros(years)

    def add(year_of: npt.NDArray[np.int64], downtime: npt.NDArray[np.float64]) -> None:
        nonlocal total
        total += np.bincount(year_of, weights=downtime, minlength=years)
        hit = downtime > 0
        np.maximum.at(longest, year_of[hit], downtime[hit])

    # A Poisson process over `years` years: N ~ Poisson(rate x years) outages, each in a
    # uniformly drawn year (the same law as a Poisson count per year, in one draw).
    for chain in sites:
        n = int(rng.poisson(outages.outages_per_year * years))
        if n == 0:
            continue
        year_of = rng.integers(0, years, n)
        add(year_of, _downtime(_site_outcomes(rng, chain, _durations(rng, outages, n))))
    if outages.regional_outages_per_year > 0:
        n = int(rng.poisson(outages.regional_outages_per_year * years))
        if n:
            year_of = rng.integers(0, years, n)
            duration = _durations(rng, outages, n)
            if len(sites) == 2:
                add(year_of, _regional_downtime(rng, sites, duration))
            else:
                add(year_of, _downtime(_site_outcomes(rng, sites[0], duration)))
    return total, longest


def _work_down(
    mine: _Outcomes, other: _Outcomes
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]:
    """The minutes in which one site's clinical work is down when both sites lose the grid:
    up to two intervals [s1, e1) and [s2, e2) per outage (empty: s >= e).

    The work runs at home until the home site goes dark (at ``dark``), and again once the
    home site is back (``P``). In between it runs on the other site only from the moment
    the failover lands (``M``) and only while that site has power: before it goes dark
    (``D'``) or after it is back (``P'``). So, with Q = max(M, P'):

        down = [dark, min(P, M))  u  [max(dark, M, D'), min(P, Q))
    """
    dark = mine.dark_at
    home_back = np.where(np.isfinite(dark), mine.power_back_at, -np.inf)
    s1, e1 = dark, np.minimum(home_back, mine.moved_at)
    s2 = np.maximum(np.maximum(dark, mine.moved_at), other.dark_at)
    e2 = np.minimum(home_back, np.maximum(mine.moved_at, other.power_back_at))
    return s1, e1, s2, e2


def _union_minutes(
    starts: list[npt.NDArray[np.float64]], ends: list[npt.NDArray[np.float64]]
) -> npt.NDArray[np.float64]:
    """The length of the union of k intervals per row (empty ones, s >= e, count nothing)."""
    s = np.stack(starts, axis=1)
    e = np.stack(ends, axis=1)
    empty = ~(e > s)
    s = np.where(empty, np.inf, s)
    e = np.where(empty, 0.0, e)
    order = np.argsort(s, axis=1, kind="stable")
    s = np.take_along_axis(s, order, axis=1)
    e = np.take_along_axis(e, order, axis=1)
    total = np.zeros(s.shape[0])
    reach = np.full(s.shape[0], -np.inf)  # the end of what is counted so far
    for k in range(s.shape[1]):
        real = np.isfinite(s[:, k])
        begin = np.maximum(s[:, k], reach)
        total += np.where(real, np.maximum(e[:, k] - begin, 0.0), 0.0)
        reach = np.where(real, np.maximum(reach, e[:, k]), reach)
    return total


def _regional_downtime(
    rng: np.random.Generator, sites: tuple[SiteChain, ...], duration: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Minutes in which either site's clinical work is down, both sites losing the grid
    (the union of the two works' down intervals, :func:`_work_down`)."""
    a, b = (_site_outcomes(rng, chain, duration) for chain in sites)
    a1, a2, a3, a4 = _work_down(a, b)
    b1, b2, b3, b4 = _work_down(b, a)
    return _union_minutes([a1, a3, b1, b3], [a2, a4, b2, b4])


def survival_by_duration(
    rng: np.random.Generator, chain: SiteChain, hours: tuple[float, ...], samples: int
) -> list[float]:
    """P(no clinical downtime) in a grid outage of exactly X hours at one site, per X."""
    out = []
    for h in hours:
        downtime = _downtime(_site_outcomes(rng, chain, np.full(samples, 60.0 * h)))
        out.append(float(np.mean(downtime <= 0.0)))
    return out


def regional_survival_by_duration(
    rng: np.random.Generator, chains: tuple[SiteChain, ...], hours: tuple[float, ...], samples: int
) -> list[float]:
    """P(no clinical downtime) in a grid outage of exactly X hours at both sites at once,
    per X (one site: the same as :func:`survival_by_duration`)."""
    if len(chains) != 2:
        return survival_by_duration(rng, chains[0], hours, samples)
    out = []
    for h in hours:
        downtime = _regional_downtime(rng, chains, np.full(samples, 60.0 * h))
        out.append(float(np.mean(downtime <= 0.0)))
    return out


def summarise(
    downtime: npt.NDArray[np.float64], longest: npt.NDArray[np.float64]
) -> AvailabilityResult:
    """Mean downtime with a 99 % confidence interval (normal approximation), in nines.

    When no simulated year had any downtime the sample says nothing about the minutes:
    the interval's upper end is then NaN (shown as "n/a"), and
    ``p_downtime_year_upper99`` = 1 - 0.01^(1/N) bounds how rare such years are.
    """
    years = int(downtime.shape[0])
    mean = float(downtime.mean())
    hit = int(np.count_nonzero(downtime > 0))
    if hit == 0:
        low, high = 0.0, math.nan
    else:
        half = Z99 * float(downtime.std(ddof=1)) / math.sqrt(years) if years > 1 else math.inf
        low, high = max(0.0, mean - half), mean + half
    return AvailabilityResult(
        years=years,
        mean_downtime_min=mean,
        ci99_downtime_min=(low, high),
        availability=1.0 - mean / MINUTES_PER_YEAR,
        nines=_nines(mean),
        nines_ci99=(_nines(high), _nines(low)),
        p_outage_over_hour=float(np.mean(longest > 60.0)),
        downtime_per_year=downtime,
        years_with_downtime=hit,
        p_downtime_year_upper99=(
            1.0 - 0.01 ** (1.0 / years) if hit == 0 else _wilson_upper(hit, years)
        ),
    )


def _wilson_upper(hits: int, n: int) -> float:
    """Upper end of the 99 % Wilson score interval for a proportion hits / n."""
    p = hits / n
    z2 = Z99 * Z99
    centre = p + z2 / (2 * n)
    spread = Z99 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (centre + spread) / (1 + z2 / n)


def _nines(downtime_min: float) -> float:
    """-log10(unavailability); infinite when no downtime was seen, NaN when unknown."""
    if math.isnan(downtime_min):
        return math.nan
    if downtime_min <= 0:
        return math.inf
    return -math.log10(downtime_min / MINUTES_PER_YEAR)
