"""One chart per constraint family and site: demand against the physical capacity and the
ceiling the plan sized to, with the overload the percentile sizing leaves out.

Families: CPU [cores], memory [GiB], read and write IOPS, stored data [TiB] by year, and
the UPS load [kW]. Time series are daily maxima of the load a site carries in each
scenario (normal, and the other site lost), grown to the horizon's end, computed with
the same function the sizing uses (:func:`planner.sizing.envelope.workload_series`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from planner.inputs.catalog import Catalog
from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec
from planner.inputs.units import growth_factors
from planner.outputs.plan import margin_text
from planner.sizing.envelope import scenarios_for, workload_series

#: metric -> (family title, unit, constraint name prefix in the plan, ceiling key)
SERIES_FAMILIES: dict[str, tuple[str, str, str, str]] = {
    "cpu_cores": ("CPU", "cores", "cpu_cores", "cpu"),
    "memory_gib": ("Memory", "GiB", "memory_gib", "memory"),
    "read_iops": ("Read IOPS", "IOPS", "read_iops", "drive_iops"),
    "write_iops": ("Write IOPS (raw, after protection)", "IOPS", "write_iops", "drive_iops"),
}

WHY_CEILING = {
    "cpu": "servers are planned to run at most {pct} busy so that response times stay short "
    "and a burst has room",
    "memory": "at most {pct} of memory is planned for pods; the rest is kept for the kernel, "
    "caches and bursts",
    "drive_iops": "drives are planned at most {pct} busy so that latency stays flat",
    "fill": "flash is filled to at most {pct}: fuller drives slow down and a rebuild needs space",
    "ups": "the UPS carries the peak load times the design margin {margin} after losing "
    "{frames} frame(s)",
}


@dataclass(frozen=True)
class FamilyChart:
    """What one constraint-family chart draws and says (values in ``unit``)."""

    key: str  # unique per chart, for file names and anchors
    family: str
    site: str
    unit: str
    x: npt.NDArray[np.float64]
    x_label: str
    demand: dict[str, npt.NDArray[np.float64]]  # label -> values over x
    ceiling: float  # what the plan allows itself: capacity after N+r at the ceiling
    physical: float  # what the surviving equipment can do at all
    ceiling_label: str
    physical_label: str
    explanation: str  # why the ceiling is below the physical limit
    overload: tuple[str, ...]  # the overload figures, one sentence per scenario


def _daily_max(values: npt.NDArray[np.float64], steps_per_day: int) -> npt.NDArray[np.float64]:
    days = max(1, values.size // steps_per_day)
    usable = values[: days * steps_per_day]
    if usable.size < steps_per_day:
        return np.array([float(values.max())]) if values.size else np.zeros(1)
    return np.asarray(usable.reshape(days, steps_per_day).max(axis=1), dtype=np.float64)


def _pct(x: float) -> str:
    return f"{100 * x:g} %"


def _overload_sentence(c: dict[str, Any], step_min: float) -> str:
    scenario = "normal operation" if c["scenario"] == "normal" else c["scenario"]
    over = int(c.get("exceedances", 0))
    allowed = int(c.get("allowed_exceedances", 0))
    parts = [
        f"{scenario}: {over:,} of the year's {step_min:g}-minute steps above the ceiling "
        f"({allowed:,} allowed by the sizing percentile)"
    ]
    if over:
        parts.append(
            f"{c.get('overload_minutes', 0.0):,.0f} minutes in all, the longest "
            f"{c.get('longest_overload_minutes', 0.0):,.0f} minutes, at most "
            f"{c.get('overshoot_pct', 0.0):.1f} % above the ceiling"
        )
    if c.get("peak_pct_of_physical") is not None:
        parts.append(f"the peak uses {c['peak_pct_of_physical']:.1f} % of the physical capacity")
    return "; ".join(parts) + "."


def series_charts(
    profile: Profile, spec: Spec, plan: dict[str, Any], site: str
) -> list[FamilyChart]:
    """CPU, memory and IOPS of ``site``: daily peak per scenario against the capacity."""
    a = plan["assumptions"]
    steps_per_day = max(1, 86400 // profile.step_s)
    constraints = [c for c in plan["constraints"] if c["site"] == site]
    out = []
    for metric, (family, unit, prefix, ceiling_key) in SERIES_FAMILIES.items():
        mine = [c for c in constraints if c["name"].startswith(prefix) and c["scenario"]]
        if not mine:
            continue
        overhead = a["storage_overhead"] if metric == "write_iops" else 1.0
        demand = {}
        for scenario in scenarios_for(spec, site):
            load = workload_series(profile, spec, site, scenario, metric).sum(axis=0) * overhead
            label = "normal" if scenario == "normal" else f"{scenario} (failover)"
            demand[label] = _daily_max(load, steps_per_day)
        ceiling_share = float(a["utilisation_ceiling"][ceiling_key])
        capacity = float(mine[0]["capacity"])
        r = a["redundancy_servers_lost"]
        lost = f"after losing {r} server(s)" if metric in ("cpu_cores", "memory_gib") else "all"
        out.append(
            FamilyChart(
                key=f"{metric}-{site}",
                family=family,
                site=site,
                unit=unit,
                x=np.arange(next(iter(demand.values())).size, dtype=np.float64),
                x_label="day of the profile's year",
                demand=demand,
                ceiling=capacity,
                physical=capacity / ceiling_share,
                ceiling_label=f"ceiling: {_pct(ceiling_share)} of the capacity, {lost}",
                physical_label=f"physical capacity, {lost} drives"
                if unit == "IOPS"
                else f"physical capacity, {lost}",
                explanation=WHY_CEILING[ceiling_key].format(pct=_pct(ceiling_share)),
                overload=tuple(_overload_sentence(c, profile.step_s / 60.0) for c in mine),
            )
        )
    return out


def stored_by_year(
    profile: Profile, spec: Spec
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Years 0, 1, ..., H and the stored data [TiB] each site holds in that year: the
    largest time-aligned sum over the profile of both sites' data, grown to that year."""
    both = profile.values["stored_tib"].sum(axis=0)  # (W, T): each site holds both sites' data
    rates = spec.growth_rates("stored_tib")
    years = np.arange(0, int(np.ceil(spec.horizon_years)) + 1, dtype=np.float64)
    years[-1] = spec.horizon_years
    stored = np.array(
        [float((both * growth_factors(y, rates)[:, None]).sum(axis=0).max()) for y in years]
    )
    return years, stored


