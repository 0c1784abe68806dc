"""The plan: a deterministic, versioned JSON lock file, and its reader.

Same inputs give the same bytes: keys sorted, floats rounded to 9 significant digits,
no timings or absolute paths, UTF-8 with a final newline, written to a temporary file
and renamed so a failed run never leaves half a plan.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner import __version__
from planner.errors import InputError, PlannerError
from planner.fsutil import atomic_write
from planner.inputs.catalog import Catalog
from planner.inputs.files import check_schema
from planner.inputs.spec import Spec

if TYPE_CHECKING:  # the sizing stack is imported where a plan is built, not where one is read
    from planner.inputs.profiles import Profile
    from planner.sizing.costs import SiteCosts
    from planner.sizing.envelope import Envelope
    from planner.sizing.fleet import SiteFleet
    from planner.sizing.link import LinkSizing
    from planner.sizing.verify import Report
    from planner.sizing.workloads import WorkloadSizing

SCHEMA = "hospital-platform/plan"
SCHEMA_VERSION = 5
#: The published JSON Schema every plan is checked against when it is read.
SCHEMA_FILE = "plan.schema.json"


@dataclass(frozen=True)
class InputRef:
    """An input's name (not its absolute path, so plans diff cleanly) and its hash."""

    kind: str
    name: str
    sha256: str


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def milp_solver(variables: int = 0, constraints: int = 0) -> dict[str, Any]:
    """The plan's ``solver`` entry for a proven optimum of the sizing MILP."""
    doc: dict[str, Any] = {"name": "HiGHS via scipy.optimize.milp", "status": "optimal"}
    if variables:
        doc |= {"variables": variables, "constraints": constraints}
    return doc


