"""The pods each site runs in each scenario: what the stack declares and the fleet must hold.

Per site and scenario (``normal``, ``lost-<other>``), one :class:`PodGroup` per workload
with pods: the replica count of that scenario, each pod's requests, and its placement
rule. The rule is what the Kubernetes side declares, stated so that a packing honouring it
is also one the scheduler accepts:

* vertical (database) workloads: required pod anti-affinity on the hostname, at most one
  replica per server;
* horizontal workloads: a hostname topology spread with ``whenUnsatisfiable:
  DoNotSchedule`` and ``maxSkew = M``, where M = max(1, ceil(share x replicas_max)) and
  share is the spec's ``redundancy.max_pod_share_per_server`` (default 0.25): no server
  holds more than M pods of the workload. (The scheduler bounds a node's count by the
  least-loaded node's count + M; the least count is >= 0, so a placement with at most M
  per server always satisfies the rule, in whatever order pods arrive.)

The rule for requests and the aggregate: each pod's requests come from its workload's
own design percentile under the utilisation ceiling (:mod:`planner.sizing.workloads`);
the hardware must hold (a) the time-aligned aggregate design load under the ceiling and
(b) every scenario's pod set, pod by pod, after losing any r servers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.inputs.spec import Spec
from planner.sizing.envelope import NORMAL, scenarios_for
from planner.sizing.scheduler import QueuedPod
from planner.sizing.workloads import WorkloadSizing

#: Scheduling priority value of each class (Kubernetes PriorityClass ``value``): the
#: critical databases above the critical applications, then degradable, then deferrable
#: work, which a failover evicts first.
PRIORITIES = {
    "database": 2_000_000,
    "critical": 1_000_000,
    "degradable": 100_000,
    "deferrable": 1_000,
}


@dataclass(frozen=True)
class PodGroup:
    """``replicas`` identical pods of one workload with their requests and placement cap."""

    workload: str
    replicas: int
    cpu_cores: float
    memory_gib: float
    max_per_server: int
    anti_affinity: bool
    priority: int = PRIORITIES["critical"]


def max_per_server(sizing: WorkloadSizing, spec: Spec) -> int:
    """At most this many pods of the workload on one server (see the module docstring)."""
    if sizing.anti_affinity:
        return 1
    share = spec.max_pod_share_per_server * sizing.replicas_max
    return max(1, math.ceil(share - 1e-9))


def pod_set(
    sizings: tuple[WorkloadSizing, ...], spec: Spec, site: str, scenario: str
) -> tuple[PodGroup, ...]:
    """The pods ``site`` runs in ``scenario``, in workload order (empty groups left out)."""
    groups = []
    for z in sizings:
        if z.site != site:
            continue
        replicas = z.replicas_normal if scenario == NORMAL else z.replicas_failover
        if replicas <= 0:
            continue
        groups.append(
            PodGroup(
                workload=z.workload,
                replicas=replicas,
                cpu_cores=z.cpu_request_cores,
                memory_gib=z.memory_request_gib,
                max_per_server=max_per_server(z, spec),
                anti_affinity=z.anti_affinity,
                priority=PRIORITIES[z.priority_tier],
            )
        )
    return tuple(groups)


def site_pod_sets(
    sizings: tuple[WorkloadSizing, ...], spec: Spec, site: str
) -> dict[str, tuple[PodGroup, ...]]:
    """Every scenario's pod set of ``site``."""
    return {
        scenario: pod_set(sizings, spec, site, scenario) for scenario in scenarios_for(spec, site)
    }


def queued_pods(groups: tuple[PodGroup, ...]) -> list[QueuedPod]:
    """The pods of ``groups`` one by one, as the scheduler's queue holds them: the spread
    rule's maxSkew is the group's cap (anti-affinity pods have their own filter)."""
    return [
        QueuedPod(
            workload=g.workload,
            priority=g.priority,
            cpu_cores=g.cpu_cores,
            memory_gib=g.memory_gib,
            anti_affinity=g.anti_affinity,
            max_skew=g.max_per_server,
        )
        for g in groups
        for _ in range(g.replicas)
    ]


def requests(groups: tuple[PodGroup, ...]) -> tuple[float, float]:
    """Total CPU [cores] and memory [GiB] requested by a pod set."""
    cpu = sum(g.replicas * g.cpu_cores for g in groups)
    memory = sum(g.replicas * g.memory_gib for g in groups)
    return cpu, memory
