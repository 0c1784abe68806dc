"""CPU demand normalised by throughput: the hardware a profile was measured on, and each
offered server's cores counted in cores of that hardware.

A profile's CPU series and the spec's per-replica CPU are busy cores of the servers they
were measured on. A core of a newer server does more work, so the planner counts every
server's capacity in those *reference cores*:

    rate per core        r = SPECrate2017_int_base / cores                 [per core]
    scale of server k    s_k = r_k / r_measured                [reference cores per core]
    capacity of k        (C_k - reserved) x s_k                          [reference cores]

SPECrate2017_int_base is run with one copy per hardware thread, so its per-core figure
already holds what SMT adds: threads are not counted again (``threads_per_core`` is
stated, not used). Memory, IOPS and stored data are not normalised. A pod request of R
reference cores asks R / s cores of the server it is declared for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planner.errors import InputError
from planner.inputs.catalog import Catalog
from planner.inputs.yaml_loader import Node


@dataclass(frozen=True)
class MeasuredOn:
    """The hardware a profile's CPU figures were measured on, with its SPECrate result."""

    label: str  # a catalogue SKU or a CPU model
    cores: int
    int_rate_base: float
    result: str
    sku: str = ""  # set when ``label`` names a catalogue SKU (resolved against it)

    @property
    def rate_per_core(self) -> float:
        return self.int_rate_base / self.cores


def read_measured_on(node: Node) -> MeasuredOn:
    """``measured_on: {sku: ...}`` (a catalogue server) or ``{cpu: ..., cores: ...,
    spec_cpu2017: {int_rate_base: ..., result: ...}}`` (hardware outside the catalogue)."""
    node.reject_unknown({"sku", "cpu", "cores", "spec_cpu2017"})
    if node.has("sku"):
        if node.has("cpu") or node.has("spec_cpu2017"):
            raise node.error("sku", "expected either sku or cpu with spec_cpu2017, not both")
        sku = node.string("sku")
        return MeasuredOn(label=sku, cores=0, int_rate_base=0.0, result="", sku=sku)
    if not node.has("cpu"):
        raise node.error("cpu", "required: a catalogue sku, or the CPU model with spec_cpu2017")
    rate = node.child("spec_cpu2017")
    rate.reject_unknown({"int_rate_base", "result"})
    return MeasuredOn(
        label=node.string("cpu"),
        cores=node.integer("cores", minimum=1),
        int_rate_base=rate.number("int_rate_base", exclusive_minimum=0),
        result=rate.string("result"),
    )


def resolve_measured(measured: MeasuredOn, catalog: Catalog, source: str) -> MeasuredOn:
    """A ``sku`` reference made concrete from the catalogue's server (it must carry a
    SPECrate result)."""
    if not measured.sku or measured.cores:
        return measured
    known = {s.sku: s for s in catalog.servers}
    server = known.get(measured.sku)
    if server is None:
        raise InputError(
            source,
            "key 'measured_on.sku'",
            f"unknown server SKU '{measured.sku}' (the catalogue has: {', '.join(sorted(known))})",
        )
    if server.spec_int_rate is None:
        raise InputError(
            source,
            "key 'measured_on.sku'",
            f"server '{measured.sku}' has no spec_cpu2017 result in the catalogue: state the "
            "CPU model and its SPECrate result instead",
        )
    return replace(
        measured,
        cores=server.cores,
        int_rate_base=server.spec_int_rate,
        result=server.spec_int_rate_result,
        label=f"{server.sku} ({server.cpu or server.sku})",
    )


def normalise_catalog(
    catalog: Catalog, measured: MeasuredOn | None, spec_source: str, catalog_source: str
) -> Catalog:
    """Each server's ``cpu_scale`` set to its SPECrate per core over the measured
    hardware's (unchanged when the spec names no measured hardware); a server without a
    SPECrate result cannot be compared and is an input error."""
    if measured is None:
        return catalog
    measured = resolve_measured(measured, catalog, spec_source)
    servers = []
    for i, server in enumerate(catalog.servers):
        if server.spec_int_rate is None:
            raise InputError(
                catalog_source,
                f"key 'servers[{i}].spec_cpu2017'",
                f"server '{server.sku}' has no SPECrate2017_int_base result, so its cores "
                f"cannot be compared with the measured hardware ({measured.label})",
            )
        scale = (server.spec_int_rate / server.cores) / measured.rate_per_core
        servers.append(replace(server, cpu_scale=scale))
    return replace(catalog, servers=tuple(servers))
