"""One CPU class per site: every server a site buys has the same speed per core.

Pod CPU requests are declared in cores, and the scheduler compares cores whatever their
speed; a site that mixed fast and slow cores would have to declare its requests in the
slowest core (:meth:`Catalog.request_scale`) and waste the faster ones, which the linear
model cannot see. So a site keeps to one class C (servers of one ``cpu_scale``, the
SPECrate per core over the measured hardware's): y_C binary, sum_C y_C = 1 and
n_k <= M y_C(k), with M = :data:`MAX_SERVERS` (a bound no site reaches). A catalogue
whose servers all share one class adds nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.inputs.catalog import Catalog

if TYPE_CHECKING:
    from planner.sizing.model import Model

MAX_SERVERS = 10_000.0


def cpu_classes(catalog: Catalog) -> dict[float, list[str]]:
    """Server SKUs by ``cpu_scale`` (rounded to nine significant digits)."""
    classes: dict[float, list[str]] = {}
    for server in catalog.servers:
        classes.setdefault(float(f"{server.cpu_scale:.9g}"), []).append(server.sku)
    return classes


def define_cpu_class(model: Model, catalog: Catalog, site: str) -> None:
    classes = cpu_classes(catalog)
    if len(classes) < 2:
        return
    chooser: dict[int, float] = {}
    for scale, skus in sorted(classes.items()):
        y = model.var(f"cpu_class[{site},{scale:g}]", integer=True, upper=1.0)
        chooser[y] = 1.0
        for sku in skus:
            n = model.index[f"n[{site},{sku}]"]
            model.row(f"cpu_class[{site},{sku}]", {n: -1.0, y: MAX_SERVERS}, 0.0)
    model.row(f"cpu_class_choice[{site}]", chooser, 1.0, 1.0)
