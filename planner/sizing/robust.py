"""A robust fleet: one MILP over every scenario of a sweep.

Each scenario contributes its whole constraint set, built by :func:`build_model` from
its own spec, envelope and pods (so scenarios may differ in growth, percentiles,
ceilings, redundancy, protection, power and workloads), joined by :func:`add_part`: the
purchase decisions (servers n, drives d, UPS frames f, battery strings z, cooling on the
UPS) are one set of variables for all scenarios; everything else is the scenario's own.
The objective is the first (base) scenario's costs. A fleet one scenario cannot place or
keep its data with after a loss is cut off in that scenario, as :func:`optimise` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.inputs.catalog import Catalog
from planner.inputs.spec import Spec
from planner.power.ups import string_options
from planner.sizing.envelope import Envelope
from planner.sizing.model import (
    Model,
    ModelOptions,
    Solution,
    add_part,
    build_model,
    extract_fleets,
)
from planner.sizing.search import MAX_CANDIDATES, Cuts, search_placeable
from planner.sizing.workloads import WorkloadSizing


@dataclass(frozen=True)
class Scenario:
    spec: Spec
    envelope: Envelope
    sizings: tuple[WorkloadSizing, ...]


def purchase_names(scenarios: tuple[Scenario, ...], catalog: Catalog) -> frozenset[str]:
    """The variables that are purchases, shared by every scenario."""
    names: set[str] = set()
    for scenario in scenarios:
        spec = scenario.spec
        for site in spec.site_names:
            names |= {f"n[{site},{s.sku}]" for s in catalog.servers}
            names |= {f"d[{site},{d.sku}]" for d in catalog.drives}
            names |= {f"f[{site},{u.sku}]" for u in catalog.ups_frames}
            if spec.power is not None:
                names |= {
                    f"z[{site},{o.battery.sku},{o.frame.sku}]"
                    for o in string_options(catalog, spec.power)
                }
                names |= {f"cool[{site},{o.name}]" for o in spec.power.cooling_options}
    return frozenset(names)


def build_robust_model(
    scenarios: tuple[Scenario, ...],
    catalog: Catalog,
    options: ModelOptions,
    cuts: list[Cuts],
) -> Model:
    joint = Model()
    shared = purchase_names(scenarios, catalog)
    for k, scenario in enumerate(scenarios):
        part = build_model(
            scenario.spec, catalog, scenario.envelope, scenario.sizings, options, cuts[k]
        )

        def cost(j: int, _name: str, part: Model = part, base: bool = k == 0) -> float:
            return part.cost[j] if base else 0.0

        add_part(joint, part, f"#{k}", shared.__contains__, cost)
    return joint


def optimise_robust(
    scenarios: tuple[Scenario, ...], catalog: Catalog, options: ModelOptions | None = None
) -> Solution:
    """The least-cost fleet (at the base scenario's costs) feasible in every scenario."""
    options = options or ModelOptions()
    base = scenarios[0]
    found = search_placeable(
        [(s.spec, s.envelope, s.sizings) for s in scenarios],
        catalog,
        options,
        lambda cuts: build_robust_model(scenarios, catalog, options, cuts),
        lambda model, x: (extract_fleets(model, x, base.spec, catalog),) * len(scenarios),
        lambda: ["no fleet meets every scenario at once; size them one by one to see which"],
        f"no fleet placeable in every scenario after {MAX_CANDIDATES} candidates",
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
