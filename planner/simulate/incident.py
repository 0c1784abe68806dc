"""Incident replay: the power chain failing link by link, minute by minute.

Grid power is lost at one site at the worst moment of the profile (by default the
design peak: the timestep where the survivor's failover load is largest, at the
horizon's end). The generator does not start; the UPS battery carries the site's real
IT load, discharging by Miner's rule on the runtime law (each minute at load P uses
1 / runtime(P) of the charge). Once the failure is noticed (start + transfer time) the
clinical load moves to the other site, which then carries the time-aligned sum; the lost
site shuts down cleanly at idle power. Clinical downtime is any time in which the lost
site's clinical work runs nowhere: the battery is flat and the failover is not done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.inputs.catalog import Catalog
from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec
from planner.inputs.units import growth_factors
from planner.power.battery import lognormal_quantile
from planner.power.ups import battery_design, site_required_runtime
from planner.sizing.fleet import SiteFleet
from planner.sizing.server_power import site_power_w


@dataclass(frozen=True)
class Event:
    minute: float
    text: str


@dataclass(frozen=True)
class IncidentOutcome:
    site: str
    survivor: str
    start: str
    generator_starts: bool
    failover_minutes: float
    battery_capacity: float
    clinical_downtime_min: float
    battery_empty_at_min: float | None
    soc_at_handover: float | None
    unclean_shutdown: bool
    survivor_peak_cpu_utilisation: float
    survivor_peak_memory_utilisation: float
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class AsWasOutcome:
    battery_flat_at_min: float
    standby_serving_at_min: float
    clinical_downtime_min: float
    standby_works: bool


def _grown(profile: Profile, spec: Spec, metric: str) -> npt.NDArray[np.float64]:
    growth = growth_factors(spec.horizon_years, spec.growth_rates(metric))
    return np.asarray(profile.values[metric] * growth[None, :, None], dtype=np.float64)


def design_peak_index(profile: Profile, spec: Spec, site: str) -> int:
    """Timestep at which the survivor's failover CPU load is largest."""
    fractions = np.array([w.failover_fraction for w in spec.workloads])
    cpu = _grown(profile, spec, "cpu_cores")
    failover = (cpu.sum(axis=0) * fractions[:, None]).sum(axis=0)
    return int(np.argmax(failover))


