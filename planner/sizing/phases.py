"""Phased purchasing: one MILP that chooses what to buy in each purchase year.

Purchase years p_0 = 0 < p_1 < ... < p_k < H split the horizon into periods
[p_i, e_i) with e_i = p_{i+1} (or H). The fleet installed in period i,

    N_i = sum_{j <= i} buy_j        (servers n and drives d, per site and SKU),

must meet every constraint of the single-purchase model (:func:`build_model`) for the
load grown to e_i; the power chain (UPS, strings, cooling on the UPS) is bought at the
start for the load at H. Each period's constraint set is built by :func:`build_model`
itself and renamed into the joint model, so the phased model can never check less than
the plain one.

Costs are present values at the spec's discount rate r (D(a, b) = sum of (1 + r)^-t
over the years in [a, b), a partial year pro rata), with prices falling by the SKU
class's rate delta per year:

    buy_j of SKU k:  price_k (1 - delta)^p_j [ (1 + r)^-p_j + m D(p_j, H) ]
                     + P_idle,k W D(p_j, H)
    dynamic energy of period i:  slope x W x D(p_i, e_i) per busy core on a segment
    battery strings:  price x sum over purchases at l L of (1 - delta_b)^(l L)(1 + r)^-(l L)

with m the maintenance rate and W the energy cost of one watt for a year
(PUE x price per kWh x 8760 / 1000). With one purchase year, r = 0 and no price decline
these are exactly the single-purchase model's costs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from planner.inputs.catalog import Catalog
from planner.inputs.spec import Spec
from planner.power.ups import purchases_over
from planner.sizing.envelope import Envelope
from planner.sizing.fleet import SiteFleet
from planner.sizing.model import (
    Model,
    ModelOptions,
    add_part,
    build_model,
    extract_fleets,
)
from planner.sizing.search import MAX_CANDIDATES, Cuts, search_placeable
from planner.sizing.server_power import segments
from planner.sizing.workloads import WorkloadSizing

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class Period:
    index: int
    start: float  # the purchase year
    end: float  # the next purchase year, or the horizon


@dataclass(frozen=True)
class PeriodInputs:
    """A period's spec (its horizon the period's end; the power chain only in the last),
    its envelope (design values at the period's end, mean load over the period) and its
    workloads' pods."""

    period: Period
    spec: Spec
    envelope: Envelope
    sizings: tuple[WorkloadSizing, ...]


@dataclass(frozen=True)
class PhasedSolution:
    installed: tuple[tuple[SiteFleet, ...], ...]  # per period: the fleet in service
    bought: tuple[dict[str, dict[str, int]], ...]  # per period: site -> SKU -> count
    objective: float  # present value of everything, as the model prices it
    solve_time_s: float
    variables: int
    constraints: int


def periods(phases: tuple[float, ...], horizon: float) -> tuple[Period, ...]:
    """Purchase years, checked: the first is 0, each later than the one before, all
    inside the horizon."""
    if not phases or phases[0] != 0:
        raise ValueError("the first purchase year must be 0")
    if any(b <= a for a, b in itertools.pairwise(phases)):
        raise ValueError("purchase years must increase")
    if phases[-1] >= horizon:
        raise ValueError(f"purchase years must lie before the horizon ({horizon:g} years)")
    ends = (*phases[1:], horizon)
    return tuple(
        Period(i, float(a), float(b)) for i, (a, b) in enumerate(zip(phases, ends, strict=True))
    )


def discount(t: float, rate: float) -> float:
    """(1 + r)^-t."""
    return float((1.0 + rate) ** -t)


def discount_sum(start: float, end: float, rate: float) -> float:
    """D(a, b): the present value of one unit a year paid at the start of each year in
    [a, b), a partial year pro rata; b - a when r = 0."""
    total, t = 0.0, start
    while t < end - 1e-12:
        step = min(1.0, end - t)
        total += step * discount(t, rate)
        t += step
    return total


def watt_year_cost(spec: Spec) -> float:
    """W: the energy cost of one watt for one year [currency / (W year)]."""
    return spec.pue * spec.energy_price_per_kwh * HOURS_PER_YEAR / 1000.0


def _decline(spec: Spec, kind: str, year: float) -> float:
    return float((1.0 - spec.price_decline_per_year.get(kind, 0.0)) ** year)


def buy_cost(spec: Spec, kind: str, price: float, watts: float, year: float) -> float:
    """Present value of buying one unit in ``year``, keeping it to the horizon."""
    r, horizon = spec.discount_rate_per_year, spec.horizon_years
    paid = price * _decline(spec, kind, year)
    upkeep = discount(year, r) + spec.maintenance_rate_per_year * discount_sum(year, horizon, r)
    return paid * upkeep + watts * watt_year_cost(spec) * discount_sum(year, horizon, r)


def _power_scale(spec: Spec, catalog: Catalog, name: str) -> float:
    """What the single-purchase model's cost of a power-chain variable becomes in
    present value (bought at the start; batteries again at the end of their life)."""
    r, horizon, m = spec.discount_rate_per_year, spec.horizon_years, spec.maintenance_rate_per_year
    flat = 1.0 + m * horizon
    upkeep = 1.0 + m * discount_sum(0.0, horizon, r)
    scale = upkeep / flat
    if name.startswith("z["):
        battery = catalog.battery(name[2:-1].split(",")[1])
        life = battery.service_life_years
        buys = purchases_over(horizon, life)
        present = sum(
            _decline(spec, "batteries", k * life) * discount(k * life, r) for k in range(buys)
        )
        scale *= present / buys
    return scale


def build_phased_model(
    spec: Spec,
    catalog: Catalog,
    inputs: tuple[PeriodInputs, ...],
    options: ModelOptions,
    cuts: list[Cuts],
) -> Model:
    """The joint model: each period's own constraint set (renamed ``name@i``, its costs
    replaced), buy variables with their present-value costs, and N_i = N_(i-1) + buy_i."""
    joint = Model()
    per_watt = watt_year_cost(spec)
    r = spec.discount_rate_per_year
    for item in inputs:
        i, period = item.period.index, item.period
        part = build_model(item.spec, catalog, item.envelope, item.sizings, options, cuts[i])
        energy_years = discount_sum(period.start, period.end, r)

        def cost(j: int, name: str, part: Model = part, years: float = energy_years) -> float:
            if name.startswith("a["):  # dynamic energy over this period
                sku, q = name[2:-1].split(",")[1:]
                slope = segments(catalog.server(sku))[int(q)][1]
                return slope * per_watt * years
            if name.startswith(("f[", "z[", "cool[")) and part.cost[j]:  # power, bought at 0
                return part.cost[j] * _power_scale(spec, catalog, name)
            return 0.0

        add_part(joint, part, f"@{i}", lambda _name: False, cost)
    for item in inputs:
        i, year = item.period.index, item.period.start
        for site in spec.site_names:
            for kind, prefix, skus in (
                ("servers", "n", [(s.sku, s.price, s.idle_w) for s in catalog.servers]),
                ("drives", "d", [(d.sku, d.price, d.watts) for d in catalog.drives]),
            ):
                for sku, price, watts in skus:
                    name = f"{prefix}[{site},{sku}]"
                    buy = joint.var(
                        f"buy_{name}@{i}",
                        integer=True,
                        cost=buy_cost(spec, kind, price, watts, year),
                    )
                    coeffs = {joint.index[f"{name}@{i}"]: 1.0, buy: -1.0}
                    if i > 0:
                        coeffs[joint.index[f"{name}@{i - 1}"]] = -1.0
                    joint.row(f"installed[{name}]@{i}", coeffs, 0.0, 0.0)
    return joint


def _fleets_of(
    joint: Model, x: np.ndarray, i: int, spec: Spec, catalog: Catalog
) -> tuple[SiteFleet, ...]:
    suffix = f"@{i}"
    index = {n[: -len(suffix)]: k for n, k in joint.index.items() if n.endswith(suffix)}
    view: Any = SimpleNamespace(index=index)
    return extract_fleets(view, x, spec, catalog)


def optimise_phased(
    spec: Spec,
    catalog: Catalog,
    inputs: tuple[PeriodInputs, ...],
    options: ModelOptions | None = None,
) -> PhasedSolution:
    """Solve the joint model; a period's fleet that cannot place its pods or keep its
    data after a loss is cut off in that period (as :func:`optimise` does) and the joint
    model solved again."""
    options = options or ModelOptions()
    found = search_placeable(
        [(item.spec, item.envelope, item.sizings) for item in inputs],
        catalog,
        options,
        lambda cuts: build_phased_model(spec, catalog, inputs, options, cuts),
        lambda joint, x: tuple(
            _fleets_of(joint, x, item.period.index, item.spec, catalog) for item in inputs
        ),
        lambda: ["no purchase schedule meets every period; try without --phases to see why"],
        f"no purchase schedule placeable after {MAX_CANDIDATES} candidates",
    )
    joint, x = found.model, found.x
    bought = []
    for item in inputs:
        i = item.period.index
        per_site: dict[str, dict[str, int]] = {}
        for site in spec.site_names:
            counts = {}
            for prefix, skus in (
                ("n", [s.sku for s in catalog.servers]),
                ("d", [d.sku for d in catalog.drives]),
            ):
                for sku in skus:
                    value = round(x[joint.index[f"buy_{prefix}[{site},{sku}]@{i}"]])
                    if value:
                        counts[sku] = int(value)
            per_site[site] = counts
        bought.append(per_site)
    return PhasedSolution(
        installed=found.fleets,
        bought=tuple(bought),
        objective=found.objective,
        solve_time_s=found.solve_time_s,
        variables=len(joint.names),
        constraints=len(joint.rows),
    )


def period_spec(spec: Spec, period: Period, last: bool) -> Spec:
    """The spec a period is checked with: the horizon is the period's end; the power
    chain belongs to the last period (it is bought for the load at the horizon)."""
    return replace(spec, horizon_years=period.end, power=spec.power if last else None)
