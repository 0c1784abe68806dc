"""A vendor-neutral tender pack derived from a plan: lots, functional requirements,
quantities with delivery phasing and options, spares, support and the evaluation model.

Every numeric requirement names the figures it comes from (``sources``): JSON pointers
into the plan (``plan:/sites/0/servers/0/cores``), catalogue fields of the reference
configuration (``catalog:drives/<sku>/dwpd``) or a constraint's utilisation
(``plan:/constraints/<k>#ratio`` = demand / capacity). Its value is the product of those
figures, rounded up for a minimum and down for a maximum to three significant digits,
so a requirement asks for what the plan needs, never less. The planning SKUs appear
only as the "reference configuration".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from planner.inputs.catalog import Catalog
from planner.inputs.spec import Spec
from planner.outputs.plan import plan_digest
from planner.outputs.tender.functional import placement_condition, pod_tables, site_requirements
from planner.outputs.tender.model import (
    AT_LEAST,
    AT_MOST,
    LEFT_TO_AUTHORITY,
    OR_EQUIVALENT,
    OUT_OF_SCOPE,
    Lot,
    Quantity,
    Requirement,
    Tender,
    TenderOptions,
    round_down,
    round_up,
)

__all__ = [
    "AT_LEAST",
    "AT_MOST",
    "LEFT_TO_AUTHORITY",
    "OR_EQUIVALENT",
    "OUT_OF_SCOPE",
    "Lot",
    "Quantity",
    "Requirement",
    "Tender",
    "TenderOptions",
    "build_tender",
    "phase",
    "round_down",
    "round_up",
]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _type_names(skus: list[str]) -> dict[str, str]:
    return {sku: f"type {chr(ord('A') + i)}" for i, sku in enumerate(skus)}


def _server_lot(
    plan: dict[str, Any],
    spec: Spec,
    catalog: Catalog,
    stored_by_year: Sequence[float],
    options: TenderOptions,
) -> Lot:
    """Lot 1 by function per site (:mod:`planner.outputs.tender.functional`); the plan's
    servers and drives only as the reference configuration and reference quantities."""
    reqs: list[Requirement] = []
    for i in range(len(plan["sites"])):
        reqs += site_requirements(plan, spec, i)
    server_skus = sorted({s["sku"] for site in plan["sites"] for s in site["servers"]})
    drive_skus = sorted({d["sku"] for site in plan["sites"] for d in site["drives"]})
    names = {k: f"Server {v} (reference)" for k, v in _type_names(server_skus).items()}
    names |= {k: f"Flash drive {v} (reference)" for k, v in _type_names(drive_skus).items()}
    refs = [
        f"Reference configuration for {_lower_first(names[k].removesuffix(' (reference)'))}: {k}, "
        f"{catalog.server(k).description} ({catalog.server(k).source})."
        for k in server_skus
    ]
    refs += [
        f"Reference configuration for {_lower_first(names[k].removesuffix(' (reference)'))}: {k}, "
        f"{catalog.drive(k).description} ({catalog.drive(k).source})."
        for k in drive_skus
    ]
    quantities: list[Quantity] = []
    schedule = plan.get("purchases", {}).get("schedule")
    for site in plan["sites"]:
        for s in site["servers"]:
            if schedule:
                firm, calls = scheduled(schedule, site["name"], s["sku"])
            else:
                firm, calls = int(s["count"]), ()
            quantities.append(Quantity(site["name"], names[s["sku"]], firm, calls))
        for d in site["drives"]:
            count = int(d["count"])
            if schedule:
                firm, calls = scheduled(schedule, site["name"], d["sku"])
            else:
                firm, calls = phase(count, stored_by_year)
            spares = max(math.ceil(count * options.spare_drive_share), options.min_spare_drives)
            quantities.append(
                Quantity(site["name"], names[d["sku"]], firm, calls, spares, "drives")
            )
    conditions = (
        "Quantities are the tenderer's: it offers per site the number of servers of each "
        "model and of drives that meets the requirements above. The reference quantities "
        "below show one configuration that does, for orientation only.",
        *(placement_condition(plan, spec, i) for i in range(len(plan["sites"]))),
        "Each offered server model: its published SPECrate2017_int_base result on the offered "
        "processors and memory population, and its SPECpower_ssj2008 (or SERT 2) result on "
        "the offered configuration (watts at active idle, 50 % and 100 % load). Power is not "
        "a pass/fail limit: the evaluation prices each offer's energy from its own curve.",
        "Drives: NVMe, PCIe 4.0 x4 or later, hot-swappable in the offered servers' front "
        "bays; the offer has at least as many bays as drives, spares excluded.",
        "Drive options: the buyer may call off more drives of the offered models, at the "
        "offered unit price, in the years of the option schedule; spares at the offered "
        "spare price.",
        "Servers: two hot-swappable power supplies on separate feeds; a remote management "
        "controller; firmware updates signed by the manufacturer.",
    )
    return Lot(1, "Servers and flash storage", tuple(reqs), conditions, tuple(quantities),
               tuple(refs))  # fmt: skip


def _power_lot(plan: dict[str, Any], catalog: Catalog, options: TenderOptions) -> Lot | None:
    sites = [(i, s) for i, s in enumerate(plan["sites"]) if s["battery"].get("status") == "sized"]
    if not sites:
        return None
    reqs: list[Requirement] = []
    quantities: list[Quantity] = []
    refs: list[str] = []
    for i, site in sites:
        b = site["battery"]
        at = f"plan:/sites/{i}/battery"
        item = f"UPS and battery, {site['name']}"
        r = b["ups_redundancy"]
        load = b["design_load_kw"]
        thermal = b.get("thermal") or {}
        reqs += [
            Requirement(item, f"UPS output after losing {r} power module(s)", AT_LEAST,
                        round_up(load * b["factors"]["design_margin"]), "kW",
                        (f"{at}/design_load_kw", f"{at}/factors/design_margin"),
                        "the site's worst load (CPU peak of any step and scenario, spread "
                        "evenly, plus drives, network and cooling on the UPS) times the margin",
                        "IEC 62040-3 or equivalent"),
            Requirement(item, "double-conversion efficiency at the design load", AT_LEAST,
                        round_up(b["factors"]["frame_efficiency"]), "", (
                            f"{at}/factors/frame_efficiency",),
                        "the battery runtime assumes it", "IEC 62040-3 or equivalent"),
            Requirement(item, f"battery runtime at {load:,.1f} kW, end of life, one string "
                        "lost", AT_LEAST, round_up(b["required_runtime_minutes"]), "minutes",
                        (f"{at}/required_runtime_minutes",), b["required_runtime_reason"],
                        "manufacturer's runtime table at end of life (80 % capacity) and the "
                        "room temperature, or equivalent"),
            Requirement(item, "independent battery strings", AT_LEAST, b["strings"], "strings",
                        (f"{at}/strings",), "a failed string leaves the runtime above"),
        ]  # fmt: skip
        for j, m in enumerate(b.get("modules", [])):
            reqs.append(
                Requirement(
                    item,
                    "battery design life",
                    AT_LEAST,
                    m["service_life_years"],
                    "years",
                    (f"{at}/modules/{j}/service_life_years",),
                    "the cash flow replaces batteries at this age",
                    "manufacturer's design life at the room temperature",
                )
            )
            refs.append(f"Reference configuration for {item}: {m['sku']} battery modules "
                        f"({catalog.battery(m['sku']).source}).")  # fmt: skip
        for u in b.get("ups_frames", []):
            refs.append(f"Reference configuration for {item}: {u['count']} x {u['sku']} "
                        f"({catalog.ups_frame(u['sku']).source}).")  # fmt: skip
        for k, option in enumerate(thermal.get("cooling_options", [])):
            reqs += [
                Requirement(item, "cooling on the UPS: heat removed", AT_LEAST,
                            round_up(option["removes_kw"]), "kW",
                            (f"{at}/thermal/cooling_options/{k}/removes_kw",),
                            f"keeps the room under {thermal['limit_c']:g} C for the runtime"),
                Requirement(item, "cooling on the UPS: its own load", AT_MOST,
                            round_down(option["ups_kw"]), "kW",
                            (f"{at}/thermal/cooling_options/{k}/ups_kw",),
                            "the UPS and battery are sized with this load on them"),
            ]  # fmt: skip
        quantities.append(
            Quantity(site["name"], item, 1, (), options.spare_battery_modules, "battery modules")
        )
    chemistries = ", ".join(sorted({s["battery"]["chemistry"].upper() for _, s in sites}))
    conditions = (
        "Modular double-conversion UPS with hot-swappable power modules; the battery strings "
        "each with their own protection, so one string can be isolated and the rest carry on.",
        f"Battery chemistry as planned ({chemistries}) "
        "or another with at least the same runtime at end of life and design life.",
        "Battery monitoring per string (voltage, temperature, impedance) reported to the "
        "buyer's monitoring.",
    )
    return Lot(2, "UPS and batteries", tuple(reqs), conditions, tuple(quantities), tuple(refs))


def scheduled(
    schedule: list[dict[str, Any]], site: str, sku: str
) -> tuple[int, tuple[tuple[int, int], ...]]:
    """Firm quantity and options from a phased plan's purchase schedule: the first
    purchase is firm, the later ones are options in their year."""
    counts = [(float(step["year"]), int(step["sites"][site].get(sku, 0))) for step in schedule]
    firm = counts[0][1]
    return firm, tuple((round(year), n) for year, n in counts[1:] if n)


def phase(count: int, stored_by_year: Sequence[float]) -> tuple[int, tuple[tuple[int, int], ...]]:
    """Firm quantity and yearly options for ``count`` drives sized for the horizon's end:
    each call-off carries the data to the next one. ``stored_by_year`` is the stored data
    at years 0..H (any unit); the firm quantity carries year 1."""
    if len(stored_by_year) < 3 or stored_by_year[-1] <= 0:
        return count, ()
    end = stored_by_year[-1]
    need = [min(count, math.ceil(count * v / end - 1e-9)) for v in stored_by_year]
    firm = need[1]
    options = []
    have = firm
    for year in range(1, len(need) - 1):
        extra = need[year + 1] - have
        if extra > 0:
            options.append((year, extra))
            have += extra
    if have < count:
        options.append((len(need) - 2, count - have))
    return firm, tuple(options)


def build_tender(
    plan: dict[str, Any],
    spec: Spec,
    catalog: Catalog,
    stored_by_year: Sequence[float],
    options: TenderOptions | None = None,
) -> Tender:
    """The tender pack for ``plan`` (made from ``spec``); ``stored_by_year`` (years 0..H,
    the data each site holds: both sites', so the same for each) phases the drives."""
    options = options or TenderOptions()
    a = plan["assumptions"]
    lots = [_server_lot(plan, spec, catalog, stored_by_year, options)]
    power = _power_lot(plan, catalog, options)
    if power is not None:
        lots.append(power)
    norm = plan["cpu_normalisation"]
    open_items = []
    if not norm["normalised"]:
        open_items.append(
            "The spec names no hardware the profile was measured on (key measured_on), so CPU "
            "is required in cores, not throughput: tenderers cannot offer fewer, faster "
            "cores. State the measured servers' CPU and SPECrate2017_int_base result."
        )
    rate = norm["measured_on"]["rate_per_core"] if norm["normalised"] else 1.0
    mean_busy = {site["name"]: site["mean_busy_cores"] * rate for site in plan["sites"]}
    mean_kw = {
        site["name"]: site["power_kw"]["mean"]
        + sum(x["kw"] for x in site["battery"].get("design_load", {}).get("other_loads", []))
        for site in plan["sites"]
    }
    years = a["horizon_years"]
    unit = "SPECrate2017_int_base" if norm["normalised"] else "cores"
    return Tender(
        title=f"Tender: {a['name']}",
        plan_digest=plan.get("digest") or plan_digest(plan),
        currency=a["currency"],
        horizon_years=years,
        lots=tuple(lots),
        support=(
            f"24x7 support for {years:g} years from acceptance, on-site response within "
            f"{options.response_hours} hours, parts included (ASSUMPTION: tender default).",
            "Failed drives are not returned: they hold patient data and are destroyed by the "
            "buyer (ASSUMPTION: tender default)."
            if options.keep_failed_drives
            else "Failed drives are returned after the buyer has erased them.",
            "Firmware and security updates for the whole support period.",
        ),
        evaluation={
            "rule": "the lowest total cost of ownership over the horizon, per lot, among "
            "compliant offers (most economically advantageous tender on cost, Directive "
            "2014/24/EU article 67); an offer that fails a requirement is not compliant",
            "formula": "Lot 1: TCO = servers x (unit price + support for the horizon) + drives "
            "x (unit price + support) + spare drives x spare price + energy; energy = (sum "
            "over servers of count x P(u) + sum over drives of count x W) / 1000 x 8760 h x "
            "horizon x PUE x energy price, with P(u) the offer's own SPECpower curve "
            "interpolated between active idle, 50 % and 100 % at u = the site's mean CPU load "
            f"({unit}) / the sum of the offered servers' SPECrate2017_int_base. Lot 2: TCO = "
            "frames x (price + support) + modules x price x purchases over the horizon (by the "
            "offered design life) + spare modules x price + UPS losses; losses = the site's "
            "mean UPS load x (1 / efficiency - 1) x 8760 h x horizon x PUE x energy price",
            "pue": a["pue"],
            "energy_price_per_kwh": a["energy_price_per_kwh"],
            "horizon_years": years,
            "mean_load": mean_busy,
            "mean_load_unit": unit,
            "mean_ups_kw": mean_kw,
            "vat": "all prices exclude VAT",
            "price_date": "prices, option prices and spare prices fixed for the whole contract "
            "term, or indexed yearly to the public price index the contracting authority "
            "names; the plan's prices are planning assumptions, not a budget",
        },
        open_items=tuple(open_items),
        assumptions=(
            f"Spare drives: {100 * options.spare_drive_share:g} % of each site's drives, at "
            f"least {options.min_spare_drives} (ASSUMPTION: tender default).",
            f"Spare battery modules: {options.spare_battery_modules} per site (ASSUMPTION: "
            "tender default).",
            "Options follow the plan's purchase schedule (planner size --phases): each "
            "purchase carries the load to the next."
            if plan.get("purchases")
            else "Drive options: each call-off carries the stored data, grown as the plan "
            "assumes, to the next year; the plan itself prices buying everything at the start.",
        ),
        pods={
            f"{site['name']} ({scenario})": pods
            for i, site in enumerate(plan["sites"])
            for scenario, pods in pod_tables(plan, i).items()
        },
    )
