"""Independent placement checks: the declared pods and the drives on the planned servers.

Shares no code with :mod:`planner.sizing.packing`, :mod:`planner.sizing.pods` or the
model. From the fleet and the workload sizings alone it rebuilds

* each scenario's pods (replicas of the scenario, requests, at most one database replica
  per server, at most ceil(share x replicas_max) pods of a workload per server), and places
  them pod by pod on all the servers, and, all but the deferrable ones (which may wait
  while a server is out), on the servers left after each distinct loss of r servers: first fit by
  memory, or each pod on the emptiest server, then an exhaustive search with symmetry
  pruning (exact; for fleets too large to finish within its budget, an assignment MILP
  settles the case);
* the drives, spread over the bays by filling the emptiest server first, and the capacity,
  IOPS and protection width left after losing, for each quantity, the r servers holding
  the most of it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from itertools import combinations

from planner.inputs.catalog import Catalog
from planner.inputs.spec import Spec
from planner.sizing.fleet import SiteFleet
from planner.sizing.workloads import WorkloadSizing

SEARCH_BUDGET = 2_000  # search nodes before the exact search hands over to a MILP (a hard
# instance costs the search far more than the MILP: 200,000 nodes took 0.8 s on the example,
# the MILP 0.07 s)


@dataclass(frozen=True)
class Pod:
    workload: str
    cpu: float
    mem: float
    cap: int  # pods of this workload one server may hold
    deferrable: bool = False  # may wait for room while a server is out


@dataclass(frozen=True)
class PlacementResult:
    scenario: str
    losses: int  # distinct losses of r servers tried
    placed: int  # of which every pod was placed
    failed_loss: str  # the first loss that failed, "" when none
    requested_cpu: float  # the pods' CPU requests (cores)
    least_allocatable_cpu: float  # allocatable CPU left after the worst loss (cores)


def scenario_pods(
    sizings: tuple[WorkloadSizing, ...], spec: Spec, site: str, scenario: str
) -> list[Pod]:
    pods: list[Pod] = []
    for z in sizings:
        if z.site != site:
            continue
        count = z.replicas_normal if scenario == "normal" else z.replicas_failover
        most = max(z.replicas_normal, z.replicas_failover)
        cap = (
            1 if z.anti_affinity else max(1, math.ceil(spec.max_pod_share_per_server * most - 1e-9))
        )
        later = z.criticality == "deferrable"
        pods.extend(
            Pod(z.workload, z.cpu_request_cores, z.memory_request_gib, cap, later)
            for _ in range(count)
        )
    return pods


def _losses(kinds: list[str], r: int) -> list[tuple[int, ...]]:
    """Index sets of r servers, one per distinct multiset of server models."""
    seen: dict[tuple[str, ...], tuple[int, ...]] = {}
    for chosen in combinations(range(len(kinds)), min(r, len(kinds))):
        key = tuple(sorted(kinds[i] for i in chosen))
        seen.setdefault(key, chosen)
    return list(seen.values()) or [()]


def _place(servers: list[tuple[float, float]], pods: list[Pod]) -> bool:
    """Exact: can every pod be placed (requests, per-server caps)?"""
    if sum(p.cpu for p in pods) > sum(c for c, _ in servers) + 1e-9:
        return False
    if sum(p.mem for p in pods) > sum(m for _, m in servers) + 1e-9:
        return False
    order = sorted(pods, key=lambda p: (-p.mem, -p.cpu, p.workload))
    if _first_fit(servers, order) or _emptiest_fit(servers, order):
        return True
    decided = _search(servers, order)
    if decided is not None:
        return decided
    return _milp(servers, order)


def _emptiest_fit(servers: list[tuple[float, float]], pods: list[Pod]) -> bool:
    """Each pod on the server with the most CPU and memory left (as shares of its own)."""
    free = [list(s) for s in servers]
    count: Counter[tuple[str, int]] = Counter()
    for p in pods:
        best, best_left = -1, -1.0
        for b, (cpu, mem) in enumerate(free):
            if p.cpu <= cpu + 1e-9 and p.mem <= mem + 1e-9 and count[(p.workload, b)] < p.cap:
                left = (cpu - p.cpu) / max(servers[b][0], 1e-9) + (mem - p.mem) / max(
                    servers[b][1], 1e-9
                )
                if left > best_left:
                    best, best_left = b, left
        if best < 0:
            return False
        free[best][0] -= p.cpu
        free[best][1] -= p.mem
        count[(p.workload, best)] += 1
    return True


def _first_fit(servers: list[tuple[float, float]], pods: list[Pod]) -> bool:
    free = [list(s) for s in servers]
    count: Counter[tuple[str, int]] = Counter()
    for p in pods:
        for b, (cpu, mem) in enumerate(free):
            if p.cpu <= cpu + 1e-9 and p.mem <= mem + 1e-9 and count[(p.workload, b)] < p.cap:
                free[b][0] -= p.cpu
                free[b][1] -= p.mem
                count[(p.workload, b)] += 1
                break
        else:
            return False
    return True


def _search(servers: list[tuple[float, float]], pods: list[Pod]) -> bool | None:
    """Depth-first over pods; servers in the same state are tried once per level, and
    identical consecutive pods go to non-decreasing servers. None when over budget."""
    free = [list(s) for s in servers]
    count: Counter[tuple[str, int]] = Counter()
    nodes = 0

    def go(i: int, start: int) -> bool | None:
        nonlocal nodes
        if i == len(pods):
            return True
        nodes += 1
        if nodes > SEARCH_BUDGET:
            return None
        p = pods[i]
        tried: set[tuple[float, float, int]] = set()
        for b in range(start, len(free)):
            cpu, mem = free[b]
            c = count[(p.workload, b)]
            if p.cpu > cpu + 1e-9 or p.mem > mem + 1e-9 or c >= p.cap:
                continue
            state = (round(cpu, 9), round(mem, 9), c)
            if state in tried:
                continue
            tried.add(state)
            free[b][0] -= p.cpu
            free[b][1] -= p.mem
            count[(p.workload, b)] += 1
            same_next = i + 1 < len(pods) and pods[i + 1] == p
            result = go(i + 1, b if same_next else 0)
            free[b][0] += p.cpu
            free[b][1] += p.mem
            count[(p.workload, b)] -= 1
            if result is None or result:
                return result
        return False

    return go(0, 0)


def _milp(servers: list[tuple[float, float]], pods: list[Pod]) -> bool:
    """One binary per (pod, server): each pod on one server, capacities, per-server caps."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_p, n_s = len(pods), len(servers)
    size = n_p * n_s
    rows: list[np.ndarray] = []
    lb: list[float] = []
    ub: list[float] = []
    for i in range(n_p):
        row = np.zeros(size)
        row[i * n_s : (i + 1) * n_s] = 1
        rows.append(row)
        lb.append(1)
        ub.append(1)
    for b, (cpu, mem) in enumerate(servers):
        for values, limit in (([p.cpu for p in pods], cpu), ([p.mem for p in pods], mem)):
            row = np.zeros(size)
            row[b::n_s] = values
            rows.append(row)
            lb.append(-np.inf)
            ub.append(limit + 1e-9)
        for workload in {p.workload for p in pods}:
            row = np.zeros(size)
            members = [i for i, p in enumerate(pods) if p.workload == workload]
            row[[i * n_s + b for i in members]] = 1
            rows.append(row)
            lb.append(-np.inf)
            ub.append(pods[members[0]].cap)
    result = milp(
        c=np.zeros(size),
        integrality=np.ones(size),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(np.array(rows), lb, ub),
        options={"time_limit": 120.0},
    )
    return bool(result.status == 0)


