"""The sizing loop: solve, check each fleet pod by pod, cut off what fails, solve again;
and, when nothing is feasible, say why.

Build and solve live in :mod:`planner.sizing.model`; the checks in
:mod:`planner.sizing.packing`; the cuts in :mod:`planner.sizing.cuts`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from planner.errors import InfeasibleError, SolverError
from planner.inputs.catalog import Catalog
from planner.inputs.spec import Spec
from planner.sizing.envelope import Envelope
from planner.sizing.fleet import SiteFleet
from planner.sizing.model import (
    Model,
    ModelOptions,
    Solution,
    build_model,
    extract_fleets,
    pod_fits,
    solve,
)
from planner.sizing.packing import packing_failures, place_drives, storage_failures
from planner.sizing.pods import site_pod_sets
from planner.sizing.workloads import WorkloadSizing

#: Candidate fleets the sizing loop may try before it gives up (each is one MILP solve).
MAX_CANDIDATES = 200  # a bound for the one-model-per-site link, far above any real room


#: One constraint set a fleet must meet and be placeable in: (spec, envelope, pods).
Part = tuple[Spec, Envelope, tuple[WorkloadSizing, ...]]
Cuts = dict[str, list[dict[str, int]]]


@dataclass(frozen=True)
class Searched:
    """The first optimum whose fleets place their pods and keep their data in every part."""

    model: Model
    x: np.ndarray
    objective: float
    gap: float
    fleets: tuple[tuple[SiteFleet, ...], ...]  # per part
    candidates: int
    solve_time_s: float


def search_placeable(
    parts: Sequence[Part],
    catalog: Catalog,
    options: ModelOptions,
    build: Callable[[list[Cuts]], Model],
    fleets_of: Callable[[Model, np.ndarray], tuple[tuple[SiteFleet, ...], ...]],
    infeasible: Callable[[], list[str]],
    give_up: str,
) -> Searched:
    """Solve the model ``build`` makes from the cuts so far; a part's fleet that cannot
    place its pods or keep its data after a loss (:func:`survival_cut`) is cut off in that
    part and the model solved again, up to MAX_CANDIDATES times. ``fleets_of`` reads each
    part's fleets from a solution; ``infeasible`` explains a proven infeasibility."""
    reasons = [r for spec, _, pods in parts for r in explain_pod_fit(spec, catalog, pods)]
    if reasons:
        raise InfeasibleError(list(dict.fromkeys(reasons)))
    cuts: list[Cuts] = [{site: [] for site in spec.site_names} for spec, _, _ in parts]
    started = time.perf_counter()
    for candidate in range(1, MAX_CANDIDATES + 1):
        model = build(cuts)
        solved = solve(model, options)
        if solved is None:
            raise InfeasibleError(infeasible())
        x, objective, gap = solved
        fleets = fleets_of(model, x)
        rejected = False
        for (spec, envelope, pods), part_fleets, part_cuts in zip(parts, fleets, cuts, strict=True):
            for fleet in part_fleets:
                failed = survival_cut(fleet, spec, catalog, envelope, pods)
                if failed is not None:
                    part_cuts[fleet.site].append(failed)
                    rejected = True
        if not rejected:
            return Searched(
                model, x, objective, gap, fleets, candidate, time.perf_counter() - started
            )
    raise SolverError(give_up)


def _search_one(
    spec: Spec,
    catalog: Catalog,
    envelope: Envelope,
    sizings: tuple[WorkloadSizing, ...],
    options: ModelOptions,
    infeasible: Callable[[], list[str]],
    give_up: str,
) -> Searched:
    """:func:`search_placeable` over one spec's model (one part)."""
    return search_placeable(
        [(spec, envelope, sizings)],
        catalog,
        options,
        lambda cuts: build_model(spec, catalog, envelope, sizings, options, cuts[0]),
        lambda model, x: (extract_fleets(model, x, spec, catalog),),
        infeasible,
        give_up,
    )


