"""Cuts that exclude whole families of fleets a rejected fleet dominates.

The sizing loop (:mod:`planner.sizing.search`) rejects a fleet that cannot place its pods
or keep its data after a loss; these rows keep the MILP from proposing any fleet that
the rejected one dominates. Valid because feasibility only grows with the fleet
(:mod:`planner.sizing.packing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.inputs.catalog import Catalog
from planner.inputs.spec import Spec

if TYPE_CHECKING:
    from planner.sizing.model import Model


def define_dominance_cuts(
    model: Model, spec: Spec, catalog: Catalog, site: str, cuts: list[dict[str, int]]
) -> None:
    """Exclude every fleet that a fleet F which failed placement or storage after a loss
    dominates. Valid because feasibility only grows with the fleet
    (:mod:`planner.sizing.packing`).

    * A storage failure ("d:*" in F): every fleet no larger in each count, servers and
      drives: z_v binary, x_v - (F_v + 1) z_v >= 0, sum_v z_v >= 1.
    * A placement failure (servers only): every fleet whose servers map one to one onto
      F's servers, each onto one at least as big (no fewer allocatable cores and GiB, the
      same CPU class). By Hall's theorem that is: for every up-set U of server models
      (closed under "at least as big"), n(U) <= F(U). So a fleet survives the cut when
      it uses a model outside F's class, or some up-set holds more than F's:
      z_U binary, n(U) - (F(U) + 1) z_U >= 0, plus z_o <= n(outside), sum z >= 1. This
      cuts whole families across models, not the one rejected fleet alone.
    """
    for c, failed in enumerate(cuts):
        if "d:*" in failed:
            _cut_componentwise(model, catalog, site, c, failed)
            continue
        models = [k.removeprefix("n:") for k, n in failed.items() if k.startswith("n:") and n]
        scale = {float(f"{catalog.server(k).cpu_scale:.9g}") for k in models}
        family = [
            s.sku
            for s in catalog.servers
            if float(f"{s.cpu_scale:.9g}") in scale and len(scale) == 1
        ] or [s.sku for s in catalog.servers]
        chooser: dict[int, float] = {}
        outside = [s.sku for s in catalog.servers if s.sku not in family]
        if outside:
            z = model.var(f"z[{site},{c},outside]", integer=True, upper=1.0)
            chooser[z] = 1.0
            row = {model.index[f"n[{site},{k}]"]: 1.0 for k in outside}
            row[z] = -1.0
            model.row(f"dominance[{site},{c},outside]", row, 0.0)
        for u, upset in enumerate(_upsets(spec, catalog, family)):
            z = model.var(f"z[{site},{c},U{u}]", integer=True, upper=1.0)
            chooser[z] = 1.0
            held = sum(failed.get(f"n:{k}", 0) for k in upset)
            row = {model.index[f"n[{site},{k}]"]: 1.0 for k in upset}
            row[z] = -float(held + 1)
            model.row(f"dominance[{site},{c},U{u}]", row, 0.0)
        model.row(f"dominance[{site},{c}]", chooser, 1.0)


def _cut_componentwise(
    model: Model, catalog: Catalog, site: str, c: int, failed: dict[str, int]
) -> None:
    names = [f"n:{s.sku}" for s in catalog.servers] + [f"d:{d.sku}" for d in catalog.drives]
    chooser: dict[int, float] = {}
    for name in names:
        kind, sku = name.split(":", 1)
        x = model.index[f"{kind}[{site},{sku}]"]
        z = model.var(f"z[{site},{c},{name}]", integer=True, upper=1.0)
        chooser[z] = 1.0
        need = failed.get(name, 0) + 1
        model.row(f"dominance[{site},{c},{name}]", {x: 1.0, z: -float(need)}, 0.0)
    model.row(f"dominance[{site},{c}]", chooser, 1.0)


def _upsets(spec: Spec, catalog: Catalog, family: list[str]) -> list[tuple[str, ...]]:
    """Every non-empty up-set of ``family`` under "at least as big" (allocatable cores and
    GiB after the node reservation), each as a tuple of SKUs."""
    size = {
        k: (
            catalog.server(k).cores - spec.node_cpu_reserved(catalog.server(k).drive_bays),
            catalog.server(k).memory_gib - spec.node_memory_reserved(catalog.server(k).drive_bays),
        )
        for k in family
    }

    def bigger(a: str, b: str) -> bool:  # b is at least as big as a, in the same CPU class
        same = catalog.server(a).cpu_scale == catalog.server(b).cpu_scale
        return same and size[b][0] >= size[a][0] - 1e-9 and size[b][1] >= size[a][1] - 1e-9

    out = []
    for mask in range(1, 2 ** len(family)):
        chosen = [family[i] for i in range(len(family)) if mask >> i & 1]
        if all(b in chosen for a in chosen for b in family if bigger(a, b)):
            out.append(tuple(chosen))
    return out