def build_plan(
    *,
    inputs: tuple[InputRef, ...],
    profile: Profile,
    spec: Spec,
    catalog: Catalog,
    envelope: Envelope,
    fleets: tuple[SiteFleet, ...],
    sizings: tuple[WorkloadSizing, ...],
    report: Report,
    solver: dict[str, Any],
    loader: dict[str, Any] | None = None,
    link: LinkSizing | None = None,
) -> dict[str, Any]:
    """Assemble the plan document (plain data, ready for :func:`dumps_plan`)."""
    from planner.sizing.costs import site_costs
    from planner.sizing.packing import drive_layout, place_drives

    site_docs = []
    totals = {
        "servers": 0.0,
        "drives": 0.0,
        "batteries": 0.0,
        "ups": 0.0,
        "maintenance": 0.0,
        "energy": 0.0,
    }
    scales = {fleet.site: request_scale(fleet, catalog) for fleet in fleets}
    for fleet in fleets:
        env = envelope.site(fleet.site)
        costs = site_costs(fleet, catalog, spec, env.mean_busy_cores)
        for key in totals:
            totals[key] += getattr(costs, key)
        doc = _site_doc(fleet, catalog, spec, envelope, costs)
        doc["pods"] = _pod_docs(spec, sizings, fleet.site, scales[fleet.site][0])
        doc["drive_layout"] = drive_layout(place_drives(fleet.servers, fleet.drives, catalog))
        site_docs.append(doc)
    _add_regional_survival(spec, site_docs)
    capex = totals["servers"] + totals["drives"] + totals["batteries"] + totals["ups"]
    totals_doc = {**totals, "capex": capex}
    totals_doc["tco"] = totals_doc["capex"] + totals["maintenance"] + totals["energy"]
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "planner_version": __version__,
        "inputs": {ref.kind: {"name": ref.name, "sha256": ref.sha256} for ref in inputs},
        "profile": {
            "steps": profile.n_steps,
            "step_s": profile.step_s,
            "start_utc": _iso(int(profile.timestamps_ns[0])),
            "end_utc": _iso(int(profile.timestamps_ns[-1])),
            "loader": loader or {"fill_gaps_s": 0.0, "fill_method": "hold", "jitter": 0.1},
        },
        "assumptions": {
            "name": spec.name,
            "currency": spec.currency,
            "horizon_years": spec.horizon_years,
            "growth_per_year": spec.growth_per_year,
            "workload_growth_per_year": {
                w.name: w.growth_per_year for w in spec.workloads if w.growth_per_year
            },
            "sizing_percentile": spec.percentile,
            "utilisation_ceiling": {
                "cpu": spec.cpu_ceiling,
                "memory": spec.memory_ceiling,
                "drive_iops": spec.drive_iops_ceiling,
            },
            "redundancy_servers_lost": spec.servers_lost,
            "node_reserved": {
                "cpu_cores": spec.reserved_cpu_cores,
                "memory_gib": spec.reserved_memory_gib,
                "per_drive_bay": {
                    "cpu_cores": spec.reserved_cpu_cores_per_drive,
                    "memory_gib": spec.reserved_memory_gib_per_drive,
                    "source": spec.reserved_per_drive_source,
                },
            },
            "hot_failover": spec.hot_failover,
            "storage_overhead": spec.protection.overhead,
            "fill_ceiling": spec.fill_ceiling,
            "pue": spec.pue,
            "energy_price_per_kwh": spec.energy_price_per_kwh,
            "maintenance_rate_per_year": spec.maintenance_rate_per_year,
            "discount_rate_per_year": spec.discount_rate_per_year,
        },
        "sites": site_docs,
        "costs": totals_doc,
        "constraints": [
            {
                "name": c.name,
                "site": c.site,
                "scenario": c.scenario,
                "unit": c.unit,
                "capacity": c.capacity,
                "demand": c.demand,
                "margin": c.margin,
                "margin_pct": 100 * c.margin_ratio if math.isfinite(c.margin_ratio) else None,
                "no_demand": c.no_demand,
                "binding": c.binding,
                "ok": c.ok,
                "exceedances": c.exceedances,
                "allowed_exceedances": c.allowed,
                "kind": c.kind,
                **(
                    {
                        "peak": c.peak,
                        "overshoot_pct": c.overshoot_pct,
                        "longest_overload_minutes": c.longest_overload_min,
                        "overload_minutes": c.overload_min,
                    }
                    if c.peak is not None
                    else {}
                ),
                **(
                    {"peak_pct_of_physical": c.peak_pct_of_physical}
                    if c.peak_pct_of_physical is not None
                    else {}
                ),
            }
            for c in report.checks
        ],
        "workloads": _workload_docs(spec, sizings, scales),
        "cpu_normalisation": cpu_normalisation_doc(spec, catalog, scales),
        "quorum": _quorum_docs(spec, sizings),
        "link": None
        if link is None
        else {
            "replicated_workloads": list(link.replicated_workloads),
            "peak_replication_mib_s": link.peak_mib_s,
            "required_gbit_s_per_path": link.required_gbit_s_per_path,
            "paths": link.paths,
            "rule": f"{link.paths} diverse paths, each able to carry the peak alone",
            "distance_km": link.distance_km,
            "added_commit_latency_ms": link.added_commit_latency_ms,
            "latency_budget_ms": link.latency_budget_ms,
        },
        "solver": solver,
    }


