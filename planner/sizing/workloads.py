"""Per-workload, per-site sizing that the Kubernetes side declares (replicas, requests, PVCs).

Horizontal workloads have a fixed pod size from the spec; the replica count keeps the
workload's own design load under the utilisation ceilings:

    replicas = max(min_replicas, ceil(cpu / (req_cpu x c_cpu)), ceil(mem / (req_mem x c_mem)))

Vertical workloads run ``replicas`` pods per site, sharing the design load, each with

    req_cpu = cpu / (replicas x c_cpu),   req_mem = mem / (replicas x c_mem)

sized for the larger of normal and failover load, because a pod's size does not change
when the other site is lost. With ``redundancy.hot_failover`` (the default) a critical
horizontal workload runs its failover count in normal operation too: the servers are
bought for the failover load anyway, and a survivor then carries the other site's work at
once instead of after the autoscaler and the scheduler catch up.

Stateful pods get a volume for their share of the data the site holds at the horizon's
end, under the fill ceiling:

    pvc_gib = ceil(stored_tib x 1024 / fill / replicas_normal)

``stored_tib`` counts every copy a workload keeps at a site (a three-node database that
keeps three full copies reports three times its data set), so the volumes add up to
what the flash pool is sized for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec, Workload
from planner.sizing.envelope import NORMAL, design_value, scenarios_for, workload_series


@dataclass(frozen=True)
class WorkloadSizing:
    workload: str
    site: str
    criticality: str
    replicas_normal: int
    replicas_failover: int
    cpu_request_cores: float
    memory_request_gib: float
    storage_gib: int
    anti_affinity: bool
    design_cpu_cores: dict[str, float]
    design_memory_gib: dict[str, float]
    stateful: bool = False
    min_replicas: int = 1

    @property
    def replicas_max(self) -> int:
        return max(self.replicas_normal, self.replicas_failover)

    @property
    def replicas_floor(self) -> int:
        """The fewest pods the site ever runs (an HPA's ``minReplicas``): a fixed count for
        vertical workloads; otherwise the fewer of the normal and failover counts, so a
        degraded workload can scale down when the other site is lost, and the spec's
        minimum for work that stops in a failover."""
        if self.anti_affinity:
            return self.replicas_normal
        if self.replicas_failover == 0:
            return min(self.replicas_normal, self.min_replicas)
        return min(self.replicas_normal, self.replicas_failover)

    @property
    def priority_tier(self) -> str:
        """The workload's priority class (:data:`planner.sizing.pods.PRIORITIES`)."""
        return priority_tier(self.criticality, self.anti_affinity, self.stateful)


def priority_tier(criticality: str, vertical: bool, stateful: bool) -> str:
    """A critical database (vertical and stateful) gets the database class, above the
    critical applications, so a rescheduled replica may preempt its way onto the only
    servers it fits; every other workload gets its criticality's class."""
    return "database" if criticality == "critical" and vertical and stateful else criticality


def size_workloads(profile: Profile, spec: Spec) -> tuple[WorkloadSizing, ...]:
    """Sizing of every workload in every site, in spec order (workload, then site)."""
    designs: dict[tuple[str, str, str], list[float]] = {}
    for site in spec.site_names:
        for scenario in scenarios_for(spec, site):
            for metric in ("cpu_cores", "memory_gib", "stored_tib"):
                series = workload_series(profile, spec, site, scenario, metric)
                designs[(site, scenario, metric)] = [
                    design_value(row, spec, metric) for row in series
                ]
    out = []
    for i, workload in enumerate(spec.workloads):
        for site in spec.site_names:
            normal, failover = scenarios_for(spec, site)
            cpu = {s: designs[(site, s, "cpu_cores")][i] for s in (normal, failover)}
            mem = {s: designs[(site, s, "memory_gib")][i] for s in (normal, failover)}
            stored_tib = designs[(site, NORMAL, "stored_tib")][i]
            out.append(_size_one(spec, workload, site, cpu, mem, stored_tib, failover))
    return tuple(out)


def _size_one(
    spec: Spec,
    workload: Workload,
    site: str,
    cpu: dict[str, float],
    mem: dict[str, float],
    stored_tib: float,
    failover: str,
) -> WorkloadSizing:
    if workload.scaling == "vertical":
        assert workload.replicas is not None
        replicas = workload.replicas
        cpu_req = _round_up(max(cpu.values()) / (replicas * spec.cpu_ceiling), 0.1)
        mem_req = _round_up(max(mem.values()) / (replicas * spec.memory_ceiling), 1.0)
        normal_replicas = failover_replicas = replicas
    else:
        assert workload.replica_cpu_cores is not None
        assert workload.replica_memory_gib is not None
        cpu_req, mem_req = workload.replica_cpu_cores, workload.replica_memory_gib

        def count(scenario: str) -> int:
            need = max(
                math.ceil(cpu[scenario] / (cpu_req * spec.cpu_ceiling) - 1e-9),
                math.ceil(mem[scenario] / (mem_req * spec.memory_ceiling) - 1e-9),
            )
            return max(workload.min_replicas, need)

        normal_replicas = count(NORMAL)
        failover_replicas = 0 if workload.failover_fraction == 0 else count(failover)
        if spec.hot_failover and workload.criticality == "critical":
            # hot: the site runs its failover count all the time, so losing the other site
            # waits for neither the autoscaler nor the scheduler
            normal_replicas = max(normal_replicas, failover_replicas)
    storage_gib = 0
    if workload.stateful:
        data_gib = stored_tib * 1024 / spec.fill_ceiling / normal_replicas
        storage_gib = max(1, math.ceil(data_gib - 1e-9))
    return WorkloadSizing(
        workload=workload.name,
        site=site,
        criticality=workload.criticality,
        replicas_normal=normal_replicas,
        replicas_failover=failover_replicas,
        cpu_request_cores=cpu_req,
        memory_request_gib=mem_req,
        storage_gib=storage_gib,
        anti_affinity=workload.scaling == "vertical",
        design_cpu_cores=cpu,
        design_memory_gib=mem,
        stateful=workload.stateful,
        min_replicas=workload.min_replicas,
    )


def _round_up(value: float, quantum: float) -> float:
    return round(math.ceil(value / quantum - 1e-9) * quantum, 6)
