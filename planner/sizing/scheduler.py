"""What the Kubernetes scheduler does with a pod set on a fleet: greedy, by priority.

An exact packing (:mod:`planner.sizing.packing`) proves that *some* placement exists; the
scheduler does not search for it. It takes pods one at a time from its queue, highest
priority first, and puts each on the best-scored server that passes its filters. This
module plays that, so a plan is accepted only when the scheduler itself places every pod:

* **Queue:** by priority, highest first. Within a priority the arrival order is not
  fixed by Kubernetes; this model takes larger pods first (memory, then CPU), then the
  caller's order. A preempting pod evicts lower-priority pods, so placing in priority
  order reaches the state preemption reaches.
* **Filters** (``NodeResourcesFit``, ``InterPodAffinity``, ``PodTopologySpread``): the
  pod's requests fit the server's free allocatable CPU [cores] and memory [GiB]; under
  required hostname anti-affinity no pod of its workload is on the server; under a
  hostname spread with ``whenUnsatisfiable: DoNotSchedule`` and maxSkew S, the server's
  count of the workload + 1 - the least count over all servers <= S.
* **Score** (``NodeResourcesFit`` with the default ``LeastAllocated`` strategy, equal
  weights for CPU and memory): the server with the most free share after placing,
  (free_cpu - cpu) / allocatable_cpu + (free_mem - mem) / allocatable_mem; ties go to
  the first server (the real scheduler picks one of them at random). The other default
  score plugins are left out: hostname spread scoring only counts ``ScheduleAnyway``
  constraints, and balanced allocation only breaks near-ties.

A pod no server accepts stays Pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EPS = 1e-9


@dataclass(frozen=True)
class QueuedPod:
    """One pod in the scheduler's queue: its workload, priority value and requests."""

    workload: str
    priority: int
    cpu_cores: float
    memory_gib: float
    anti_affinity: bool
    max_skew: int | None


@dataclass(frozen=True)
class Allocatable:
    """One server's allocatable resources: CPU [cores] and memory [GiB]."""

    cpu_cores: float
    memory_gib: float


@dataclass(frozen=True)
class Schedule:
    """Where each pod went: ``placement[i]`` lists the pod indices on server i."""

    pending: tuple[int, ...]
    placement: tuple[tuple[int, ...], ...]


def queue_order(pods: Sequence[QueuedPod]) -> list[int]:
    """Pod indices in the order the scheduler takes them (see the module docstring)."""
    return sorted(
        range(len(pods)),
        key=lambda i: (-pods[i].priority, -pods[i].memory_gib, -pods[i].cpu_cores, i),
    )


def schedule(servers: Sequence[Allocatable], pods: Sequence[QueuedPod]) -> Schedule:
    """Place ``pods`` on ``servers`` as the scheduler would; the rest stay Pending."""
    free_cpu = [s.cpu_cores for s in servers]
    free_mem = [s.memory_gib for s in servers]
    counts: list[dict[str, int]] = [{} for _ in servers]
    placement: list[list[int]] = [[] for _ in servers]
    pending: list[int] = []
    for i in queue_order(pods):
        pod = pods[i]
        least = min((c.get(pod.workload, 0) for c in counts), default=0)
        best, best_score = -1, -1.0
        for b, server in enumerate(servers):
            if pod.cpu_cores > free_cpu[b] + EPS or pod.memory_gib > free_mem[b] + EPS:
                continue
            here = counts[b].get(pod.workload, 0)
            if pod.anti_affinity and here > 0:
                continue
            if pod.max_skew is not None and here + 1 - least > pod.max_skew:
                continue
            score = _share(free_cpu[b] - pod.cpu_cores, server.cpu_cores) + _share(
                free_mem[b] - pod.memory_gib, server.memory_gib
            )
            if score > best_score + EPS:
                best, best_score = b, score
        if best < 0:
            pending.append(i)
            continue
        free_cpu[best] -= pod.cpu_cores
        free_mem[best] -= pod.memory_gib
        counts[best][pod.workload] = counts[best].get(pod.workload, 0) + 1
        placement[best].append(i)
    return Schedule(tuple(sorted(pending)), tuple(tuple(p) for p in placement))


def _share(free: float, capacity: float) -> float:
    return free / capacity if capacity > 0 else 0.0