def _site_doc(
    fleet: SiteFleet, catalog: Catalog, spec: Spec, envelope: Envelope, costs: SiteCosts
) -> dict[str, Any]:
    from planner.sizing.server_power import site_power_w

    env = envelope.site(fleet.site)
    servers = [catalog.server(k) for k in fleet.servers]
    drives = [catalog.drive(k) for k in fleet.drives]
    power_kw = {"mean": site_power_w(fleet, catalog, env.mean_busy_cores) / 1000.0}
    for scenario, values in env.demand.items():
        power_kw[scenario] = site_power_w(fleet, catalog, values["cpu_cores"]) / 1000.0
    return {
        "name": fleet.site,
        "servers": [
            {
                "sku": s.sku,
                "count": fleet.servers[s.sku],
                "unit_price": s.price,
                "cores": s.cores,
                "memory_gib": s.memory_gib,
                "rack_units": s.rack_units,
                "drive_bays": s.drive_bays,
                "reserved_cpu_cores": spec.node_cpu_reserved(s.drive_bays),
                "reserved_memory_gib": spec.node_memory_reserved(s.drive_bays),
            }
            for s in servers
        ],
        "drives": [
            {
                "sku": d.sku,
                "count": fleet.drives[d.sku],
                "unit_price": d.price,
                "capacity_tb": d.capacity_tb,
            }
            for d in drives
        ],
        "totals": {
            "servers": fleet.server_count(),
            "drives": fleet.drive_count(),
            "cores": sum(fleet.servers[s.sku] * s.cores for s in servers),
            "memory_gib": sum(fleet.servers[s.sku] * s.memory_gib for s in servers),
            "rack_units": sum(fleet.servers[s.sku] * s.rack_units for s in servers),
            "flash_raw_tb": sum(fleet.drives[d.sku] * d.capacity_tb for d in drives),
        },
        "battery": battery_doc(fleet, catalog, spec, env.peak_busy_cores),
        "power_kw": power_kw,
        "envelope": env.demand,
        "mean_busy_cores": env.mean_busy_cores,
        "written_tib_over_service_life": env.written_tib_life,
        "costs": {
            "servers": costs.servers,
            "drives": costs.drives,
            "batteries": costs.batteries,
            "ups": costs.ups,
            "capex": costs.capex,
            "maintenance": costs.maintenance,
            "energy": costs.energy,
            "tco": costs.tco,
        },
    }


def _add_regional_survival(spec: Spec, site_docs: list[dict[str, Any]]) -> None:
    """Each survival point gets ``sized_regional``: the chance of no clinical downtime
    when both sites lose the grid at once for that long, with both sites' ride-through."""
    batteries = [doc["battery"] for doc in site_docs]
    if spec.power is None or any(b.get("status") != "sized" for b in batteries):
        return
    from planner.power.risk import SURVIVAL_HOURS, regional_survival_curve

    # the same ride-through as the one-site curve: end of life, room limit
    ride = tuple(
        min(
            float(b["runtime_minutes_at_design_load"]["end_of_life"]),
            float((b.get("thermal") or {}).get("minutes_to_limit") or math.inf),
        )
        for b in batteries
    )
    curve = regional_survival_curve(spec.power, ride, SURVIVAL_HOURS)
    for battery in batteries:
        for point, p in zip(battery["survival"], curve, strict=True):
            point["sized_regional"] = p


