"""Will the declared pods, and the data, survive losing any r servers? (the sizing side)

Kubernetes places pods one server at a time by their requests, so a fleet that holds the
aggregate load may still leave pods Pending. This module decides, exactly, whether a
site's fleet can place a scenario's pod set after the loss of any r servers:

* Servers of one SKU are identical, so "any r servers" is every multiset of r SKUs the
  fleet has (:func:`removal_sets`); pods are re-placed on the survivors, as the scheduler
  re-places them.
* A placement assigns x[g,b] pods of group g to server b with
  sum_b x[g,b] = R_g,  sum_g cpu_g x[g,b] <= C_b,  sum_g mem_g x[g,b] <= M_b,
  0 <= x[g,b] <= cap_g (1 under anti-affinity), and x[g,b] = 0 where a pod does not fit.
  First-fit heuristics settle most cases; otherwise a small MILP (HiGHS) decides.

The sizing accepts a fleet only when no arrival order of the pods leaves one that must
run Pending (:func:`packing_failures`, :mod:`planner.sizing.arrival`), which is stricter
than a packing existing.

Drives sit in server bays: :func:`place_drives` spreads them so every server carries
about the same raw capacity, and :func:`storage_failures` checks capacity, IOPS and the
protection width after losing the r servers whose drives hurt most.

Packing feasibility only grows with the fleet (more servers or drives never make it
worse), so the sizing loop may exclude every fleet dominated by one that fails
(:mod:`planner.sizing.model`). The scheduler's greedy choice is not provably monotone: a
smaller fleet the cut excludes could in principle schedule where a larger one does not,
so the cut may cost a server the optimum would not need; it never accepts a fleet the
scheduler fails on.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import numpy as np

from planner.errors import SolverError
from planner.inputs.catalog import Catalog
from planner.inputs.spec import Spec
from planner.sizing.arrival import (
    orders_that_strand,
    stranded_in_some_order,
    strands_in_some_order,
)
from planner.sizing.fleet import survivors
from planner.sizing.pods import PRIORITIES, PodGroup, queued_pods
from planner.sizing.scheduler import Allocatable

EPS = 1e-9
DEFERRABLE = PRIORITIES["deferrable"]


@dataclass(frozen=True)
class Node:
    """One server's allocatable resources (physical, after the node reservation)."""

    sku: str
    cpu_cores: float
    memory_gib: float


def nodes_of(
    counts: dict[str, int], catalog: Catalog, spec: Spec, fleet: dict[str, int] | None = None
) -> list[Node]:
    """The ``counts`` servers as nodes; CPU at the request scale of ``fleet`` (the whole
    site's servers, of which ``counts`` may be the survivors; default ``counts``)."""
    out = []
    for sku in sorted(counts):
        server = catalog.server(sku)
        node = Node(
            sku,
            catalog.placement_cores(
                sku, spec.node_cpu_reserved(server.drive_bays), fleet or counts
            ),
            max(0.0, server.memory_gib - spec.node_memory_reserved(server.drive_bays)),
        )
        out.extend([node] * counts[sku])
    return out


def removal_sets(counts: dict[str, int], r: int) -> list[dict[str, int]]:
    """Every distinct way to lose ``r`` servers, as SKU counts (all of them if r >= N)."""
    skus = sorted(k for k, n in counts.items() if n > 0)
    total = sum(counts[k] for k in skus)
    if r <= 0:
        return [{}]
    if r >= total:
        return [{k: counts[k] for k in skus}]
    out = []
    for combo in itertools.combinations_with_replacement(skus, r):
        lost = Counter(combo)
        if all(lost[k] <= counts[k] for k in lost):
            out.append(dict(lost))
    return out


def fits(group: PodGroup, node: Node) -> bool:
    return group.cpu_cores <= node.cpu_cores + EPS and group.memory_gib <= node.memory_gib + EPS


def can_place(nodes: list[Node], groups: tuple[PodGroup, ...]) -> bool:
    """True when every pod of ``groups`` can be placed on ``nodes`` (exact)."""
    groups = tuple(g for g in groups if g.replicas > 0)
    if not groups:
        return True
    if sum(g.replicas * g.cpu_cores for g in groups) > sum(n.cpu_cores for n in nodes) + EPS:
        return False
    if sum(g.replicas * g.memory_gib for g in groups) > sum(n.memory_gib for n in nodes) + EPS:
        return False
    for g in groups:
        if sum(1 for n in nodes if fits(g, n)) * g.max_per_server < g.replicas:
            return False
    if _greedy(nodes, groups, best_fit=True) or _greedy(nodes, groups, best_fit=False):
        return True
    return _exact(nodes, groups)


