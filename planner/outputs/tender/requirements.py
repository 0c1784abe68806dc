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
from dataclasses import dataclass, field
from typing import Any

from planner.inputs.catalog import Catalog
from planner.outputs.plan import plan_digest

AT_LEAST = ">="
AT_MOST = "<="

OR_EQUIVALENT = (
    "Where this tender names a product, a standard or a test method, it does so only to "
    "describe the performance required; every such reference is followed by 'or "
    "equivalent' (Directive 2014/24/EU, article 42). Tenderers may offer any product that "
    "meets the functional requirements and prove it with published results or test reports."
)

OUT_OF_SCOPE = (
    "network switches, firewalls, cabling and racks (the plan counts their power on the UPS "
    "but does not size them)",
    "software licences: operating systems, database, virtualisation and Kubernetes",
    "standby generators and the building's cooling plant",
    "installation works in the rooms, and removal and disposal of the old equipment",
    "migration of patient data from the old systems",
    "backup and archive storage kept apart from both sites",
)


@dataclass(frozen=True)
class TenderOptions:
    """Tender terms the plan does not decide: defaults are marked as assumptions."""

    spare_drive_share: float = 0.02  # ASSUMPTION: 2 % of drives, at least 2, per site
    min_spare_drives: int = 2
    spare_battery_modules: int = 1  # ASSUMPTION: one module per site
    response_hours: int = 4  # ASSUMPTION: 24x7 support, 4-hour on-site response
    keep_failed_drives: bool = True  # patient data: failed drives stay with the buyer


@dataclass(frozen=True)
class Requirement:
    item: str  # e.g. "Server type A"
    what: str
    bound: str  # AT_LEAST or AT_MOST
    value: float
    unit: str
    sources: tuple[str, ...]  # the plan and catalogue figures multiplied to get ``value``
    basis: str  # how the figure follows from the plan, in words
    verified_by: str = ""  # the standard or measurement that proves it

    def text(self) -> str:
        word = "at least" if self.bound == AT_LEAST else "at most"
        return f"{self.what}: {word} {self.value:,.10g} {self.unit}".rstrip()


@dataclass(frozen=True)
class Quantity:
    site: str
    item: str
    firm: int  # delivered at the start
    options: tuple[tuple[int, int], ...] = ()  # (year, quantity) the buyer may call off
    spares: int = 0
    spares_of: str = ""  # what the spares are ("drives", "battery modules")

    @property
    def total(self) -> int:
        return self.firm + sum(q for _, q in self.options)


@dataclass(frozen=True)
class Lot:
    number: int
    title: str
    requirements: tuple[Requirement, ...]
    conditions: tuple[str, ...]  # requirements in words (interfaces, chemistry, standards)
    quantities: tuple[Quantity, ...]
    references: tuple[str, ...]  # "reference configuration" lines: the only brand names


@dataclass(frozen=True)
class Tender:
    title: str
    plan_digest: str
    currency: str
    horizon_years: float
    lots: tuple[Lot, ...]
    support: tuple[str, ...]
    evaluation: dict[str, Any]
    out_of_scope: tuple[str, ...] = OUT_OF_SCOPE
    open_items: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = field(default=())


def round_up(value: float) -> float:
    """``value`` rounded up to three significant digits (a minimum never drops below it)."""
    if value <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(value)) - 2)
    return float(round(math.ceil(value / step - 1e-9) * step, 10))


def round_down(value: float) -> float:
    """``value`` rounded down to three significant digits (a maximum never rises above it)."""
    if value <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(value)) - 2)
    return float(round(math.floor(value / step + 1e-9) * step, 10))


def _tightest(plan: dict[str, Any], prefix: str) -> int | None:
    """The constraint of this family with the highest demand / capacity over all sites."""
    ks = [
        k
        for k, c in enumerate(plan["constraints"])
        if c["name"].startswith(prefix) and c["capacity"] > 0
    ]
    if not ks:
        return None
    return max(ks, key=lambda k: _ratio(plan, k))


def _ratio(plan: dict[str, Any], k: int | None) -> float:
    if k is None:
        return 1.0
    c = plan["constraints"][k]
    return float(c["demand"]) / float(c["capacity"])