def check_pod_placement(
    fleet: SiteFleet, catalog: Catalog, spec: Spec, sizings: tuple[WorkloadSizing, ...]
) -> list[PlacementResult]:
    kinds = [sku for sku, n in sorted(fleet.servers.items()) for _ in range(n)]
    alloc = [
        (
            catalog.placement_cores(
                k, spec.node_cpu_reserved(catalog.server(k).drive_bays), fleet.servers
            ),
            max(
                0.0,
                catalog.server(k).memory_gib
                - spec.node_memory_reserved(catalog.server(k).drive_bays),
            ),
        )
        for k in kinds
    ]
    other = next(s for s in spec.site_names if s != fleet.site)
    out = []
    for scenario in ("normal", f"lost-{other}"):
        pods = scenario_pods(sizings, spec, fleet.site, scenario)
        losses = _losses(kinds, spec.servers_lost)
        placed = 0
        failed = ""
        least = math.inf
        # every pod with every server up; after a loss, deferrable pods may wait
        if not _place(alloc, pods):
            failed = "none"
        must = [p for p in pods if not p.deferrable]
        for lost in losses:
            left = [a for i, a in enumerate(alloc) if i not in lost]
            least = min(least, sum(c for c, _ in left))
            if _place(left, must if lost else pods) and failed != "none":
                placed += 1
            elif not failed:
                failed = ", ".join(
                    f"{n} x {k}" for k, n in sorted(Counter(kinds[i] for i in lost).items())
                )
        requested = sum(p.cpu for p in pods)
        out.append(PlacementResult(scenario, len(losses), placed, failed, requested, least))
    return out


