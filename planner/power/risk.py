"""How long the battery must carry a site: the whole risk of one grid failure.

Per grid failure at a site, with battery runtime R [min], a clinical outage needs the
generator to be lost and the battery to run out before both the grid's return and a
clean failover:

* the generator fails to start (probability p_fts): the battery carries from t = 0;
  or it starts and fails while running, after F ~ Exp(lambda per hour): the battery
  carries from t = F (recharged while the generator ran);
* the grid returns after D (the spec's outage duration distribution): the outage
  needs D > t_loss + R;
* the failover moves the site's clinical work away after noticing the loss (d = start +
  transfer time) and moving (T ~ lognormal(p50, p95)), then the site shuts down cleanly
  (s); it fails outright with p_ff. It is too late when d + T + s > R:
  B(R) = p_ff + (1 - p_ff) P(d + T + s > R).

    P_out(R) = [p_fts P(D > R) + (1 - p_fts) P(F < D - R)] x B(R)

P(D > R) and P(F < D - R) = E[1 - exp(-lambda (D - R)+ / 60)] are integrated over D
(closed form for the survival function, a fixed quantile grid of D for the expectation).
The required runtime is the least R >= the generator bridge (start + transfer +
stabilisation) with P_out(R) <= the accepted risk, found by bisection: P_out falls as R
grows, and rises with p_fts, lambda, p_ff and T, so the runtime rises with them too.
When even the longest runtime the spec allows (``max_runtime_minutes``) leaves P_out
above the risk, the plan says so and sizes for that longest runtime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from planner.inputs.spec import GridOutages, PowerSpec
from planner.power.battery import lognormal_from_p50_p95

QUANTILES = 4000  # points of D's quantile grid for the expectations


@dataclass(frozen=True)
class RiskTerms:
    """P_out(R) and its parts at one runtime."""

    runtime_min: float
    fail_to_start: float  # p_fts P(D > R) B(R)
    fail_to_run: float  # (1 - p_fts) P(F < D - R) B(R)
    failover_too_late: float  # B(R)

    @property
    def total(self) -> float:
        return self.fail_to_start + self.fail_to_run


@dataclass(frozen=True)
class RequiredRuntime:
    """The runtime a site's battery must give, and why."""

    minutes: float
    bridge_minutes: float
    risk: RiskTerms
    accepted_risk: float
    met: bool
    deciding: str
    reason: str


def grid_survival(grid: GridOutages, minutes: float) -> float:
    """P(D > minutes): the grid is still out after ``minutes``."""
    if minutes <= 0:
        return 1.0
    if grid.distribution == "exponential":
        return math.exp(-minutes / grid.mean_minutes)
    mu, sigma = lognormal_from_p50_p95(grid.p50_minutes, grid.p95_minutes)
    if sigma == 0:
        return 1.0 if grid.p50_minutes > minutes else 0.0
    return 1.0 - NormalDist().cdf((math.log(minutes) - mu) / sigma)


def grid_quantiles(grid: GridOutages) -> np.ndarray:
    """Outage durations [min] at evenly spaced probabilities (midpoints), for expectations."""
    p = (np.arange(QUANTILES) + 0.5) / QUANTILES
    if grid.distribution == "exponential":
        return np.asarray(-grid.mean_minutes * np.log1p(-p))
    mu, sigma = lognormal_from_p50_p95(grid.p50_minutes, grid.p95_minutes)
    z = np.array([NormalDist().inv_cdf(float(q)) for q in p])
    return np.asarray(np.exp(mu + sigma * z))


def failover_too_late(power: PowerSpec, runtime_min: float) -> float:
    """B(R) = p_ff + (1 - p_ff) P(d + T + s > R)."""
    detection = (power.generator_start_s + power.generator_transfer_s) / 60.0
    left = runtime_min - detection - power.shutdown_min
    if left <= 0:
        late = 1.0
    else:
        mu, sigma = lognormal_from_p50_p95(power.failover_p50_min, power.failover_p95_min)
        late = (
            (1.0 if power.failover_p50_min > left else 0.0)
            if sigma == 0
            else 1.0 - NormalDist().cdf((math.log(left) - mu) / sigma)
        )
    p_ff = power.failover_failure_probability
    return p_ff + (1.0 - p_ff) * late


def risk_terms(power: PowerSpec, runtime_min: float, durations: np.ndarray) -> RiskTerms:
    """P_out(R) for runtime ``runtime_min`` (``durations``: :func:`grid_quantiles`)."""
    late = failover_too_late(power, runtime_min)
    start = power.generator_fail_to_start * grid_survival(power.grid, runtime_min) * late
    rate = power.generator_fail_to_run_per_hour / 60.0
    exposed = np.maximum(durations - runtime_min, 0.0)
    run = (1.0 - power.generator_fail_to_start) * float(np.mean(-np.expm1(-rate * exposed)))
    return RiskTerms(runtime_min, start, run * late, late)