def optimise(
    spec: Spec,
    catalog: Catalog,
    envelope: Envelope,
    sizings: tuple[WorkloadSizing, ...],
    options: ModelOptions | None = None,
) -> Solution:
    """Build, solve and write back the least-TCO fleet; explain infeasibility."""
    options = options or ModelOptions()
    found = _search_one(
        spec,
        catalog,
        envelope,
        sizings,
        options,
        lambda: explain_infeasible(spec, catalog, envelope, sizings, options),
        f"no fleet both optimal and placeable after {MAX_CANDIDATES} candidates; "
        "the pod sizes or the storage layout need a look",
    )
    return Solution(
        fleets=found.fleets[0],
        objective=found.objective,
        solve_time_s=found.solve_time_s,
        mip_gap=found.gap,
        variables=len(found.model.names),
        constraints=len(found.model.rows),
        candidates=found.candidates,
    )


def survival_cut(
    fleet: SiteFleet,
    spec: Spec,
    catalog: Catalog,
    envelope: Envelope,
    sizings: tuple[WorkloadSizing, ...],
) -> dict[str, int] | None:
    """None when the fleet places every scenario's pods and keeps its data after losing
    any r servers; else the counts to cut off (servers only for a placement failure,
    servers and drives for a storage failure, marked "d:*")."""
    servers = {f"n:{k}": v for k, v in fleet.servers.items()}
    pods = site_pod_sets(sizings, spec, fleet.site)
    if packing_failures(fleet.servers, catalog, spec, pods):
        return servers
    env = envelope.site(fleet.site)
    placement = place_drives(fleet.servers, fleet.drives, catalog)
    if storage_failures(
        placement,
        catalog,
        spec,
        env.design("stored_tib"),
        env.design("read_iops"),
        env.design("write_iops"),
    ):
        return {**servers, **{f"d:{k}": v for k, v in fleet.drives.items()}, "d:*": 0}
    return None


def explain_pod_fit(spec: Spec, catalog: Catalog, sizings: tuple[WorkloadSizing, ...]) -> list[str]:
    """Pods no server in the catalogue can hold, with the shortfall."""
    reasons = []
    best_cpu = max(s.usable_cores(spec.node_cpu_reserved(s.drive_bays)) for s in catalog.servers)
    best_mem = max(s.memory_gib - spec.node_memory_reserved(s.drive_bays) for s in catalog.servers)
    seen: set[str] = set()
    for z in sizings:
        if z.replicas_max == 0 or z.workload in seen:
            continue
        if any(pod_fits(s, spec, z) for s in catalog.servers):
            continue
        seen.add(z.workload)
        if z.memory_request_gib > best_mem:
            reasons.append(
                f"memory per node: workload {z.workload} needs {_gib(z.memory_request_gib)} per "
                f"replica, the largest server has {_gib(best_mem)} allocatable "
                f"(short by {_gib(z.memory_request_gib - best_mem)})"
            )
        if z.cpu_request_cores > best_cpu:
            reasons.append(
                f"cores per node: workload {z.workload} needs {z.cpu_request_cores:g} cores per "
                f"replica, the largest server has {best_cpu:g} allocatable "
                f"(short by {z.cpu_request_cores - best_cpu:g})"
            )
        if z.memory_request_gib <= best_mem and z.cpu_request_cores <= best_cpu:
            reasons.append(
                f"node shape: workload {z.workload} needs {z.cpu_request_cores:g} cores and "
                f"{_gib(z.memory_request_gib)} in one server; no server has both"
            )
    return reasons