def replay_incident(
    profile: Profile,
    spec: Spec,
    catalog: Catalog,
    fleets: tuple[SiteFleet, ...],
    *,
    site: str,
    at_index: int | None = None,
    failover_minutes: float | None = None,
    end_of_life: bool = False,
    generator_starts: bool = False,
    window_minutes: float = 120.0,
) -> IncidentOutcome:
    """Replay grid loss at ``site`` minute by minute; see the module docstring."""
    if spec.power is None:
        raise ValueError("the spec has no power section")
    power = spec.power
    survivor = next(s for s in spec.site_names if s != site)
    lost_i, surv_i = profile.sites.index(site), profile.sites.index(survivor)
    fleet = next(f for f in fleets if f.site == site)
    surv_fleet = next(f for f in fleets if f.site == survivor)
    start = design_peak_index(profile, spec, site) if at_index is None else at_index
    design = battery_design(power)
    required = site_required_runtime(power)
    capacity = design.chemistry.end_of_life_capacity if end_of_life else 1.0
    nameplate_wh = sum(n * catalog.battery(k).kwh * 1000 for k, n in fleet.batteries.items())
    if failover_minutes is None:
        failover_minutes = lognormal_quantile(
            power.failover_p50_min, power.failover_p95_min, max(required.failover_quantile, 0.5)
        )
    detect = (power.generator_start_s + power.generator_transfer_s) / 60.0
    bridge = required.bridge_minutes
    handover = detect + failover_minutes
    shut_down = handover + power.shutdown_min

    cpu, mem = _grown(profile, spec, "cpu_cores"), _grown(profile, spec, "memory_gib")
    fractions = np.array([w.failover_fraction for w in spec.workloads])
    step_min = profile.step_s / 60.0

    def at(minute: float) -> int:
        return min(profile.n_steps - 1, start + int(minute // step_min))

    allocatable_cpu = sum(
        n * (catalog.server(k).cores - spec.reserved_cpu_cores)
        for k, n in surv_fleet.servers.items()
    )
    allocatable_mem = sum(
        n * (catalog.server(k).memory_gib - spec.reserved_memory_gib)
        for k, n in surv_fleet.servers.items()
    )
    start_label = pd.Timestamp(int(profile.timestamps_ns[start]), tz="UTC").isoformat()
    events = [Event(0.0, f"grid lost at {site}; UPS on battery")]
    soc, empty_at, soc_handover = 1.0, None, None
    peak_cpu = peak_mem = 0.0
    minutes = int(np.ceil(max(window_minutes, shut_down + 1)))
    events.append(
        Event(bridge, "generator started and took the load")
        if generator_starts
        else Event(detect, f"generator did not start: failover of clinical work to {survivor}")
    )
    for minute in range(minutes):
        t = float(minute)
        i = at(t)
        if generator_starts and t >= bridge:
            busy = None  # on generator: the battery no longer discharges
        elif generator_starts or t < handover:
            busy = float(cpu[lost_i, :, i].sum())
        elif t < shut_down:
            busy = 0.0  # clean shutdown at idle power
        else:
            busy = None
        if busy is not None and empty_at is None:
            load_w = site_power_w(fleet, catalog, busy)
            runtime_min = 60.0 * design.runtime_h(nameplate_wh, load_w, capacity)
            used = 1.0 / runtime_min
            if used >= soc:
                empty_at = t + soc / used
                soc = 0.0
                events.append(Event(empty_at, f"battery at {site} empty"))
            else:
                soc -= used
        if soc_handover is None and not generator_starts and t + 1 > handover:
            soc_handover = soc
            events.append(
                Event(handover, f"failover complete: {survivor} carries the clinical load")
            )
        moved = not generator_starts and t >= handover
        load_cpu = float(cpu[surv_i, :, i].sum())
        load_mem = float(mem[surv_i, :, i].sum())
        if moved:
            load_cpu = float((cpu[:, :, i].sum(axis=0) * fractions).sum())
            load_mem = float((mem[:, :, i].sum(axis=0) * fractions).sum())
        peak_cpu = max(peak_cpu, load_cpu / allocatable_cpu)
        peak_mem = max(peak_mem, load_mem / allocatable_mem)
    if not generator_starts:
        events.append(
            Event(
                shut_down,
                f"{site} shut down cleanly"
                if empty_at is None or empty_at >= shut_down
                else f"{site} lost power before shutdown ended",
            )
        )
    downtime = 0.0
    if empty_at is not None and not generator_starts and empty_at < handover:
        downtime = handover - empty_at
    return IncidentOutcome(
        site=site,
        survivor=survivor,
        start=start_label,
        generator_starts=generator_starts,
        failover_minutes=failover_minutes,
        battery_capacity=capacity,
        clinical_downtime_min=downtime,
        battery_empty_at_min=empty_at,
        soc_at_handover=soc_handover,
        unclean_shutdown=empty_at is not None and empty_at < shut_down,
        survivor_peak_cpu_utilisation=peak_cpu,
        survivor_peak_memory_utilisation=peak_mem,
        events=sorted(events, key=lambda e: e.minute),
    )


def replay_as_was(spec: Spec, *, standby_works: bool, grid_minutes: float) -> AsWasOutcome:
    """The old design: one active site, a cold read-only standby at the other.

    The battery runs flat after its runtime; clinical work stops until the standby has
    been activated, or, if the standby does not work, until the grid returns.
    """
    if spec.power is None:
        raise ValueError("the spec has no power section")
    flat = spec.power.as_was_ups_runtime_min
    serving = spec.power.as_was_standby_takeover_min if standby_works else grid_minutes
    serving = min(serving, grid_minutes)
    return AsWasOutcome(
        battery_flat_at_min=flat,
        standby_serving_at_min=serving,
        clinical_downtime_min=max(0.0, serving - flat),
        standby_works=standby_works,
    )