def _greedy(nodes: list[Node], groups: tuple[PodGroup, ...], *, best_fit: bool) -> bool:
    """Place pods largest first; best fit (tightest server) or worst fit (emptiest)."""
    top_cpu = max(n.cpu_cores for n in nodes) or 1.0
    top_mem = max(n.memory_gib for n in nodes) or 1.0
    free_cpu = [n.cpu_cores for n in nodes]
    free_mem = [n.memory_gib for n in nodes]
    placed = [[0] * len(nodes) for _ in groups]
    order = sorted(
        range(len(groups)),
        key=lambda i: (
            not groups[i].anti_affinity,
            -max(groups[i].cpu_cores / top_cpu, groups[i].memory_gib / top_mem),
        ),
    )
    for i in order:
        g = groups[i]
        for _ in range(g.replicas):
            best, best_score = -1, 0.0
            for b in range(len(nodes)):
                if placed[i][b] >= g.max_per_server:
                    continue
                if g.cpu_cores > free_cpu[b] + EPS or g.memory_gib > free_mem[b] + EPS:
                    continue
                left = (free_cpu[b] - g.cpu_cores) / top_cpu + (
                    free_mem[b] - g.memory_gib
                ) / top_mem
                score = -left if best_fit else left
                if best < 0 or score > best_score + EPS:
                    best, best_score = b, score
            if best < 0:
                return False
            placed[i][best] += 1
            free_cpu[best] -= g.cpu_cores
            free_mem[best] -= g.memory_gib
    return True


