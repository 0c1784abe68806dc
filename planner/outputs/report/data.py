"""Everything the report shows, gathered once from the plan (and its inputs for charts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec
from planner.inputs.units import growth_factors


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


@dataclass(frozen=True)
class Series:
    """Daily maxima of a site's CPU demand per scenario, with the sized capacity."""

    days: npt.NDArray[np.float64]
    demand: dict[str, npt.NDArray[np.float64]]
    capacity: dict[str, float]


@dataclass
class ReportData:
    plan: dict[str, Any]
    currency: str
    sites: tuple[SiteReport, ...]
    envelopes: dict[str, Series] = field(default_factory=dict)
    availability: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    availability_summary: dict[str, dict[str, float]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # SKU -> catalogue source
    #: the incident as reported, replayed on both designs (None without a power section)
    incident: dict[str, Any] | None = None


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


def envelope_series(profile: Profile, spec: Spec, plan: dict[str, Any]) -> dict[str, Series]:
    """CPU demand per day (maximum of the day) per scenario, and the N+r capacity."""
    growth = growth_factors(spec.horizon_years, spec.growth_rates("cpu_cores"))
    cpu = profile.values["cpu_cores"] * growth[None, :, None]
    fractions = np.array([w.failover_fraction for w in spec.workloads])
    steps_per_day = max(1, 86400 // profile.step_s)
    days = profile.n_steps // steps_per_day
    out = {}
    for i, site in enumerate(profile.sites):
        other = next(s for s in profile.sites if s != site)
        series = {
            "normal": cpu[i].sum(axis=0),
            f"lost-{other}": (cpu.sum(axis=0) * fractions[:, None]).sum(axis=0),
        }
        demand = {
            name: values[: days * steps_per_day].reshape(days, steps_per_day).max(axis=1)
            for name, values in series.items()
        }
        capacity = {
            c["scenario"]: float(c["capacity"])
            for c in plan["constraints"]
            if c["site"] == site and c["name"].startswith("cpu_cores")
        }
        out[site] = Series(np.arange(days, dtype=np.float64), demand, capacity)
    return out