def battery_doc(
    fleet: SiteFleet, catalog: Catalog, spec: Spec, peak_busy_cores: float
) -> dict[str, Any]:
    """The UPS, battery strings and room of one site at its worst load: what is bought,
    what it gives, what was required and why."""
    if spec.power is None:
        return {"status": "not sized: the spec has no power section"}
    from planner.power.battery import curve_of, fitted_exponent
    from planner.power.risk import SURVIVAL_HOURS, as_was_survival_curve, survival_curve
    from planner.power.thermal import heat_capacity_j_per_k
    from planner.power.ups import derating, purchases_over, site_required_runtime
    from planner.sizing.power_chain import (
        end_of_life,
        installed_strings,
        replay_factor,
        thermal_minutes,
        ups_load,
    )
    from planner.sizing.server_power import site_power_even_w

    power = spec.power
    strings = installed_strings(fleet, catalog)
    if strings is None:
        return {"status": "not sized: no battery strings in the fleet"}
    required = site_required_runtime(power)
    load = ups_load(fleet, catalog, spec, peak_busy_cores)
    load_w = load.total_w
    eol = end_of_life(spec)
    factors = derating(power)
    thermal = thermal_minutes(fleet, spec, load_w)
    battery_eol_lost = strings.runtime_min(load_w, replay_factor(spec, eol), strings.strings - 1)
    battery_eol = strings.runtime_min(load_w, replay_factor(spec, eol))
    curve = curve_of(strings.battery)
    room = power.room
    risk = required.risk
    return {
        "status": "sized",
        "chemistry": power.chemistry,
        "modules": [
            {
                "sku": k,
                "count": n,
                "kwh": catalog.battery(k).kwh,
                "module_v": catalog.battery(k).module_v,
                "unit_price": catalog.battery(k).price,
                "purchases_over_horizon": purchases_over(
                    spec.horizon_years, catalog.battery(k).service_life_years
                ),
                "service_life_years": catalog.battery(k).service_life_years,
            }
            for k, n in fleet.batteries.items()
        ],
        "strings": strings.strings,
        "modules_per_string": strings.modules_per_string,
        "string_v": strings.string_v,
        "ups_frames": [
            {
                "sku": k,
                "count": n,
                "kw": catalog.ups_frame(k).kw,
                "efficiency": catalog.ups_frame(k).efficiency,
                "dc_bus_v": [catalog.ups_frame(k).dc_min_v, catalog.ups_frame(k).dc_max_v],
                "unit_price": catalog.ups_frame(k).price,
            }
            for k, n in fleet.ups.items()
        ],
        "ups_kw": sum(n * catalog.ups_frame(k).kw for k, n in fleet.ups.items()),
        "ups_kw_after_losing_frames": sum(n * catalog.ups_frame(k).kw for k, n in fleet.ups.items())
        - power.ups_redundancy * strings.frame.kw,
        "ups_redundancy": power.ups_redundancy,
        "kwh_installed": sum(n * catalog.battery(k).kwh for k, n in fleet.batteries.items()),
        "design_load_kw": load_w / 1000.0,
        "design_load": {
            "rule": (
                "the largest CPU load of any timestep and scenario, grown to the horizon, at "
                "the worst placement the scheduler may choose (every busy core at its "
                "server's steepest SPECpower chord: the optimiser's own bound, on which the "
                "UPS, the battery and the room's cooling were bought), plus drives and the "
                "other loads on the UPS"
            ),
            "peak_busy_cores": peak_busy_cores,
            "servers_and_drives_kw": load.it_w / 1000.0,
            "servers_and_drives_spread_evenly_kw": site_power_even_w(
                fleet, catalog, peak_busy_cores
            )
            / 1000.0,
            "other_loads": [
                {"name": x.name, "kw": x.watts / 1000.0, "source": x.source}
                for x in power.ups_loads
            ],
            "cooling_on_ups_kw": (load.other_w - sum(x.watts for x in power.ups_loads)) / 1000.0
            + load.cooling_w / 1000.0,
        },
        "runtime_minutes_at_design_load": {
            "new": strings.runtime_min(load_w, replay_factor(spec, 1.0)),
            "end_of_life": strings.runtime_min(load_w, replay_factor(spec, eol)),
            "end_of_life_one_string_lost": battery_eol_lost,
            "sizing_view_one_string_lost": strings.runtime_min(
                load_w, factors.factor, strings.strings - 1
            ),
        },
        "runtime_by_load": [
            {
                "load_kw": load_w * x / 1000.0,
                "new": strings.runtime_min(load_w * x, replay_factor(spec, 1.0)),
                "end_of_life": strings.runtime_min(load_w * x, replay_factor(spec, eol)),
                "end_of_life_one_string_lost": strings.runtime_min(
                    load_w * x, replay_factor(spec, eol), strings.strings - 1
                ),
            }
            for x in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
        ],
        "runtime_curve": {
            "source": strings.battery.runtime_source
            or f"runtime law, exponent {curve.exponent:g} ({strings.battery.source})",
            "exponent": fitted_exponent(curve.table) if curve.table else curve.exponent,
        },
        "required_runtime_minutes": required.minutes,
        "required_runtime_met": required.met,
        "required_runtime_deciding": required.deciding,
        "required_runtime_reason": required.reason,
        "generator_bridge_minutes": required.bridge_minutes,
        "risk_per_grid_failure": {
            "total": risk.total,
            "generator_fails_to_start": risk.fail_to_start,
            "generator_fails_while_running": risk.fail_to_run,
            "failover_too_late_or_failed": risk.failover_too_late,
            "accepted": required.accepted_risk,
        },
        "thermal": None
        if room is None
        else {
            "minutes_to_limit": None if math.isinf(thermal) else thermal,
            "start_c": room.start_c,
            "limit_c": room.limit_c,
            "heat_capacity_kj_per_k": heat_capacity_j_per_k(room) / 1000.0,
            "cooling_options_on_ups": list(fleet.cooling),
            "cooling_options": [
                {
                    "name": o.name,
                    "unit_price": o.price,
                    "ups_kw": o.ups_watts / 1000.0,
                    "removes_kw": o.removes_w / 1000.0,
                    "stored_kwh": o.stored_kwh,
                    "source": o.source,
                }
                for o in power.cooling_options
                if o.name in fleet.cooling
            ],
            "limits_source": "ASHRAE thermal guidelines: recommended 18-27 C inlet; "
            "allowable up to 32 C (A1), 35 C (A2)",
        },
        "survival": [
            {"outage_hours": h, "sized": sized, "as_was": old}
            for h, sized, old in zip(
                SURVIVAL_HOURS,
                survival_curve(power, min(battery_eol, thermal)),
                as_was_survival_curve(power),
                strict=True,
            )
        ],
        "ride_through_minutes": min(battery_eol_lost, thermal),
        "ride_through_decided_by": "room temperature" if thermal < battery_eol_lost else "battery",
        "factors": {
            "temperature": factors.temperature,
            "aging": factors.aging,
            "design_margin": factors.margin,
            "frame_efficiency": strings.frame.efficiency,
        },
    }


