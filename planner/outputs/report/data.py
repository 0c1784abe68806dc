"""Everything the report shows, gathered once from the plan (and its inputs for charts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from planner.outputs.report.families import FamilyChart
from planner.outputs.report.whatif import WhatIf
from planner.outputs.tender.requirements import Tender


@dataclass(frozen=True)
class LineItem:
    category: str  # "Server", "Drive", "Battery module", "UPS frame"
    sku: str
    quantity: int
    unit_price: float
    purchases: int = 1  # batteries bought again at end of life within the horizon
    rack_units: int = 0  # per unit
    note: str = ""
    service_life_years: float = 0.0  # when the purchases repeat (0: bought once)

    @property
    def total(self) -> float:
        return self.quantity * self.unit_price * self.purchases


@dataclass(frozen=True)
class SiteReport:
    name: str
    items: tuple[LineItem, ...]
    costs: dict[str, float]
    power_kw: dict[str, float]
    rack_units: int
    battery: dict[str, Any]
    totals: dict[str, Any]
    costs_mean_kw: float = 0.0  # mean IT power over the horizon, the energy cost's basis


@dataclass
class ReportData:
    plan: dict[str, Any]
    currency: str
    sites: tuple[SiteReport, ...]
    #: one chart per constraint family and site (CPU, memory, IOPS, stored data, UPS load)
    families: list[FamilyChart] = field(default_factory=list)
    availability: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    availability_summary: dict[str, dict[str, float]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # SKU -> catalogue source
    #: the incident as reported, replayed on both designs (None without a power section)
    incident: dict[str, Any] | None = None
    #: the tender pack derived from the same plan, written beside the report
    tender: Tender | None = None
    #: the what-if section, from a sweep's table (planner report --sweep DIR)
    what_if: WhatIf | None = None


def site_reports(plan: dict[str, Any]) -> tuple[SiteReport, ...]:
    out = []
    for site in plan["sites"]:
        items = [
            LineItem(
                "Server",
                s["sku"],
                s["count"],
                s["unit_price"],
                rack_units=s["rack_units"],
                note=f"{s['cores']} cores, {s['memory_gib']:g} GiB, {s['drive_bays']} bays",
            )
            for s in site["servers"]
        ]
        items += [
            LineItem(
                "Drive", d["sku"], d["count"], d["unit_price"], note=f"{d['capacity_tb']:g} TB NVMe"
            )
            for d in site["drives"]
        ]
        battery = site["battery"]
        items += [
            LineItem(
                "Battery module",
                m["sku"],
                m["count"],
                m["unit_price"],
                purchases=m["purchases_over_horizon"],
                note=f"{m['kwh']:g} kWh {battery['chemistry'].upper()}",
                service_life_years=float(m.get("service_life_years", 0.0)),
            )
            for m in battery.get("modules", [])
        ]
        items += [
            LineItem("UPS frame", u["sku"], u["count"], u["unit_price"], note=f"{u['kw']:g} kW")
            for u in battery.get("ups_frames", [])
        ]
        items += [
            LineItem(
                "Cooling on UPS",
                o["name"],
                1,
                o["unit_price"],
                note=f"{o['ups_kw']:g} kW on the UPS, removes {o['removes_kw']:g} kW",
            )
            for o in (battery.get("thermal") or {}).get("cooling_options", [])
        ]
        out.append(
            SiteReport(
                name=site["name"],
                items=tuple(items),
                costs=site["costs"],
                power_kw=site["power_kw"],
                rack_units=site["totals"]["rack_units"],
                battery=battery,
                totals=site["totals"],
                costs_mean_kw=float(site["power_kw"]["mean"]),
            )
        )
    return tuple(out)