def _type_names(skus: list[str]) -> dict[str, str]:
    return {sku: f"type {chr(ord('A') + i)}" for i, sku in enumerate(skus)}


def _server_lot(
    plan: dict[str, Any],
    catalog: Catalog,
    stored_by_year: Sequence[float],
    options: TenderOptions,
) -> Lot:
    server_skus = sorted({s["sku"] for site in plan["sites"] for s in site["servers"]})
    drive_skus = sorted({d["sku"] for site in plan["sites"] for d in site["drives"]})
    names = {k: f"Server {v}" for k, v in _type_names(server_skus).items()}
    names |= {k: f"Flash drive {v}" for k, v in _type_names(drive_skus).items()}
    reqs: list[Requirement] = []
    refs: list[str] = []
    for sku in server_skus:
        i, j = next(
            (i, j)
            for i, site in enumerate(plan["sites"])
            for j, s in enumerate(site["servers"])
            if s["sku"] == sku
        )
        planned = plan["sites"][i]["servers"][j]
        server = catalog.server(sku)
        item = names[sku]
        at = f"plan:/sites/{i}/servers/{j}"
        entry = f"catalogue[{at}]"
        reqs += [
            Requirement(item, "physical CPU cores", AT_LEAST, planned["cores"], "cores",
                        (f"{at}/cores",), "the pods are packed onto servers of this shape",
                        "processor data sheet"),
            Requirement(item, "memory", AT_LEAST, planned["memory_gib"], "GiB",
                        (f"{at}/memory_gib",), "the pods are packed onto servers of this shape"),
            Requirement(item, "front NVMe drive bays (2.5-inch U.2/U.3)", AT_LEAST,
                        planned["drive_bays"], "bays", (f"{at}/drive_bays",),
                        "the flash is spread over the servers' bays"),
            Requirement(item, "height", AT_MOST, planned["rack_units"], "U",
                        (f"{at}/rack_units",), "the rack space the plan counts"),
        ]  # fmt: skip
        for point, attr in (("active idle", "idle_w"), ("50 % load", "half_w"),
                            ("100 % load", "full_w")):  # fmt: skip
            reqs.append(
                Requirement(
                    item,
                    f"wall power at {point}",
                    AT_MOST,
                    round_down(getattr(server, attr)),
                    "W",
                    (f"{entry}/{attr}",),
                    "the plan's energy cost and UPS load assume this power curve",
                    "SPECpower_ssj2008 or SERT 2 result on the offered configuration, "
                    "or equivalent",
                )
            )
        if server.spec_int_rate is not None:
            reqs.append(
                Requirement(
                    item,
                    "SPECrate2017_int_base",
                    AT_LEAST,
                    round_up(server.spec_int_rate),
                    "",
                    (f"{entry}/spec_int_rate",),
                    f"the reference configuration's result {server.spec_int_rate_result}: "
                    "the plan's cores are cores of this speed",
                    "published SPEC CPU 2017 result, or equivalent",
                )
            )
        refs.append(f"Reference configuration for {item}: {sku} ({server.source}).")
    for sku in drive_skus:
        drive = catalog.drive(sku)
        item = names[sku]
        i, j = next(
            (i, j)
            for i, site in enumerate(plan["sites"])
            for j, d in enumerate(site["drives"])
            if d["sku"] == sku
        )
        capacity_k = _tightest(plan, "flash usable capacity")
        read_k = _tightest(plan, "read_iops")
        write_k = _tightest(plan, "write_iops")
        life_k = _tightest(plan, "flash endurance")
        at = f"catalogue[plan:/sites/{i}/drives/{j}]"

        def scaled(attr: str, k: int | None) -> tuple[float, tuple[str, ...]]:
            value = float(getattr(drive, attr)) * _ratio(plan, k)  # noqa: B023
            extra = (f"plan:/constraints/{k}#ratio",) if k is not None else ()
            return round_up(value), (f"{at}/{attr}", *extra)  # noqa: B023

        def offered(attr: str, unit: str) -> str:
            return f"; the reference drive offers {getattr(drive, attr):,.10g} {unit}"  # noqa: B023

        cap, cap_src = scaled("capacity_tb", capacity_k)
        rd, rd_src = scaled("read_iops", read_k)
        wr, wr_src = scaled("write_iops", write_k)
        dw, dw_src = scaled("dwpd", life_k)
        reqs += [
            Requirement(item, "capacity", AT_LEAST, cap, "TB (decimal)", cap_src,
                        "the reference drive's capacity times the share of it the tightest "
                        "storage check uses" + offered("capacity_tb", "TB"), "data sheet"),
            Requirement(item, "4 KiB random read", AT_LEAST, rd, "IOPS", rd_src,
                        "the reference drive's IOPS times the share the peak read load uses"
                        + offered("read_iops", "IOPS"),
                        "SNIA SSS PTS 2.0 or equivalent"),
            Requirement(item, "4 KiB random write", AT_LEAST, wr, "IOPS", wr_src,
                        "the reference drive's IOPS times the share the peak write load uses "
                        "(after protection overhead)" + offered("write_iops", "IOPS"),
                        "SNIA SSS PTS 2.0 or equivalent"),
            Requirement(item, "endurance over the warranty", AT_LEAST, dw,
                        "drive writes per day", dw_src,
                        "the data written over the service life, with write amplification "
                        "and protection, spread over the planned drives"
                        + offered("dwpd", "drive writes per day"),
                        "warranty terms (JEDEC JESD218 practice)"),
            Requirement(item, "active power", AT_MOST, round_down(drive.watts), "W",
                        (f"{at}/watts",), "the plan's energy cost and UPS load assume it",
                        "data sheet"),
        ]  # fmt: skip
        refs.append(f"Reference configuration for {item}: {sku} ({drive.source}).")
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
        "Drives: NVMe, PCIe 4.0 x4 or later, 2.5-inch U.2 or U.3, hot-swappable in the offered "
        "servers' front bays.",
        "Servers: two hot-swappable power supplies on separate feeds; a remote management "
        "controller; firmware updates signed by the manufacturer.",
        "Power figures are measured on the configuration offered, not on a different one.",
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
    catalog: Catalog,
    stored_by_year: Sequence[float],
    options: TenderOptions | None = None,
) -> Tender:
    """The tender pack for ``plan``; ``stored_by_year`` (years 0..H, the data each site
    holds: both sites', so the same for each) phases the drives."""
    options = options or TenderOptions()
    a = plan["assumptions"]
    lots = [_server_lot(plan, catalog, stored_by_year, options)]
    power = _power_lot(plan, catalog, options)
    if power is not None:
        lots.append(power)
    open_items = []
    servers = sorted({s["sku"] for site in plan["sites"] for s in site["servers"]})
    types = _type_names(servers)
    missing = [f"server {types[s]}" for s in servers if catalog.server(s).spec_int_rate is None]
    if missing:
        open_items.append(
            "No SPEC CPU 2017 result in the catalogue for the reference configuration of "
            + ", ".join(missing)
            + ": the CPU requirement is stated in cores only. Add the reference "
            "configuration's published SPECrate2017_int_base and its result id (catalogue key "
            "spec_cpu2017) before publishing, so that tenderers may offer fewer, faster cores."
        )
    mean_util = {
        site["name"]: site["mean_busy_cores"] / site["totals"]["cores"]
        for site in plan["sites"]
        if site["totals"]["cores"]
    }
    years = a["horizon_years"]
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
            "rule": "the lowest total cost of ownership over the horizon among compliant "
            "tenders (most economically advantageous tender on cost, Directive 2014/24/EU "
            "article 67)",
            "formula": "TCO = purchase price + support price for the horizon + energy; energy "
            "= sum over servers of count x P(u) + sum over drives of count x W, in kW, x 8760 "
            "h x horizon x PUE x energy price, with P(u) the tendered wall power interpolated "
            "between active idle, 50 % and 100 % at the site's mean utilisation u",
            "pue": a["pue"],
            "energy_price_per_kwh": a["energy_price_per_kwh"],
            "horizon_years": years,
            "mean_utilisation": mean_util,
            "vat": "all prices exclude VAT",
            "price_date": "prices valid for 120 days from the tender deadline; the plan's "
            "prices are planning assumptions, not a budget",
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
    )
