"""Reduce load profiles to the design envelope each site must carry, per scenario.

Scenarios: ``normal`` (each site runs its own load) and ``lost-<site>`` (the other site
carries everything). In a lost-site scenario the survivor carries the *time-aligned sum*
of both sites' load, each workload scaled by its failover fraction f_w:

    D_s,lost(t) = sum_w f_w (L_w,A(t) + L_w,B(t))            (peak of the sum)

never the sum of the two sites' peaks. Every site holds a full copy of the data, so
writes and stored data are the sum of both sites in every scenario (writes scaled by
f_w in failover). Loads are projected to the horizon's end by (1 + g_m)^Y, then reduced
to one design value per (site, scenario, metric): the spec's percentile for CPU, memory
and IOPS, the maximum for stored data. The solver only ever sees these numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec
from planner.inputs.units import (
    BYTES_PER_MIB,
    BYTES_PER_TIB,
    SECONDS_PER_YEAR,
    growth_factors,
    mean_growth_factor,
    rank_for_percentile,
)

NORMAL = "normal"
#: Metrics whose load moves with the clinical work (the survivor takes it over).
MOVING = ("cpu_cores", "memory_gib", "read_iops")
#: Metrics that reach every site because each site holds a full copy of the data.
REPLICATED = ("write_iops", "write_mib_s", "stored_tib")
DESIGN_METRICS = ("cpu_cores", "memory_gib", "read_iops", "write_iops", "stored_tib")


def lost(site: str) -> str:
    """Name of the scenario in which ``site`` is lost."""
    return f"lost-{site}"


def scenarios_for(spec: Spec, site: str) -> tuple[str, ...]:
    """The scenarios a site must carry: normal, and the loss of the other site."""
    other = next(s for s in spec.site_names if s != site)
    return (NORMAL, lost(other))


@dataclass(frozen=True)
class SiteEnvelope:
    """Design values for one site.

    ``demand[scenario][metric]`` in the metric's unit (cores, GiB, IOPS, TiB);
    ``mean_busy_cores`` is the normal-scenario mean CPU use averaged over the horizon
    (for energy); ``written_tib_life`` is the data written to the site over the drives'
    service life, before write amplification and protection overhead;
    ``peak_busy_cores`` is the largest CPU load [cores] of any timestep of any scenario the
    site carries, grown to the horizon (the UPS and battery are sized for it).
    """

    site: str
    demand: dict[str, dict[str, float]]
    mean_busy_cores: float
    written_tib_life: float
    peak_busy_cores: float = 0.0  # the largest CPU load of any timestep and scenario

    def design(self, metric: str) -> float:
        """The largest design value of ``metric`` over the scenarios this site carries."""
        return max(values[metric] for values in self.demand.values())

    def deciding_scenario(self, metric: str) -> str:
        return max(self.demand, key=lambda name: (self.demand[name][metric], name))


@dataclass(frozen=True)
class Envelope:
    sites: tuple[SiteEnvelope, ...]

    def site(self, name: str) -> SiteEnvelope:
        return next(s for s in self.sites if s.site == name)


def workload_series(
    profile: Profile, spec: Spec, site: str, scenario: str, metric: str
) -> npt.NDArray[np.float64]:
    """Per-workload load on ``site`` in ``scenario``, grown to the horizon's end: (W, T)."""
    values = profile.values[metric]
    index = profile.sites.index(site)
    growth = growth_factors(spec.horizon_years, spec.growth_rates(metric))[:, None]
    if scenario == NORMAL:
        series = values.sum(axis=0) if metric in REPLICATED else values[index]
    else:
        both = values.sum(axis=0)
        if metric == "stored_tib":
            series = both
        else:
            fractions = np.array([w.failover_fraction for w in spec.workloads])
            series = both * fractions[:, None]
    return np.asarray(series * growth, dtype=np.float64)


def design_value(series: npt.NDArray[np.float64], spec: Spec, metric: str) -> float:
    """Reduce one time series to its design value (percentile, or maximum for stored data)."""
    if metric == "stored_tib":
        return float(series.max())
    rank = rank_for_percentile(series.shape[-1], spec.percentile[metric])
    return float(np.partition(series, rank - 1)[rank - 1])


def bounded_design_value(
    series: npt.NDArray[np.float64], spec: Spec, metric: str, step_s: float
) -> float:
    """The design value, raised where the spec bounds the overload it leaves out:

    D = max(percentile value, peak / (1 + max_overshoot), L_(k+1))
    with L_(k+1) the (k+1)-th largest load and k = floor(max_overload_minutes x 60 / step),
    so that the real peak is at most max_overshoot above capacity D and at most k steps
    exceed it.
    """
    value = design_value(series, spec, metric)
    if metric == "stored_tib" or series.size == 0:
        return value
    bounds = spec.overload
    if bounds.max_overshoot is not None:
        value = max(value, float(series.max()) / (1.0 + bounds.max_overshoot))
    if bounds.max_overload_minutes is not None:
        k = int(bounds.max_overload_minutes * 60 // step_s)
        if k < series.size:
            value = max(
                value, float(np.partition(series, series.size - 1 - k)[series.size - 1 - k])
            )
    return value


def period_mean_busy_cores(
    profile: Profile, spec: Spec, site: str, start: float, end: float
) -> float:
    """The site's normal CPU use averaged over years [start, end) of growth [cores]:
    sum_w mean_w x ((1 + g_w)^end - (1 + g_w)^start) / ((end - start) ln(1 + g_w))."""
    cpu_means = profile.values["cpu_cores"][profile.sites.index(site)].mean(axis=1)
    total = 0.0
    for mean, g in zip(cpu_means, spec.growth_rates("cpu_cores"), strict=True):
        if start == 0.0:
            factor = mean_growth_factor(end, g)
        elif g == 0 or end <= start:
            factor = (1.0 + g) ** start
        else:
            log = math.log1p(g)
            factor = ((1.0 + g) ** end - (1.0 + g) ** start) / ((end - start) * log)
        total += float(mean) * factor
    return total


def compute_envelope(profile: Profile, spec: Spec) -> Envelope:
    """The design envelope of both sites (vectorised over time)."""
    sites = []
    for site in spec.site_names:
        demand: dict[str, dict[str, float]] = {}
        peak = 0.0
        for scenario in scenarios_for(spec, site):
            cpu = workload_series(profile, spec, site, scenario, "cpu_cores").sum(axis=0)
            peak = max(peak, float(cpu.max()) if cpu.size else 0.0)
            demand[scenario] = {
                metric: bounded_design_value(
                    workload_series(profile, spec, site, scenario, metric).sum(axis=0),
                    spec,
                    metric,
                    profile.step_s,
                )
                for metric in DESIGN_METRICS
            }
        life = spec.service_life_years
        busy = period_mean_busy_cores(profile, spec, site, 0.0, spec.horizon_years)
        write_means = profile.values["write_mib_s"].sum(axis=0).mean(axis=1)  # per workload
        write_mib_s = sum(
            mean * mean_growth_factor(life, g)
            for mean, g in zip(write_means, spec.growth_rates("write_mib_s"), strict=True)
        )
        written = float(write_mib_s * BYTES_PER_MIB * SECONDS_PER_YEAR * life / BYTES_PER_TIB)
        sites.append(
            SiteEnvelope(
                site=site,
                demand=demand,
                mean_busy_cores=busy,
                written_tib_life=written,
                peak_busy_cores=peak,
            )
        )
    return Envelope(sites=tuple(sites))