def _exact(nodes: list[Node], groups: tuple[PodGroup, ...]) -> bool:
    """The placement MILP of the module docstring, with identical servers ordered by load."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    index: dict[tuple[int, int], int] = {}
    upper: list[float] = []
    for gi, g in enumerate(groups):
        for b, node in enumerate(nodes):
            if fits(g, node):
                index[(gi, b)] = len(upper)
                upper.append(float(g.max_per_server))
    rows: list[dict[int, float]] = []
    lower: list[float] = []
    high: list[float] = []
    for gi, g in enumerate(groups):
        rows.append({index[k]: 1.0 for k in index if k[0] == gi})
        lower.append(float(g.replicas))
        high.append(float(g.replicas))
    for b, node in enumerate(nodes):
        rows.append({index[k]: groups[k[0]].cpu_cores for k in index if k[1] == b})
        lower.append(-np.inf)
        high.append(node.cpu_cores + EPS)
        rows.append({index[k]: groups[k[0]].memory_gib for k in index if k[1] == b})
        lower.append(-np.inf)
        high.append(node.memory_gib + EPS)
    for b in range(len(nodes) - 1):
        if nodes[b] != nodes[b + 1]:
            continue
        row: dict[int, float] = {}
        for gi, g in enumerate(groups):
            weight = g.cpu_cores + g.memory_gib / 8.0
            if (gi, b) in index:
                row[index[(gi, b)]] = row.get(index[(gi, b)], 0.0) + weight
            if (gi, b + 1) in index:
                row[index[(gi, b + 1)]] = row.get(index[(gi, b + 1)], 0.0) - weight
        rows.append(row)
        lower.append(0.0)
        high.append(np.inf)
    r_idx, c_idx, vals = [], [], []
    for i, coeffs in enumerate(rows):
        for j, v in coeffs.items():
            r_idx.append(i)
            c_idx.append(j)
            vals.append(v)
    matrix = coo_array((vals, (r_idx, c_idx)), shape=(len(rows), len(upper))).tocsr()
    result = milp(
        c=np.zeros(len(upper)),
        integrality=np.ones(len(upper)),
        bounds=Bounds(np.zeros(len(upper)), np.array(upper)),
        constraints=LinearConstraint(matrix, np.array(lower), np.array(high)),
        options={"time_limit": 60.0},
    )
    if result.status == 0:
        return True
    if result.status == 2:
        return False
    raise SolverError(f"the pod placement check stopped without an answer: {result.message}")


def packing_failures(
    counts: dict[str, int],
    catalog: Catalog,
    spec: Spec,
    pod_sets: dict[str, tuple[PodGroup, ...]],
) -> list[str]:
    """One line per (scenario, loss) where a pod can be left without a server.

    One rule for deferrable pods, here and in the verifier: with every server up, every
    pod runs; after losing servers, deferrable pods may wait for room (that is what
    deferrable means), so only the clinical pods (database, critical, degradable) must
    be placed. For the pods that must run:

    * a placement of them within the per-server caps must exist (exact; the plan's rule,
      stricter than the hostname spread the scheduler enforces), and
    * no arrival order may leave one Pending (:mod:`planner.sizing.arrival`: after a
      failure the scheduler's queue is first-in-first-out within a priority, and pods
      arrive as their controllers recreate them, in no fixed order).
    """
    out = []
    for scenario, groups in pod_sets.items():
        losses = removal_sets(counts, spec.servers_lost)
        every_up: list[dict[str, int]] = [] if {} in losses else [{}]
        for lost in every_up + losses:  # every server up, too
            nodes = nodes_of(survivors(counts, lost), catalog, spec, counts)
            what = ", ".join(f"{n} x {k}" for k, n in sorted(lost.items())) or "none"
            floor = DEFERRABLE if not lost else DEFERRABLE + 1
            needed = tuple(g for g in groups if g.priority >= floor)
            if not can_place(nodes, needed):
                out.append(f"{scenario}: pods do not fit after losing {what}")
                continue
            servers = [Allocatable(n.cpu_cores, n.memory_gib) for n in nodes]
            pods = queued_pods(groups)
            if not stranded_in_some_order(servers, pods, floor):
                continue  # proven for every arrival order by the bound
            exact = strands_in_some_order(servers, pods, floor)
            if exact is False:
                continue  # every arrival order tried
            bad, tried, stuck = orders_that_strand(servers, pods, floor)
            if exact and not bad:
                out.append(
                    f"{scenario}: after losing {what}, an arrival order leaves a pod that "
                    "must run Pending (found by trying every order; the scheduler's queue is "
                    "first-in-first-out within a priority)"
                )
                continue
            if bad:
                out.append(
                    f"{scenario}: after losing {what}, {bad} of {tried} arrival orders leave "
                    f"{', '.join(sorted(stuck))} Pending (the scheduler's queue is "
                    "first-in-first-out within a priority)"
                )
    return out


# --- drives in bays -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServerDrives:
    """One server and the drives placed in its bays."""

    server: str
    drives: tuple[str, ...]


def place_drives(
    servers: dict[str, int], drives: dict[str, int], catalog: Catalog
) -> list[ServerDrives]:
    """Spread drives over the servers' bays so raw capacity per server is as even as it
    gets: largest drives first, each into the server with the least raw capacity that has
    a free bay (ties: the most free bays, then the order of SKUs)."""
    slots = [
        (sku, catalog.server(sku).drive_bays)
        for sku in sorted(servers)
        for _ in range(servers[sku])
    ]
    raw = [0.0] * len(slots)
    free = [bays for _, bays in slots]
    held: list[list[str]] = [[] for _ in slots]
    pending = sorted(
        (sku for sku in drives for _ in range(drives[sku])),
        key=lambda k: (-catalog.drive(k).capacity_tb, k),
    )
    for sku in pending:
        options = [i for i in range(len(slots)) if free[i] > 0]
        if not options:
            break  # more drives than bays: the bay constraint reports it
        i = min(options, key=lambda j: (raw[j], -free[j], j))
        held[i].append(sku)
        raw[i] += catalog.drive(sku).capacity_tb
        free[i] -= 1
    return [ServerDrives(slots[i][0], tuple(held[i])) for i in range(len(slots))]


def drive_layout(placement: list[ServerDrives]) -> list[dict[str, object]]:
    """The placement as the plan states it: per server model, how many servers carry which
    drives (identical servers with identical drives counted together)."""
    counted = Counter((p.server, tuple(sorted(Counter(p.drives).items()))) for p in placement)
    return [
        {"server": server, "servers": n, "drives_each": dict(drives)}
        for (server, drives), n in sorted(counted.items())
    ]


def protection_width(spec: Spec) -> int:
    """Servers (hosts) a protected object spans: k + m for erasure coding, n copies."""
    p = spec.protection
    return p.data + p.parity if p.scheme == "erasure" else p.copies


def storage_failures(
    placement: list[ServerDrives],
    catalog: Catalog,
    spec: Spec,
    stored_tib: float,
    read_iops: float,
    write_iops: float,
) -> list[str]:
    """Capacity, IOPS and protection width after losing the r servers whose drives hurt
    each of them most. ``write_iops`` is logical (the protection overhead is applied)."""
    from planner.inputs.units import TIB_PER_TB

    r = spec.servers_lost
    per = []
    for p in placement:
        ds = [catalog.drive(d) for d in p.drives]
        per.append(
            (
                sum(d.capacity_tb for d in ds) * TIB_PER_TB,
                sum(d.read_iops for d in ds),
                sum(d.write_iops for d in ds),
            )
        )
    out = []
    factor = spec.fill_ceiling / spec.protection.overhead
    needs = (
        ("flash capacity", 0, stored_tib / factor, "TiB raw"),
        ("read IOPS", 1, read_iops / spec.drive_iops_ceiling, "IOPS"),
        ("write IOPS", 2, write_iops * spec.protection.overhead / spec.drive_iops_ceiling, "IOPS"),
    )
    for name, i, need, unit in needs:
        values = sorted((v[i] for v in per), reverse=True)
        left = sum(values[r:])
        if left + EPS < need:
            out.append(f"{name} after losing {r} server(s): {left:,.1f} < {need:,.1f} {unit}")
    hosts = sum(1 for p in placement if p.drives)
    width = protection_width(spec)
    if stored_tib > 0 and hosts - r < width:
        out.append(
            f"protection: {hosts - r} servers with drives after losing {r}, "
            f"{spec.protection.scheme} needs {width}"
        )
    return out
