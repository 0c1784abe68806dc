"""What the Kubernetes scheduler does with a pod set on a fleet: greedy, by priority.

An exact packing (:mod:`planner.sizing.packing`) proves that *some* placement exists; the
scheduler does not search for it. It takes pods one at a time from its queue, highest
priority first, and puts each on the best-scored server that passes its filters. This
module plays that, so a plan is accepted only when the scheduler itself places every pod:

* **Queue:** by priority, highest first; within a priority first-in-first-out, in the
  order the pods arrived (after a failure: whatever order their controllers recreate
  them in, so the sizing tries many, :mod:`planner.sizing.arrival`). A preempting pod
  evicts lower-priority pods, so placing in priority order reaches the state preemption
  reaches.
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
    #: the least room any placed pod had: over the servers that passed its spread and
    #: affinity filters, the most of min(free CPU - request, free memory - request
    #: [in the server's cores per GiB]) [cores]; how close the order came to a Pending pod
    tightest: float = float("inf")
    #: the fewest servers that passed every filter for a placed pod
    fewest_options: int = 0


def queue_order(pods: Sequence[QueuedPod], arrival: Sequence[int] | None = None) -> list[int]:
    """Pod indices in the order the scheduler takes them: highest priority first, and
    within a priority first-in-first-out in ``arrival`` (default: the pods' order)."""
    position = {i: k for k, i in enumerate(arrival if arrival is not None else range(len(pods)))}
    return sorted(range(len(pods)), key=lambda i: (-pods[i].priority, position[i]))


class Board:
    """The servers' free resources and each workload's pods per server, as the scheduler
    sees them while it places pods one at a time (:meth:`place`)."""

    def __init__(self, servers: Sequence[Allocatable], workloads: Sequence[str] = ()) -> None:
        self.free_cpu = [s.cpu_cores for s in servers]
        self.free_mem = [s.memory_gib for s in servers]
        self.inv_cpu = [1.0 / s.cpu_cores if s.cpu_cores > 0 else 0.0 for s in servers]
        self.inv_mem = [1.0 / s.memory_gib if s.memory_gib > 0 else 0.0 for s in servers]
        self.ratio = [s.cpu_cores / s.memory_gib if s.memory_gib > 0 else 0.0 for s in servers]
        self.counts: dict[str, list[int]] = {}  # per workload, its pods on each server
        # for :meth:`key`: each server's size and its pods per workload of ``workloads``
        self.slot = {w: k for k, w in enumerate(workloads)}
        self.rows = [((s.cpu_cores, s.memory_gib), (0,) * len(workloads)) for s in servers]

    def copy(self) -> Board:
        other = Board.__new__(Board)
        other.free_cpu, other.free_mem = list(self.free_cpu), list(self.free_mem)
        other.inv_cpu, other.inv_mem, other.ratio = self.inv_cpu, self.inv_mem, self.ratio
        other.counts = {w: list(c) for w, c in self.counts.items()}
        other.slot, other.rows = self.slot, list(self.rows)
        return other

    def key(self) -> tuple[object, ...]:
        """The state up to the order of the servers (servers of one size holding the same
        pods are interchangeable; what is free follows from the pods), for a search over
        the workloads given at construction to recognise where it has been."""
        return tuple(sorted(self.rows))

    def _passing(self, pod: QueuedPod) -> list[tuple[int, float, float]]:
        """The servers that pass ``pod``'s filters (resources, anti-affinity, hostname
        spread), each with the CPU [cores] and memory [GiB] it would have left."""
        n = len(self.free_cpu)
        here = self.counts.get(pod.workload, [0] * n)
        least = min(here, default=0)
        out = []
        for b in range(n):
            left_cpu = self.free_cpu[b] - pod.cpu_cores
            left_mem = self.free_mem[b] - pod.memory_gib
            if left_cpu < -EPS or left_mem < -EPS:
                continue
            if pod.anti_affinity and here[b] > 0:
                continue
            if pod.max_skew is not None and here[b] + 1 - least > pod.max_skew:
                continue
            out.append((b, left_cpu, left_mem))
        return out

    def _score(self, b: int, left_cpu: float, left_mem: float) -> float:
        """LeastAllocated: the free share of CPU plus that of memory after placing."""
        return left_cpu * self.inv_cpu[b] + left_mem * self.inv_mem[b]

    def best_servers(self, pod: QueuedPod) -> list[int]:
        """Every server the scheduler may pick for ``pod``: those that pass the filters
        with the highest score (the real scheduler picks one of a tie at random)."""
        scored = [(self._score(b, c, m), b) for b, c, m in self._passing(pod)]
        if not scored:
            return []
        top = max(score for score, _ in scored)
        return [b for score, b in scored if score >= top - EPS]

    def key_after(self, pod: QueuedPod, b: int) -> tuple[object, ...]:
        """:meth:`key` as it would be after :meth:`put` (``b`` < 0: unchanged)."""
        k = self.slot.get(pod.workload)
        if b < 0 or k is None:
            return self.key()
        rows = list(self.rows)
        size, held = rows[b]
        rows[b] = (size, (*held[:k], held[k] + 1, *held[k + 1 :]))
        return tuple(sorted(rows))

    def put(self, pod: QueuedPod, b: int) -> None:
        here = self.counts.setdefault(pod.workload, [0] * len(self.free_cpu))
        self.free_cpu[b] -= pod.cpu_cores
        self.free_mem[b] -= pod.memory_gib
        here[b] += 1
        k = self.slot.get(pod.workload)
        if k is not None:
            size, held = self.rows[b]
            self.rows[b] = (size, (*held[:k], held[k] + 1, *held[k + 1 :]))

    def place(self, pod: QueuedPod) -> tuple[int, float, int]:
        """Put ``pod`` where the scheduler would: (server or -1 for Pending, the most room
        among the servers that passed the filters, how many passed)."""
        passing = self._passing(pod)
        best, best_score = -1, -1.0
        roomiest = -float("inf")
        for b, left_cpu, left_mem in passing:
            roomiest = max(roomiest, min(left_cpu, left_mem * self.ratio[b]))
            score = self._score(b, left_cpu, left_mem)
            if score > best_score + EPS:
                best, best_score = b, score
        if best >= 0:
            self.put(pod, best)
        return best, roomiest, len(passing)


def schedule(
    servers: Sequence[Allocatable],
    pods: Sequence[QueuedPod],
    arrival: Sequence[int] | None = None,
) -> Schedule:
    """Place ``pods`` on ``servers`` as the scheduler would, taking them in ``arrival``
    order within a priority; the rest stay Pending."""
    board = Board(servers)
    placement: list[list[int]] = [[] for _ in servers]
    pending: list[int] = []
    tightest = float("inf")
    fewest = len(servers)
    for i in queue_order(pods, arrival):
        best, roomiest, options = board.place(pods[i])
        if best < 0:
            pending.append(i)
            continue
        tightest = min(tightest, roomiest)
        fewest = min(fewest, options)
        placement[best].append(i)
    return Schedule(tuple(sorted(pending)), tuple(tuple(p) for p in placement), tightest, fewest)