def request_scale(fleet: SiteFleet, catalog: Catalog) -> tuple[float, str]:
    """(s, sku): the smallest ``cpu_scale`` of the servers the site buys, and which. A pod
    request of R reference cores is declared as R / s cores: enough on the slowest core
    the site has (exact where the site buys one CPU model); placement is checked the same
    way (:meth:`Catalog.placement_cores`)."""
    scale = catalog.request_scale(fleet.servers)
    return scale, min(k for k, n in fleet.servers.items() if catalog.server(k).cpu_scale == scale)


def cpu_normalisation_doc(
    spec: Spec, catalog: Catalog, scales: dict[str, tuple[float, str]]
) -> dict[str, Any]:
    """What the CPU figures are counted in, and the factors with their SPECrate sources."""
    measured = spec.measured_on
    if measured is None:
        return {
            "normalised": False,
            "rule": "the spec names no measured hardware: a core of any server counts as a "
            "core of the profile's",
        }
    return {
        "normalised": True,
        "rule": "reference cores = cores of the measured hardware; a server's core counts "
        "SPECrate2017_int_base per core / the measured hardware's (SMT is inside the "
        "result, threads are not counted again); pod requests are declared in cores of the "
        "site's slowest bought server; memory, IOPS and stored data are not normalised",
        "measured_on": {
            "hardware": measured.label,
            "cores": measured.cores,
            "int_rate_base": measured.int_rate_base,
            "result": measured.result,
            "rate_per_core": measured.rate_per_core,
        },
        "servers": {
            s.sku: {
                "cpu": s.cpu,
                "cores": s.cores,
                "threads_per_core": s.threads_per_core,
                "int_rate_base": s.spec_int_rate,
                "result": s.spec_int_rate_result,
                "rate_per_core": s.int_rate_per_core,
                "scale": s.cpu_scale,
            }
            for s in catalog.servers
        },
        "sites": {site: {"request_scale": v, "server": k} for site, (v, k) in scales.items()},
    }


def _pod_docs(
    spec: Spec, sizings: tuple[WorkloadSizing, ...], site: str, scale: float = 1.0
) -> dict[str, list[dict[str, Any]]]:
    """Every scenario's pods on ``site``: what the stack declares and the fleet holds (CPU
    in cores of the site's servers: reference cores / ``scale``)."""
    from planner.sizing.pods import site_pod_sets

    return {
        scenario: [
            {
                "workload": g.workload,
                "replicas": g.replicas,
                "cpu_request_cores": g.cpu_cores / scale,
                "memory_request_gib": g.memory_gib,
                "max_per_server": g.max_per_server,
                "rule": "anti-affinity (one per server)"
                if g.anti_affinity
                else f"hostname spread, maxSkew {g.max_per_server} (DoNotSchedule)",
            }
            for g in groups
        ]
        for scenario, groups in site_pod_sets(sizings, spec, site).items()
    }