def explain_infeasible(
    spec: Spec,
    catalog: Catalog,
    envelope: Envelope,
    sizings: tuple[WorkloadSizing, ...],
    options: ModelOptions,
) -> list[str]:
    """Which requirement no catalogue mix can meet: the room, or rack space (the only
    finite limit), found by the same search as the sizing (fleets that cannot place
    their pods after a loss cut off) with the fewest rack units as the objective."""
    relaxed = ModelOptions(
        time_limit_s=options.time_limit_s,
        mip_rel_gap=options.mip_rel_gap,
        enforce_rack_limits=False,
        objective="rack_units",
    )
    try:
        found = _search_one(
            spec,
            catalog,
            envelope,
            sizings,
            relaxed,
            lambda: _without_limits(spec, catalog, envelope, sizings, relaxed),
            "the MILP is infeasible for a reason the planner cannot name",
        )
    except (InfeasibleError, SolverError) as exc:
        return getattr(exc, "reasons", None) or [str(exc)]
    reasons = []
    for fleet, site in zip(found.fleets[0], spec.sites, strict=True):
        used = sum(n * catalog.server(k).rack_units for k, n in fleet.servers.items())
        if site.max_rack_units is not None and used > site.max_rack_units:
            servers = ", ".join(
                f"{n} x {catalog.server(k).rack_units} U {k}" for k, n in fleet.servers.items()
            )
            reasons.append(
                f"rack space (sites.{site.name}.max_rack_units): the fewest rack units that "
                f"meet the envelope and place every pod after losing {spec.servers_lost} "
                f"server(s), anti-affinity included, are {used} U ({servers}); the spec "
                f"allows {site.max_rack_units} U (short by {used - site.max_rack_units} U)"
            )
    return reasons or ["the MILP is infeasible for a reason the planner cannot name"]


def _without_limits(
    spec: Spec,
    catalog: Catalog,
    envelope: Envelope,
    sizings: tuple[WorkloadSizing, ...],
    relaxed: ModelOptions,
) -> list[str]:
    """Infeasible without rack limits: the room, if dropping it makes a fleet; else say so."""
    if spec.power is not None and spec.power.room is not None:
        no_room = dataclasses.replace(relaxed, enforce_thermal=False)
        model = build_model(spec, catalog, envelope, sizings, no_room)
        solved = solve(model, no_room)
        if solved is not None:
            fleets = extract_fleets(model, solved[0], spec, catalog)
            return [explain_room(spec, catalog, envelope, fleet) for fleet in fleets]
    return ["no mix of catalogue servers and drives meets the envelope, even without limits"]


def explain_room(spec: Spec, catalog: Catalog, envelope: Envelope, fleet: SiteFleet) -> str:
    """The room, named: a fleet that meets every other requirement, every cooling option
    on its UPS, reaches the inlet limit before the required runtime; and what would do."""
    from planner.power.thermal import heat_capacity_j_per_k, minutes_to_limit
    from planner.power.ups import site_required_runtime
    from planner.sizing.power_chain import ups_load

    assert spec.power is not None
    assert spec.power.room is not None
    power, room = spec.power, spec.power.room
    every = dataclasses.replace(fleet, cooling=tuple(o.name for o in power.cooling_options))
    heat_w = ups_load(every, catalog, spec, envelope.site(fleet.site).peak_busy_cores).total_w
    reached = minutes_to_limit(room, heat_w, power.cooling_options)
    required = site_required_runtime(power).minutes
    # the heat capacity at which the same heat lasts the required runtime
    stored_j = sum(o.stored_kwh * 3.6e6 for o in power.cooling_options if o.stored_kwh > 0)
    net_w = heat_w - room.cooling_on_ups_removes_w
    need_j_per_k = max(0.0, (net_w * 60.0 * required - stored_j) / (room.limit_c - room.start_c))
    more_kj_per_k = max(0.0, need_j_per_k - heat_capacity_j_per_k(room)) / 1000.0
    return (
        f"room temperature: at {fleet.site} a fleet that meets everything else draws "
        f"{heat_w / 1000:.1f} kW on the UPS at the worst peak, and with every cooling option "
        f"on the UPS the room reaches its {room.limit_c:g} C inlet limit after "
        f"{reached:.1f} min, against a required runtime of {required:.1f} min; feasible "
        f"with about {more_kj_per_k:,.0f} kJ/K more thermal mass, cooling on the UPS that "
        f"removes the heat (power.room.cooling_on_ups_removes_w or a cooling option), a "
        f"higher inlet limit, or a shorter required runtime (power.accepted_risk, "
        f"power.failover)"
    )


def _gib(value: float) -> str:
    if value >= 1024:
        return f"{value / 1024:.2f} TiB".replace(".00 ", " ")
    return f"{math.ceil(value - 1e-9):d} GiB"