def required_runtime(power: PowerSpec) -> RequiredRuntime:
    """The least runtime meeting the accepted risk (see the module docstring)."""
    bridge = (
        power.generator_start_s + power.generator_transfer_s + power.generator_stabilise_s
    ) / 60.0
    durations = grid_quantiles(power.grid)
    target = power.accepted_risk
    longest = max(power.max_runtime_min, bridge)
    at_bridge = risk_terms(power, bridge, durations)
    if at_bridge.total <= target:
        return RequiredRuntime(
            bridge,
            bridge,
            at_bridge,
            target,
            True,
            "generator bridge",
            f"the generator bridge (start + transfer + stabilisation = {bridge:.1f} min) "
            f"already keeps the risk per grid failure at {at_bridge.total:.2g} <= {target:g}",
        )
    at_longest = risk_terms(power, longest, durations)
    if at_longest.total > target:
        return RequiredRuntime(
            longest,
            bridge,
            at_longest,
            target,
            False,
            "not met by battery alone",
            f"even {longest:g} min of battery leaves the risk per grid failure at "
            f"{at_longest.total:.2g} (generator fails to start {at_longest.fail_to_start:.2g}, "
            f"fails while running {at_longest.fail_to_run:.2g}) above the accepted {target:g}: "
            "the rest needs something other than batteries (a second generator, a failover "
            f"that fails less often than {power.failover_failure_probability:g}); sized for "
            f"{longest:g} min",
        )
    low, high = bridge, longest
    for _ in range(60):
        mid = 0.5 * (low + high)
        if risk_terms(power, mid, durations).total <= target:
            high = mid
        else:
            low = mid
    terms = risk_terms(power, high, durations)
    return RequiredRuntime(
        high,
        bridge,
        terms,
        target,
        True,
        "risk per grid failure",
        f"{high:.1f} min keeps the chance of a clinical outage per grid failure at "
        f"{terms.total:.2g} <= {target:g}: generator fails to start "
        f"({power.generator_fail_to_start:g}) x grid still out "
        f"({grid_survival(power.grid, high):.2f}) x failover too late or failed "
        f"({terms.failover_too_late:.2g}) = {terms.fail_to_start:.2g}, plus fails while "
        f"running ({power.generator_fail_to_run_per_hour:g}/h over the outage) "
        f"= {terms.fail_to_run:.2g}",
    )


SURVIVAL_HOURS = (0.5, 1.0, 2.0, 4.0, 8.0, 24.0)


def outage_given_duration(
    *,
    fail_to_start: float,
    fail_to_run_per_hour: float,
    runtime_min: float,
    too_late: float,
    duration_min: float,
) -> float:
    """P(clinical outage) in one grid outage of exactly ``duration_min`` at one site:
    [p_fts 1(D > R) + (1 - p_fts)(1 - exp(-lambda (D - R)+ / 60))] x B(R)."""
    exposed = max(0.0, duration_min - runtime_min)
    lost = fail_to_start * (1.0 if duration_min > runtime_min else 0.0) + (
        1.0 - fail_to_start
    ) * -math.expm1(-fail_to_run_per_hour * exposed / 60.0)
    return lost * too_late


def survival_curve(
    power: PowerSpec, runtime_min: float, hours: tuple[float, ...] = SURVIVAL_HOURS
) -> list[float]:
    """P(carrying clinical work through a grid outage of X hours) for the sized design:
    one site loses the grid, its ride-through is ``runtime_min``."""
    return _survival(power, runtime_min, failover_too_late(power, runtime_min), hours)


def regional_survival_curve(
    power: PowerSpec, runtimes_min: tuple[float, ...], hours: tuple[float, ...] = SURVIVAL_HOURS
) -> list[float]:
    """P(carrying clinical work through a grid outage of X hours at both sites at once).

    Each site i goes dark with q_i (its generator lost and the outage outlasting its
    ride-through R_i, as in :func:`outage_given_duration` without the rescue); the sites
    are independent. If both go dark, the work of both is down (the failover target has
    no power either); if one goes dark, only a failover too late or failed (B(R_i))
    costs clinical time:

        P = (1 - q_A)(1 - q_B) + q_A (1 - q_B)(1 - B_A) + q_B (1 - q_A)(1 - B_B)
    """
    out = []
    for h in hours:
        dark = [
            outage_given_duration(
                fail_to_start=power.generator_fail_to_start,
                fail_to_run_per_hour=power.generator_fail_to_run_per_hour,
                runtime_min=r,
                too_late=1.0,
                duration_min=60.0 * h,
            )
            for r in runtimes_min
        ]
        if len(dark) == 1:
            out.append(1.0 - dark[0] * failover_too_late(power, runtimes_min[0]))
            continue
        (qa, qb), (ra, rb) = dark, runtimes_min
        out.append(
            (1 - qa) * (1 - qb)
            + qa * (1 - qb) * (1 - failover_too_late(power, ra))
            + qb * (1 - qa) * (1 - failover_too_late(power, rb))
        )
    return out


def as_was_survival_curve(
    power: PowerSpec, hours: tuple[float, ...] = SURVIVAL_HOURS
) -> list[float]:
    """The same for the as-was design: its fixed UPS runtime, and the cold standby in
    place of the failover (activation time, chance it does not work)."""
    ups = power.as_was_ups_runtime_min
    p_sf = power.as_was_standby_failure_probability
    late = p_sf + (1.0 - p_sf) * (1.0 if power.as_was_standby_takeover_min > ups else 0.0)
    return _survival(power, ups, late, hours)


def _survival(
    power: PowerSpec, runtime_min: float, too_late: float, hours: tuple[float, ...]
) -> list[float]:
    """1 - P(clinical outage | a grid outage of h hours) for each h: the generator's
    failures against a ride-through of ``runtime_min``, rescued unless ``too_late``."""
    return [
        1.0
        - outage_given_duration(
            fail_to_start=power.generator_fail_to_start,
            fail_to_run_per_hour=power.generator_fail_to_run_per_hour,
            runtime_min=runtime_min,
            too_late=too_late,
            duration_min=60.0 * h,
        )
        for h in hours
    ]