def _quorum_docs(spec: Spec, sizings: tuple[WorkloadSizing, ...]) -> list[dict[str, Any]]:
    """Per clustered database: its votes per site, the witness's, and every quorum case
    (:mod:`planner.sizing.quorum`)."""
    from planner.sizing.quorum import quorum_cases

    out = []
    for workload in spec.workloads:
        members = [z for z in sizings if z.workload == workload.name]
        if not members or members[0].priority_tier != "database":
            continue
        votes = {z.site: z.replicas_normal for z in members}
        cases = quorum_cases(votes, spec.witness_votes)
        out.append(
            {
                "workload": workload.name,
                "votes": votes,
                "witness_votes": spec.witness_votes,
                "total": cases[0].total,
                "needed": cases[0].needed,
                "cases": [{"case": c.case, "votes": c.votes, "kept": c.kept} for c in cases],
            }
        )
    return out


def _workload_docs(
    spec: Spec, sizings: tuple[WorkloadSizing, ...], scales: dict[str, tuple[float, str]]
) -> list[dict[str, Any]]:
    """Per workload and site, what the stack declares; CPU in cores of the site's servers."""
    from planner.sizing.pods import max_per_server

    docs = []
    for workload in spec.workloads:
        per_site = {}
        for z in sizings:
            if z.workload != workload.name:
                continue
            scale = scales[z.site][0] if z.site in scales else 1.0
            per_site[z.site] = {
                "replicas_normal": z.replicas_normal,
                "replicas_failover": z.replicas_failover,
                "replicas_min": z.replicas_floor,
                "replicas_max": z.replicas_max,
                "cpu_request_cores": z.cpu_request_cores / scale,
                "memory_request_gib": z.memory_request_gib,
                "storage_gib": z.storage_gib,
                "design_cpu_cores": {k: v / scale for k, v in z.design_cpu_cores.items()},
                "design_memory_gib": z.design_memory_gib,
                "max_per_server": max_per_server(z, spec),
            }
        docs.append(
            {
                "name": workload.name,
                "criticality": workload.criticality,
                "failover_fraction": workload.failover_fraction,
                "scaling": workload.scaling,
                "stateful": workload.stateful,
                "sites": per_site,
            }
        )
    return docs


