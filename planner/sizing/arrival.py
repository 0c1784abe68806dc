"""Placement that holds whatever order the pods arrive in.

After a failure the scheduler takes pods first-in-first-out within a priority, and they
arrive in whatever order their controllers recreate them. A fleet on which *some* order
places every pod (:mod:`planner.sizing.scheduler` plays one) may still leave a pod
Pending in another. This module proves, for a pod set on the surviving servers, that
**no arrival order and no choice among the servers that pass the filters** leaves a pod
of a given priority Pending.

A pod p (requests c_p cores, m_p GiB, of workload w) stays Pending only if every server b
is blocked when it arrives: its CPU load exceeds C_b - c_p, or its memory load exceeds
M_b - m_p, or it already holds a pod of w that p's anti-affinity (or topology spread of
maxSkew S) rules out. What can load the servers are the other pods of priority at least
p's (a lower-priority pod is preempted for p). So with their totals c_o and m_o:

* CPU blocks at most k_c servers: the most servers whose thresholds C_b - c_p, cheapest
  first, sum to at most c_o (a server p does not fit even empty costs 0);
* memory likewise at most k_m;
* the workload's own other R_w - 1 pods block at most R_w - 1 servers under
  anti-affinity, and floor((R_w - 1) / S) under a spread of maxSkew S.

If k_c + k_m + k_a < the number of servers, p finds a server in every order. The bound
counts each blocking resource as if it were spent on its own servers, and lets the
scheduler pick the worst server, so it can ask for more than any order needs.

Where the bound does not prove it, :func:`strands_in_some_order` tries every order:
pods of one workload are alike, so an order is a sequence of workloads, and a
depth-first search over them (and over the servers a scoring tie leaves open), each
state visited once up to interchangeable servers, decides exactly whether one strands a
pod. Only when that needs more than ``EXHAUSTIVE_STATES`` states (hundreds of pods) does
:func:`orders_that_strand` stand in: the scheduler's own rule over structured orders
(largest first, smallest first, each workload's pods together both ways),
``SAMPLED_ORDERS`` random ones from a seed fixed by the pod set, and a local search from
the orders that came closest (fewest servers left to a pod, least room). That last step
is a search, not a proof.
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

from planner.sizing.scheduler import Allocatable, Board, QueuedPod, Schedule, schedule

EPS = 1e-9
#: states the exhaustive search over arrival orders may visit before it hands over
EXHAUSTIVE_STATES = 20_000
#: random arrival orders played where neither the bound nor the exhaustive search decides
SAMPLED_ORDERS = 96
#: the closest calls among them searched further for a stranding order, swaps each
SEARCH_STARTS = 3
SEARCH_STEPS = 200


@dataclass(frozen=True)
class Stranded:
    """A workload whose pod some arrival order can leave Pending, with the bound's terms."""

    workload: str
    servers: int
    blocked_by_cpu: int
    blocked_by_memory: int
    blocked_by_spread: int


def _blockable(thresholds: list[float], budget: float) -> int:
    """The most servers a load of ``budget`` can push past their thresholds."""
    count = 0
    for t in sorted(thresholds):
        if t > budget + EPS:
            break
        budget -= t
        count += 1
    return count


def stranded_in_some_order(
    servers: Sequence[Allocatable], pods: Sequence[QueuedPod], at_least: int
) -> list[Stranded]:
    """The workloads of priority >= ``at_least`` that some arrival order can leave Pending
    on ``servers`` (empty: every order places them; see the module docstring)."""
    out: list[Stranded] = []
    seen: set[tuple[str, int, float, float]] = set()
    replicas: dict[str, int] = {}
    for pod in pods:
        replicas[pod.workload] = replicas.get(pod.workload, 0) + 1
    for pod in pods:
        key = (pod.workload, pod.priority, pod.cpu_cores, pod.memory_gib)
        if pod.priority < at_least or key in seen:
            continue
        seen.add(key)
        rivals = [q for q in pods if q.priority >= pod.priority]
        cpu = sum(q.cpu_cores for q in rivals) - pod.cpu_cores
        memory = sum(q.memory_gib for q in rivals) - pod.memory_gib
        by_cpu = _blockable([max(0.0, s.cpu_cores - pod.cpu_cores) for s in servers], cpu)
        by_memory = _blockable([max(0.0, s.memory_gib - pod.memory_gib) for s in servers], memory)
        own = replicas[pod.workload] - 1
        if pod.anti_affinity:
            by_spread = own
        elif pod.max_skew is not None and pod.max_skew > 0:
            by_spread = own // pod.max_skew
        else:
            by_spread = 0
        if by_cpu + by_memory + by_spread >= len(servers):
            out.append(Stranded(pod.workload, len(servers), by_cpu, by_memory, by_spread))
    return out


def arrival_orders(pods: Sequence[QueuedPod], samples: int = SAMPLED_ORDERS) -> list[list[int]]:
    """The arrival orders tried: structured ones, then ``samples`` random ones seeded by
    the pod set itself (deterministic: the same pods give the same orders)."""
    n = len(pods)
    size = [(pods[i].memory_gib, pods[i].cpu_cores) for i in range(n)]
    orders = [
        sorted(range(n), key=lambda i: (size[i], i), reverse=True),
        sorted(range(n), key=lambda i: (size[i], i)),
        sorted(range(n), key=lambda i: (pods[i].workload, size[i], i)),
        sorted(range(n), key=lambda i: (pods[i].workload, size[i], i), reverse=True),
    ]
    text = "|".join(f"{p.workload},{p.priority},{p.cpu_cores},{p.memory_gib}" for p in pods)
    rng = random.Random(int(hashlib.sha256(text.encode()).hexdigest()[:16], 16))
    for _ in range(samples):
        order = list(range(n))
        rng.shuffle(order)
        orders.append(order)
    return orders


