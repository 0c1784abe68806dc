"""`planner tender evaluate`: each offer's configuration through the sizing's own verifier,
then the tender's evaluation model, per lot.

An offer becomes a catalogue (its models, CPU counted against the hardware the profile
was measured on, as for the plan) and one fleet per site; :func:`verify_plan` replays the
whole profile against it: CPU, memory, IOPS and flash after losing any r servers, pods
placed pod by pod after every loss, drive bays, rack space, UPS power and battery runtime
at the design load with a string lost, and the room. A lot the offer leaves empty is
counted with the plan's reference configuration, so each lot is judged on its own.

Costs follow the tender's formula (:mod:`planner.outputs.tender.requirements`), the same
as the bid form's formulas.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from planner.inputs.bids import Bid, BidPart, parse_runtime_table
from planner.inputs.catalog import BatterySku, Catalog, DriveSku, ServerSku, UpsFrameSku
from planner.inputs.measured import normalise_catalog, resolve_measured
from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec
from planner.inputs.units import HOURS_PER_YEAR
from planner.outputs.tender.evaluation import BidResult, LotResult
from planner.outputs.tender.model import TenderOptions
from planner.power.ups import purchases_over
from planner.sizing.fleet import SiteFleet
from planner.sizing.server_power import site_power_even_w
from planner.sizing.verify import Check, verify_plan
from planner.sizing.workloads import WorkloadSizing

LOT2_CHECKS = ("UPS power", "battery", "room under")
TERMS = TenderOptions()  # the pack's default terms (spares), as the bid form has them


def _servers(bid: Bid) -> list[ServerSku]:
    return [
        ServerSku(
            sku=p["model"],
            cores=p["cores"],
            memory_gib=p["memory_gib"],
            drive_bays=p["drive_bays"],
            rack_units=p["rack_units"],
            idle_w=p["idle_w"],
            half_w=p["half_w"],
            full_w=p["full_w"],
            price=p["price"],
            source=f"offer {bid.name}: SPECpower {p['power_result']}",
            spec_int_rate=p["int_rate_base"],
            spec_int_rate_result=p["int_rate_result"],
            cpu=p["processor"],
            threads_per_core=p["threads_per_core"],
        )
        for p in bid.servers
    ]


def _drives(bid: Bid) -> list[DriveSku]:
    return [
        DriveSku(
            p["model"],
            p["capacity_tb"],
            p["read_iops"],
            p["write_iops"],
            p["dwpd"],
            p["watts"],
            p["price"],
            f"offer {bid.name}",
        )
        for p in bid.drives
    ]


def _power(bid: Bid, site: str) -> tuple[BatterySku, UpsFrameSku]:
    p = bid.power[site]
    table = parse_runtime_table(p["runtime_table"], bid.path, 0)
    battery = BatterySku(
        sku=p["module"], chemistry=p["chemistry"], kwh=p["module_kwh"], max_kw=p["module_kw"],
        service_life_years=p["module_life_years"], price=p["module_price"],
        source=f"offer {bid.name}", module_v=p["module_v"], runtime_table=table,
        runtime_source=f"offer {bid.name}: the tenderer's runtime table",
    )  # fmt: skip
    frame = UpsFrameSku(p["frame"], p["frame_kw"], p["efficiency"], p["frame_price"],
                        f"offer {bid.name}", p["dc_min_v"], p["dc_max_v"])  # fmt: skip
    return battery, frame


def offer_catalog(
    bid: Bid, spec: Spec, reference: Catalog, plan_fleets: tuple[SiteFleet, ...], source: str
) -> tuple[Catalog, tuple[SiteFleet, ...]]:
    """The offer as a catalogue and fleets; empty parts taken from the reference plan."""
    servers = _servers(bid) or [reference.server(k) for f in plan_fleets for k in f.servers]
    drives = _drives(bid) or [reference.drive(k) for f in plan_fleets for k in f.drives]
    batteries: dict[str, BatterySku] = {}
    frames: dict[str, UpsFrameSku] = {}
    fleets = []
    for fleet in plan_fleets:
        site = fleet.site
        if bid.servers:
            fleet = replace(fleet, servers={p["model"]: p.counts[site] for p in bid.servers
                                            if p.counts[site]})  # fmt: skip
        if bid.drives:
            fleet = replace(fleet, drives={p["model"]: p.counts[site] for p in bid.drives
                                           if p.counts[site]})  # fmt: skip
        if site in bid.power:
            battery, frame = _power(bid, site)
            batteries[battery.sku], frames[frame.sku] = battery, frame
            p = bid.power[site]
            fleet = replace(fleet, batteries={battery.sku: p["modules"]},
                            ups={frame.sku: p["frames"]}, strings=p["strings"])  # fmt: skip
        else:
            for k in fleet.batteries:
                batteries[k] = reference.battery(k)
            for k in fleet.ups:
                frames[k] = reference.ups_frame(k)
        fleets.append(fleet)
    catalog = Catalog(
        reference.currency,
        tuple({s.sku: s for s in servers}.values()),
        tuple({d.sku: d for d in drives}.values()),
        tuple(batteries.values()),
        tuple(frames.values()),
    )
    if bid.servers:
        measured = spec.measured_on and resolve_measured(spec.measured_on, reference, source)
        catalog = normalise_catalog(catalog, measured, source, str(bid.path))
    return catalog, tuple(fleets)


def _failure(c: Check) -> str:
    where = f"{c.site}/{c.scenario}" if c.scenario else c.site
    if c.unit in ("U", "ms"):  # a limit: the offer uses more than it may
        return f"{c.name} at {where}: uses {c.demand:,.1f} {c.unit} of {c.capacity:,.1f}"
    short = c.demand - c.capacity
    if short <= 0:  # the totals suffice: a rule (spread, pod size, a loss) decides
        return (
            f"{c.name} at {where}: fails with {c.capacity:,.1f} {c.unit} for {c.demand:,.1f} "
            "(not the total: the placement rules or a pod's size decide)"
        )
    return (
        f"{c.name} at {where}: {c.capacity:,.1f} {c.unit} against {c.demand:,.1f} needed "
        f"(short by {short:,.1f} {c.unit})"
    )


def evaluate_bid(
    bid: Bid,
    plan: dict[str, Any],
    spec: Spec,
    reference: Catalog,
    profile: Profile,
    sizings: tuple[WorkloadSizing, ...],
    plan_fleets: tuple[SiteFleet, ...],
    evaluation: dict[str, Any],
    source: str,
) -> BidResult:
    catalog, fleets = offer_catalog(bid, spec, reference, plan_fleets, source)
    report = verify_plan(profile, spec, catalog, fleets, sizings)
    failed = report.failures()
    lot2 = tuple(_failure(c) for c in failed if c.name.startswith(LOT2_CHECKS))
    lot1 = tuple(_failure(c) for c in failed if not c.name.startswith(LOT2_CHECKS))
    costs1, util = lot1_costs(bid, catalog, fleets, plan, evaluation)
    costs2 = lot2_costs(bid, evaluation)
    return BidResult(
        bid.name,
        str(bid.path),
        (
            LotResult(1, bool(bid.servers and bid.drives), lot1, sum(costs1.values()), costs1),
            LotResult(2, bool(bid.power), lot2, sum(costs2.values()), costs2),
        ),
        util,
    )


def _energy(kw: float, evaluation: dict[str, Any]) -> float:
    e = evaluation
    return float(kw * HOURS_PER_YEAR * e["horizon_years"] * e["pue"] * e["energy_price_per_kwh"])


def spare_drives(count: int, options: TenderOptions = TERMS) -> int:
    """The tender's spare drives for ``count`` of one model offered at a site."""
    return max(math.ceil(count * options.spare_drive_share - 1e-9), options.min_spare_drives)