def plan_digest(plan: dict[str, Any]) -> str:
    """SHA-256 of the canonical plan without its ``digest`` key."""
    body = {k: v for k, v in plan.items() if k != "digest"}
    text = json.dumps(
        _canonical(body), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def dumps_plan(plan: dict[str, Any]) -> str:
    """Canonical strict JSON (sorted keys, rounded floats, no NaN or infinity, two-space
    indent, final newline), with the ``digest`` of its content."""
    body = _canonical({k: v for k, v in plan.items() if k != "digest"})
    body["digest"] = plan_digest(body)
    return json.dumps(body, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_plan(plan: dict[str, Any], path: Path, inputs: tuple[Path, ...] = ()) -> None:
    """Write atomically (a temporary file beside the target, then rename). An existing
    file is only replaced when it is a plan; an input path is never overwritten."""
    atomic_write(path, dumps_plan(plan), replaceable=is_plan_file, what="plan", inputs=inputs)


def is_plan_file(path: Path) -> bool:
    """True when ``path`` holds a JSON document with this planner's plan schema."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 24)
        data = json.loads(head)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("schema") == SCHEMA


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number in strict JSON")


#: Plans already checked in this process, by (path, text hash, digest checked): a render
#: reads its plan three times (program, drill, reachability), the schema check once.
_CHECKED: dict[tuple[str, str, bool], dict[str, Any]] = {}


def read_plan(path: Path, *, verify_digest: bool = True) -> dict[str, Any]:
    """Read a plan: strict JSON, the published schema, the checks a schema cannot express,
    and (``verify_digest``) that its numbers still match the digest ``planner size`` wrote.
    Every failure is an :class:`InputError` naming the file and the key."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            source, "", "plan file not found: run `planner size` first (or give the plan's path)"
        ) from None
    except IsADirectoryError:
        raise InputError(source, "", "is a folder, expected a plan JSON file") from None
    except UnicodeDecodeError:
        raise InputError(source, "", "not a plan: not UTF-8 text") from None
    key = (source, hashlib.sha256(text.encode()).hexdigest(), verify_digest)
    if key in _CHECKED:  # the same text, already checked in this process
        return copy.deepcopy(_CHECKED[key])
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise InputError(source, "", f"not a valid JSON plan ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise InputError(source, "key 'schema'", f"expected '{SCHEMA}'")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise InputError(
            source,
            "key 'schema_version'",
            f"expected {SCHEMA_VERSION}, got {data.get('schema_version')!r}: re-run "
            "`planner size` with this planner to write a current plan",
        )
    validate_plan(data, source)
    if verify_digest and data["digest"] != plan_digest(data):
        raise InputError(
            source,
            "key 'digest'",
            "the plan's content no longer matches the digest `planner size` wrote: it was "
            "edited by hand; re-run `planner size` to make a plan procurement can rely on",
        )
    _CHECKED[key] = copy.deepcopy(data)
    return data


def is_edited(plan: dict[str, Any]) -> bool:
    """True when a plan read with ``verify_digest=False`` no longer matches its digest."""
    return bool(plan.get("digest") != plan_digest(plan))


def _schema() -> dict[str, Any]:
    from importlib import resources

    loaded: dict[str, Any] = json.loads(
        (resources.files("planner") / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8")
    )
    return loaded


def validate_plan(plan: dict[str, Any], source: str) -> None:
    """The JSON Schema, then the semantic checks (sums, every workload in every site)."""
    check_schema(plan, _schema(), source)
    _check_semantics(plan, source)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


def _check_semantics(plan: dict[str, Any], source: str) -> None:
    def fail(key: str, expected: str) -> InputError:
        return InputError(source, f"key '{key}'", expected)

    names = [site["name"] for site in plan["sites"]]
    if len(set(names)) != len(names):
        raise fail("sites", f"site names must differ, got {names}")
    for i, site in enumerate(plan["sites"]):
        key = f"sites[{i}]"
        totals = site["totals"]
        for kind in ("servers", "drives"):
            counted = sum(int(x["count"]) for x in site[kind])
            if counted != totals[kind]:
                raise fail(f"{key}.totals.{kind}", f"{totals[kind]}, but the list counts {counted}")
        battery = site["battery"]
        if battery["status"] == "sized":
            kwh = sum(m["count"] * m["kwh"] for m in battery["modules"])
            if not _close(kwh, battery["kwh_installed"]):
                raise fail(
                    f"{key}.battery.kwh_installed",
                    f"{battery['kwh_installed']:g} kWh, but its modules give {kwh:g} kWh",
                )
            if sum(m["count"] for m in battery["modules"]) == 0:
                raise fail(f"{key}.battery.modules", "a sized battery needs at least one module")
            kw = sum(f["count"] * f["kw"] for f in battery["ups_frames"])
            if not _close(kw, battery["ups_kw"]):
                raise fail(
                    f"{key}.battery.ups_kw",
                    f"{battery['ups_kw']:g} kW, but its frames give {kw:g} kW",
                )
        _check_costs(site["costs"], f"{key}.costs", fail)
    _check_costs(plan["costs"], "costs", fail)
    for part in ("servers", "drives", "batteries", "ups", "maintenance", "energy"):
        total = sum(site["costs"][part] for site in plan["sites"])
        if not _close(total, plan["costs"][part]):
            raise fail(
                f"costs.{part}", f"{plan['costs'][part]:g}, but the sites add up to {total:g}"
            )
    for j, workload in enumerate(plan["workloads"]):
        planned = set(workload["sites"])
        if planned != set(names):
            missing = sorted(set(names) - planned) or sorted(planned - set(names))
            raise fail(
                f"workloads[{j}].sites",
                f"expected an entry for every site ({', '.join(names)}); "
                f"{'missing' if set(names) - planned else 'unknown'}: {', '.join(missing)}",
            )
        for name, z in workload["sites"].items():
            if z["replicas_min"] > z["replicas_max"]:
                raise fail(
                    f"workloads[{j}].sites.{name}.replicas_min",
                    f"{z['replicas_min']} is above replicas_max {z['replicas_max']}",
                )
    for k, check in enumerate(plan["constraints"]):
        if check["site"] not in names:
            raise fail(f"constraints[{k}].site", f"unknown site '{check['site']}'")


def _check_costs(costs: dict[str, Any], key: str, fail: Any) -> None:
    capex = costs["servers"] + costs["drives"] + costs["batteries"] + costs["ups"]
    if not _close(capex, costs["capex"]):
        raise fail(f"{key}.capex", f"{costs['capex']:g}, but its parts add up to {capex:g}")
    tco = costs["capex"] + costs["maintenance"] + costs["energy"]
    if not _close(tco, costs["tco"]):
        raise fail(f"{key}.tco", f"{costs['tco']:g}, but capex + maintenance + energy = {tco:g}")


def margin_key(check: dict[str, Any]) -> float:
    """Sort key of a plan constraint: its margin %, a constraint with no demand last."""
    value = check.get("margin_pct")
    return float(value) if value is not None else math.inf


def margin_text(check: dict[str, Any]) -> str:
    """A plan constraint's margin for people: "12.3 %", or "no demand"."""
    value = check.get("margin_pct")
    return "no demand" if value is None else f"{value:.1f} %"


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PlannerError(f"a plan holds only finite numbers, got {value}")
        rounded = float(f"{value:.9g}")
        return 0.0 if rounded == 0 else rounded
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    raise TypeError(f"cannot write {type(value).__name__} to a plan")


def _iso(ns: int) -> str:
    import pandas as pd

    return str(pd.Timestamp(ns, tz="UTC").isoformat())


@dataclass(frozen=True)
class PlannedSite:
    """What one site must declare for one workload (read from a plan)."""

    replicas_min: int
    replicas_max: int
    replicas_failover: int
    cpu_request_cores: float
    memory_request_gib: float
    storage_gib: int
    failover_cpu_cores: float
    failover_memory_gib: float
    max_per_server: int = 1


@dataclass(frozen=True)
class PlannedWorkload:
    name: str
    criticality: str
    scaling: str
    stateful: bool
    sites: dict[str, PlannedSite]


def quorum_of(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The plan's quorum statement per clustered database workload."""
    return {q["workload"]: q for q in plan.get("quorum") or []}


def witness_votes(plan: dict[str, Any]) -> int:
    """Witness voters the plan's quorum counts on (1 when it has no clustered database)."""
    return max((int(q["witness_votes"]) for q in plan.get("quorum") or []), default=1)


def planned_workloads(plan: dict[str, Any], source: str = "plan") -> tuple[PlannedWorkload, ...]:
    """The per-workload, per-site sizing the Kubernetes side declares, typed."""
    try:
        out = []
        for doc in plan["workloads"]:
            sites = {}
            for site, z in sorted(doc["sites"].items()):
                failover = next(k for k in z["design_cpu_cores"] if k != "normal")
                sites[site] = PlannedSite(
                    replicas_min=int(z["replicas_min"]),
                    replicas_max=int(z["replicas_max"]),
                    replicas_failover=int(z["replicas_failover"]),
                    cpu_request_cores=float(z["cpu_request_cores"]),
                    memory_request_gib=float(z["memory_request_gib"]),
                    storage_gib=int(z["storage_gib"]),
                    failover_cpu_cores=float(z["design_cpu_cores"][failover]),
                    failover_memory_gib=float(z["design_memory_gib"][failover]),
                    max_per_server=int(z["max_per_server"]),
                )
            out.append(
                PlannedWorkload(
                    name=str(doc["name"]),
                    criticality=str(doc["criticality"]),
                    scaling=str(doc["scaling"]),
                    stateful=bool(doc["stateful"]),
                    sites=sites,
                )
            )
        return tuple(out)
    except (KeyError, TypeError, ValueError, StopIteration) as exc:
        raise InputError(source, "key 'workloads'", f"malformed workload sizing ({exc})") from None


def plan_site_names(plan: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(site["name"]) for site in plan["sites"])