def storage_chart(
    plan: dict[str, Any],
    site: str,
    stored: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
) -> FamilyChart:
    """Stored data year by year (``stored``: :func:`stored_by_year`) against usable flash
    after losing r servers, at the fill ceiling and physically."""
    a = plan["assumptions"]
    years, data = stored
    checks = {c["name"]: c for c in plan["constraints"] if c["site"] == site}
    r = a["redundancy_servers_lost"]
    after = (
        checks.get(f"flash usable capacity after losing {r} server(s)")
        or checks["flash usable capacity"]
    )
    fill = float(a["fill_ceiling"])
    return FamilyChart(
        key=f"stored_tib-{site}",
        family="Stored data",
        site=site,
        unit="TiB",
        x=years,
        x_label="year of the horizon",
        demand={"stored data (both sites' data, held at each site)": data},
        ceiling=float(after["capacity"]),
        physical=float(after["capacity"]) / fill,
        ceiling_label=f"ceiling: {_pct(fill)} full, after losing {r} server(s)",
        physical_label=f"usable after protection, 100 % full, after losing {r} server(s)",
        explanation=WHY_CEILING["fill"].format(pct=_pct(fill)),
        overload=(
            f"At the horizon's end {after['demand']:,.1f} TiB against {after['capacity']:,.1f} "
            f"TiB usable: margin {margin_text(after)}.",
        ),
    )


def power_chart(
    profile: Profile, spec: Spec, catalog: Catalog, plan: dict[str, Any], site: str
) -> FamilyChart | None:
    """Daily peak load on the UPS (servers at the CPU load spread evenly, drives, other
    loads, cooling on the UPS) against the UPS after losing frames."""
    if spec.power is None:
        return None
    from planner.simulate.plan_fleet import fleets_from_plan
    from planner.sizing.power_chain import ups_load

    fleet = next(f for f in fleets_from_plan(plan, "plan") if f.site == site)
    checks = [
        c for c in plan["constraints"] if c["site"] == site and c["name"].startswith("UPS power")
    ]
    if not checks or not fleet.ups:
        return None
    check = checks[0]
    steps_per_day = max(1, 86400 // profile.step_s)
    demand = {}
    for scenario in scenarios_for(spec, site):
        cpu = _daily_max(
            workload_series(profile, spec, site, scenario, "cpu_cores").sum(axis=0),
            steps_per_day,
        )
        label = "normal" if scenario == "normal" else f"{scenario} (failover)"
        demand[label] = np.array(
            [ups_load(fleet, catalog, spec, float(b)).total_w / 1000.0 for b in cpu]
        )
    margin = spec.power.design_margin
    surviving = float(check["capacity"])
    return FamilyChart(
        key=f"power-{site}",
        family="UPS load",
        site=site,
        unit="kW",
        x=np.arange(next(iter(demand.values())).size, dtype=np.float64),
        x_label="day of the profile's year",
        demand=demand,
        ceiling=surviving / margin,
        physical=surviving,
        ceiling_label=f"ceiling: UPS after losing {spec.power.ups_redundancy} frame(s) / "
        f"design margin {margin:g}",
        physical_label=f"UPS rating after losing {spec.power.ups_redundancy} frame(s)",
        explanation=WHY_CEILING["ups"].format(
            margin=f"{margin:g}", frames=spec.power.ups_redundancy
        ),
        overload=(
            f"The worst step's load times the margin is {check['demand']:,.1f} kW against "
            f"{surviving:,.1f} kW: margin {margin_text(check)}.",
        ),
    )


def family_charts(
    profile: Profile, spec: Spec, catalog: Catalog, plan: dict[str, Any]
) -> list[FamilyChart]:
    """Every family chart of every site, in a fixed order."""
    out: list[FamilyChart] = []
    stored = stored_by_year(profile, spec)  # the same for each site
    for site in spec.site_names:
        out.extend(series_charts(profile, spec, plan, site))
        out.append(storage_chart(plan, site, stored))
        chart = power_chart(profile, spec, catalog, plan, site)
        if chart is not None:
            out.append(chart)
    return out