@dataclass(frozen=True)
class StorageAfterLoss:
    name: str
    unit: str
    left: float  # what remains after losing the r servers holding the most of it
    need: float


def check_storage_after_loss(
    fleet: SiteFleet,
    catalog: Catalog,
    spec: Spec,
    stored_tib: float,
    read_iops: float,
    write_iops: float,
) -> list[StorageAfterLoss]:
    """Drives spread by filling the emptiest server first (largest drives first)."""
    servers = [sku for sku, n in sorted(fleet.servers.items()) for _ in range(n)]
    bays = [catalog.server(k).drive_bays for k in servers]
    held: list[list[str]] = [[] for _ in servers]
    drives = sorted(
        (sku for sku, n in fleet.drives.items() for _ in range(n)),
        key=lambda k: (-catalog.drive(k).capacity_tb, k),
    )
    for sku in drives:
        open_ = [i for i in range(len(servers)) if len(held[i]) < bays[i]]
        if not open_:
            break
        i = min(
            open_,
            key=lambda j: (
                sum(catalog.drive(d).capacity_tb for d in held[j]),
                -(bays[j] - len(held[j])),
                j,
            ),
        )
        held[i].append(sku)
    r = spec.servers_lost
    tib = 2**40 / 1e12

    def left(values: list[float]) -> float:
        return sum(sorted(values, reverse=True)[r:])

    raw = [sum(catalog.drive(d).capacity_tb for d in h) / tib for h in held]
    reads = [sum(catalog.drive(d).read_iops for d in h) for h in held]
    writes = [sum(catalog.drive(d).write_iops for d in h) for h in held]
    p = spec.protection
    width = p.data + p.parity if p.scheme == "erasure" else p.copies
    hosts = sum(1 for h in held if h)
    usable = spec.fill_ceiling / p.overhead
    return [
        StorageAfterLoss(
            f"flash usable capacity after losing {r} server(s)",
            "TiB",
            left(raw) * usable,
            stored_tib,
        ),
        StorageAfterLoss(
            f"read_iops after losing {r} server(s)",
            "IOPS",
            left(reads) * spec.drive_iops_ceiling,
            read_iops,
        ),
        StorageAfterLoss(
            f"write_iops (raw) after losing {r} server(s)",
            "IOPS",
            left(writes) * spec.drive_iops_ceiling,
            write_iops * p.overhead,
        ),
        StorageAfterLoss(
            f"servers holding data after losing {r} ({p.scheme} width)",
            "servers",
            float(max(0, hosts - r)),
            float(width) if stored_tib > 0 else 0.0,
        ),
    ]