def lot1_costs(
    bid: Bid,
    catalog: Catalog,
    fleets: tuple[SiteFleet, ...],
    plan: dict[str, Any],
    evaluation: dict[str, Any],
) -> tuple[dict[str, float], dict[str, float]]:
    """(TCO terms, utilisation per site): purchase and support, spares, energy at the
    site's mean load on the offer's own power curves (spread evenly, as the form does)."""
    support = {p["model"]: p["support"] for p in (*bid.servers, *bid.drives)}
    spare = {p["model"]: p["spare_price"] for p in bid.drives}
    rate = (
        plan["cpu_normalisation"]["measured_on"]["rate_per_core"]
        if plan["cpu_normalisation"]["normalised"]
        else 1.0
    )
    terms = {"purchase": 0.0, "support": 0.0, "spares": 0.0, "energy": 0.0}
    util: dict[str, float] = {}
    for fleet in fleets:
        for k, n in (*fleet.servers.items(), *fleet.drives.items()):
            item = catalog.server(k) if k in fleet.servers else catalog.drive(k)
            terms["purchase"] += n * item.price
            terms["support"] += n * support.get(k, 0.0)
        for k, n in fleet.drives.items():  # spares of each model offered at the site
            terms["spares"] += spare_drives(n) * spare.get(k, catalog.drive(k).price) if n else 0.0
        busy_ref = evaluation["mean_load"][fleet.site] / rate  # in reference cores
        total = sum(n * catalog.server(k).ref_cores for k, n in fleet.servers.items())
        util[fleet.site] = min(1.0, busy_ref / total) if total else 0.0
        terms["energy"] += _energy(site_power_even_w(fleet, catalog, busy_ref) / 1000, evaluation)
    return terms, util


def lot2_costs(bid: Bid, evaluation: dict[str, Any]) -> dict[str, float]:
    years = evaluation["horizon_years"]
    terms = {"purchase": 0.0, "support": 0.0, "spares": 0.0, "losses": 0.0}
    for site, p in bid.power.items():
        buys = purchases_over(years, p["module_life_years"])
        terms["purchase"] += (
            p["frames"] * p["frame_price"] + p["modules"] * p["module_price"] * buys
        )
        terms["support"] += p["frames"] * p["frame_support"]
        terms["spares"] += TERMS.spare_battery_modules * p["spare_module_price"]
        losses_kw = evaluation["mean_ups_kw"][site] * (1.0 / p["efficiency"] - 1.0)
        terms["losses"] += _energy(losses_kw, evaluation)
    return terms


def bid_sites(plan: dict[str, Any]) -> list[str]:
    return [s["name"] for s in plan["sites"]]


__all__ = ["BidPart", "bid_sites", "evaluate_bid"]
