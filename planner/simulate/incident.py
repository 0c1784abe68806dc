"""Incident replay: the power chain failing link by link, minute by minute.

Grid power is lost at one site at the worst moment of the profile (by default the
design peak: the timestep where the survivor's failover load is largest, at the
horizon's end). The generator does not start; the UPS battery strings carry the site's
real load (servers at the worst placement of the load, drives, the other loads on the UPS),
discharging by Miner's rule on the module's runtime curve (each minute at load P uses
1 / runtime(P) of the charge), while the room heats (:mod:`planner.power.thermal`) and
reaching its inlet limit stops the equipment as surely as an empty battery. Once the
failure is noticed (start + transfer time) the clinical load moves to the other site,
which then carries the time-aligned sum; the lost site shuts down cleanly at idle power.
The grid returns after ``grid_minutes``: from then the battery no longer discharges. A
site that went dark (battery empty or room too hot) comes back only after the restart
after a hard power loss (core network, storage, databases, applications). Clinical
downtime is any time in which the lost site's clinical work runs nowhere.

``AS_REPORTED`` holds the incident's published figures (a spec may give its own under
``power.as_was.as_reported``; these are the defaults) (Computerworld Denmark, articles
228721, 228725 and 228744): the UPS carried the room for 27 minutes, the grid was back
after 31 minutes, the core network took until about 3.5 hours after the start, and the
patient record was partly back about 7.5 hours after the start; the read-only standby
could not be started.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.inputs.catalog import Catalog
from planner.inputs.profiles import Profile
from planner.inputs.spec import AsReported, Spec
from planner.inputs.units import growth_factors
from planner.power.battery import lognormal_quantile
from planner.power.thermal import advance_room, room_at_start
from planner.power.ups import site_required_runtime
from planner.sizing.fleet import SiteFleet
from planner.sizing.power_chain import end_of_life as end_of_life_capacity
from planner.sizing.power_chain import installed_strings, replay_factor, ups_load


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
    grid_minutes: float
    clinical_downtime_min: float
    battery_empty_at_min: float | None
    room_at_limit_at_min: float | None
    dark_at_min: float | None
    restarted_at_min: float | None
    soc_at_handover: float | None
    unclean_shutdown: bool
    survivor_peak_cpu_utilisation: float
    survivor_peak_memory_utilisation: float
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class AsWasOutcome:
    battery_flat_at_min: float | None
    standby_serving_at_min: float | None
    restarted_at_min: float | None
    clinical_back_at_min: float
    clinical_downtime_min: float
    standby_works: bool
    grid_minutes: float
    ups_minutes: float


#: the published figures, the defaults of a spec's ``power.as_was.as_reported``
AS_REPORTED = AsReported()


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
    grid_minutes: float = math.inf,
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
    required = site_required_runtime(power)
    capacity = end_of_life_capacity(spec) if end_of_life else 1.0
    factor = replay_factor(spec, capacity)
    strings = installed_strings(fleet, catalog)
    if failover_minutes is None:
        failover_minutes = lognormal_quantile(power.failover_p50_min, power.failover_p95_min, 0.95)
    detect = (power.generator_start_s + power.generator_transfer_s) / 60.0
    bridge = required.bridge_minutes
    handover = detect + failover_minutes
    shut_down = handover + power.shutdown_min
    recovery = power.recovery

    cpu, mem = _grown(profile, spec, "cpu_cores"), _grown(profile, spec, "memory_gib")
    fractions = np.array([w.failover_fraction for w in spec.workloads])
    step_min = profile.step_s / 60.0

    def at(minute: float) -> int:
        return min(profile.n_steps - 1, start + int(minute // step_min))

    allocatable_cpu = sum(
        n * catalog.server(k).usable_cores(spec.node_cpu_reserved(catalog.server(k).drive_bays))
        for k, n in surv_fleet.servers.items()
    )
    allocatable_mem = sum(
        n * (catalog.server(k).memory_gib - spec.node_memory_reserved(catalog.server(k).drive_bays))
        for k, n in surv_fleet.servers.items()
    )
    room = power.room
    coolers = [o for o in power.cooling_options if o.name in fleet.cooling]
    room_state = room_at_start(coolers)
    start_label = pd.Timestamp(int(profile.timestamps_ns[start]), tz="UTC").isoformat()
    events = [Event(0.0, f"grid lost at {site}; UPS on battery")]
    soc, empty_at, hot_at, soc_handover = 1.0, None, None, None
    peak_cpu = peak_mem = 0.0
    end = max(window_minutes, shut_down + 1, min(grid_minutes, 24 * 60.0) + 1)
    minutes = int(np.ceil(end))
    events.append(
        Event(bridge, "generator started and took the load")
        if generator_starts
        else Event(detect, f"generator did not start: failover of clinical work to {survivor}")
    )
    if grid_minutes < minutes:
        events.append(Event(grid_minutes, f"grid back at {site}: the UPS stops discharging"))
    for minute in range(minutes):
        t = float(minute)
        i = at(t)
        on_grid = t >= grid_minutes
        dark = empty_at is not None or hot_at is not None
        if on_grid or dark or (generator_starts and t >= bridge):
            busy = None  # the battery does not discharge
        elif generator_starts or t < handover:
            busy = float(cpu[lost_i, :, i].sum())
        elif t < shut_down:
            busy = 0.0  # clean shutdown at idle power
        else:
            busy = None
        if busy is not None and strings is not None:
            load_w = ups_load(fleet, catalog, spec, busy).total_w
            used = 1.0 / strings.runtime_min(load_w, factor)
            if used >= soc:
                empty_at = t + soc / used
                soc = 0.0
                events.append(Event(empty_at, f"battery at {site} empty: the site goes dark"))
            else:
                soc -= used
            if room is not None and hot_at is None and empty_at is None:
                room_state, reached_s = advance_room(room, coolers, room_state, load_w, 60.0)
                if reached_s is not None:
                    hot_at = t + reached_s / 60.0
                    events.append(
                        Event(hot_at, f"room at {site} at its inlet limit: the equipment stops")
                    )
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
    dark_at = min((x for x in (empty_at, hot_at) if x is not None), default=None)
    restarted_at = None
    if dark_at is not None and math.isfinite(grid_minutes):
        back = max(grid_minutes, dark_at)
        for stage, minutes_needed in (
            ("core network", recovery.core_network_min),
            ("storage", recovery.storage_min),
            ("databases", recovery.databases_min),
            ("applications", recovery.applications_min),
        ):
            back += minutes_needed
            events.append(Event(back, f"{site} restart after the hard power loss: {stage} up"))
        restarted_at = back
    if not generator_starts:
        clean = dark_at is None or dark_at >= shut_down
        events.append(
            Event(
                shut_down,
                f"{site} shut down cleanly"
                if clean
                else f"{site} lost power before shutdown ended",
            )
        )
    downtime = 0.0
    if dark_at is not None and not generator_starts and dark_at < handover:
        back_at = min(handover, restarted_at if restarted_at is not None else math.inf)
        downtime = back_at - dark_at
    return IncidentOutcome(
        site=site,
        survivor=survivor,
        start=start_label,
        generator_starts=generator_starts,
        failover_minutes=failover_minutes,
        battery_capacity=capacity,
        grid_minutes=grid_minutes,
        clinical_downtime_min=downtime,
        battery_empty_at_min=empty_at,
        room_at_limit_at_min=hot_at,
        dark_at_min=dark_at,
        restarted_at_min=restarted_at,
        soc_at_handover=soc_handover,
        unclean_shutdown=dark_at is not None and dark_at < shut_down,
        survivor_peak_cpu_utilisation=peak_cpu,
        survivor_peak_memory_utilisation=peak_mem,
        events=sorted(events, key=lambda e: e.minute),
    )


def replay_as_was(
    spec: Spec,
    *,
    standby_works: bool,
    grid_minutes: float,
    ups_minutes: float | None = None,
    recovery_minutes: float | None = None,
) -> AsWasOutcome:
    """The old design: one active site, a cold read-only standby at the other.

    The battery runs flat after its runtime unless the grid is back first; the room is
    then dark until the grid returns and the restart after a hard power loss is done
    (the as-was recovery: the incident's published timeline). The clinical work is back
    when the site has restarted or, if it works, the standby has been activated.
    """
    if spec.power is None:
        raise ValueError("the spec has no power section")
    power = spec.power
    ups = power.as_was_ups_runtime_min if ups_minutes is None else ups_minutes
    recovery = (
        (power.as_was_recovery or power.recovery).total_min
        if recovery_minutes is None
        else recovery_minutes
    )
    if grid_minutes <= ups:
        return AsWasOutcome(None, None, None, 0.0, 0.0, standby_works, grid_minutes, ups)
    restarted = grid_minutes + recovery
    serving = power.as_was_standby_takeover_min if standby_works else None
    back = min(restarted, serving) if serving is not None else restarted
    return AsWasOutcome(
        battery_flat_at_min=ups,
        standby_serving_at_min=serving,
        restarted_at_min=restarted,
        clinical_back_at_min=back,
        clinical_downtime_min=max(0.0, back - ups),
        standby_works=standby_works,
        grid_minutes=grid_minutes,
        ups_minutes=ups,
    )