def _stress(placed: Schedule, pods: Sequence[QueuedPod], at_least: int) -> tuple[int, int, float]:
    """How close an order comes to stranding a pod that must run (larger: closer)."""
    pending = sum(1 for i in placed.pending if pods[i].priority >= at_least)
    return pending, -placed.fewest_options, -placed.tightest


def _hardest(
    servers: Sequence[Allocatable],
    pods: Sequence[QueuedPod],
    at_least: int,
    start: list[int],
    rng: random.Random,
    steps: int,
) -> tuple[list[int], Schedule]:
    """Local search for an order that strands a pod: swap two pods of one priority, keep
    the swap when the order comes no less close to stranding (:func:`_stress`)."""
    order = list(start)
    placed = schedule(servers, pods, order)
    stress = _stress(placed, pods, at_least)
    for _ in range(steps):
        if stress[0] > 0:
            break
        a, b = rng.randrange(len(order)), rng.randrange(len(order))
        if pods[order[a]].priority != pods[order[b]].priority or a == b:
            continue
        order[a], order[b] = order[b], order[a]
        trial = schedule(servers, pods, order)
        trial_stress = _stress(trial, pods, at_least)
        if trial_stress >= stress:
            placed, stress = trial, trial_stress
        else:
            order[a], order[b] = order[b], order[a]
    return order, placed


def orders_that_strand(
    servers: Sequence[Allocatable], pods: Sequence[QueuedPod], at_least: int
) -> tuple[int, int, set[str]]:
    """(orders that leave a pod of priority >= ``at_least`` Pending, orders tried, the
    workloads left Pending): :func:`arrival_orders` through the scheduler, then from the
    closest calls a local search for a stranding order (``SEARCH_STEPS`` swaps each)."""
    bad, stuck = 0, set[str]()
    orders = arrival_orders(pods)
    tried: list[tuple[tuple[int, int, float], list[int]]] = []
    for order in orders:
        placed = schedule(servers, pods, order)
        pending = [i for i in placed.pending if pods[i].priority >= at_least]
        if pending:
            bad += 1
            stuck.update(pods[i].workload for i in pending)
        tried.append((_stress(placed, pods, at_least), order))
    if bad or len(pods) < 2:
        return bad, len(orders), stuck
    rng = random.Random(len(pods) * 7919 + len(servers))
    tried.sort(key=lambda t: t[0], reverse=True)
    for _, start in tried[:SEARCH_STARTS]:
        _, placed = _hardest(servers, pods, at_least, start, rng, SEARCH_STEPS)
        pending = [i for i in placed.pending if pods[i].priority >= at_least]
        if pending:
            bad += 1
            stuck.update(pods[i].workload for i in pending)
    return bad, len(orders) + SEARCH_STARTS, stuck


def strands_in_some_order(
    servers: Sequence[Allocatable],
    pods: Sequence[QueuedPod],
    at_least: int,
    budget: int = EXHAUSTIVE_STATES,
) -> bool | None:
    """See :func:`_strands`; the same question asked again (the sizing loop re-checks a
    site's survivors for every candidate fleet) is answered from a cache."""
    return _strands(tuple(servers), tuple(pods), at_least, budget)


@functools.lru_cache(maxsize=4096)
def _strands(
    servers: tuple[Allocatable, ...],
    pods: tuple[QueuedPod, ...],
    at_least: int,
    budget: int,
) -> bool | None:
    """Exhaustive: does any arrival order leave a pod of priority >= ``at_least`` Pending?

    Pods of one workload and size are alike, so an order is a sequence of pod kinds;
    within a priority any kind may come next, and the scheduler's choice for it is
    fixed (:class:`~planner.sizing.scheduler.Board`). A depth-first search over those
    choices (and over the servers a tie leaves open), each state visited once up to
    interchangeable servers, decides it exactly. None when more than
    ``budget`` states would be needed (the caller then searches heuristically).
    """
    kinds: list[QueuedPod] = []
    left: list[int] = []
    for pod in pods:
        if pod in kinds:
            left[kinds.index(pod)] += 1
        else:
            kinds.append(pod)
            left.append(1)
    classes = sorted({k.priority for k in kinds}, reverse=True)
    names = sorted({k.workload for k in kinds})
    seen: set[tuple[object, ...]] = set()
    stack: list[tuple[Board, tuple[int, ...]]] = [(Board(servers, names), tuple(left))]
    while stack:
        board, remaining = stack.pop()
        active = next(
            (
                c
                for c in classes
                if any(n and kinds[j].priority == c for j, n in enumerate(remaining))
            ),
            None,
        )
        if active is None:
            continue
        for j, n in enumerate(remaining):
            if not n or kinds[j].priority != active:
                continue
            rest = (*remaining[:j], n - 1, *remaining[j + 1 :])
            choices = board.best_servers(kinds[j])
            if not choices and kinds[j].priority >= at_least:
                return True
            # a pod that may wait and stays Pending takes nothing; a tie between servers
            # may go either way (the real scheduler picks one at random)
            for b in choices or [-1]:
                key = (rest, board.key_after(kinds[j], b))
                if key in seen:
                    continue
                seen.add(key)
                if len(seen) > budget:
                    return None
                after = board.copy()
                if b >= 0:
                    after.put(kinds[j], b)
                stack.append((after, rest))
    return False
