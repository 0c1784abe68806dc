"""The failover drill, rule by rule, and on the committed stacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.drill import (
    DrillNode,
    DrillPod,
    failover_pods,
    quota_rejections,
    run_drill,
    schedule,
)
from planner.outputs.plan import PlannedSite, PlannedWorkload


@dataclass
class Res:
    kind: str
    inputs: dict[str, Any]
    site: str = "a"


def pod(
    workload: str, priority: int = 0, cpu: float = 1.0, mem: float = 1.0, **kw: Any
) -> DrillPod:
    values = {
        "anti_affinity": False,
        "max_skew": None,
        "needed": True,
        "priority_class": f"p{priority}",
    }
    values.update(kw)
    return DrillPod(workload, "ns", priority, cpu=cpu, memory_gib=mem, **values)  # type: ignore[arg-type]


def deployment(name: str, pc: str, replicas: int | None = None) -> Res:
    spec: dict[str, Any] = {
        "template": {
            "spec": {
                "priorityClassName": pc,
                "containers": [{"resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}],
            }
        }
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return Res("Deployment", {"metadata": {"name": name, "namespace": "ns"}, "spec": spec})


def planned(name: str, failover: int) -> PlannedWorkload:
    site = PlannedSite(2, 6, failover, 2.0, 4.0, 0, 0.0, 0.0)
    return PlannedWorkload(name, "critical", "horizontal", False, {"a": site})


def test_hpas_scale_to_the_failover_count_within_their_bounds() -> None:
    resources = [
        Res("PriorityClass", {"metadata": {"name": "low"}, "value": 10}),
        deployment("batch", "low"),
        deployment("web", "low"),
        Res(
            "HorizontalPodAutoscaler",
            {"spec": {"scaleTargetRef": {"name": "batch"}, "minReplicas": 2, "maxReplicas": 4}},
        ),
        Res(
            "HorizontalPodAutoscaler",
            {"spec": {"scaleTargetRef": {"name": "web"}, "minReplicas": 2, "maxReplicas": 4}},
        ),
    ]
    pods = failover_pods(resources, "a", (planned("batch", 0), planned("web", 9)))
    batch = [p for p in pods if p.workload == "batch"]
    web = [p for p in pods if p.workload == "web"]
    assert len(batch) == 2  # an HPA never goes below its minimum
    assert not any(p.needed for p in batch)
    assert len(web) == 4  # nor above its maximum
    assert all(p.priority == 10 for p in pods)


def quota(name: str, cpu: str, scope: str | None = None) -> Res:
    spec: dict[str, Any] = {"hard": {"requests.cpu": cpu}}
    if scope:
        spec["scopeSelector"] = {
            "matchExpressions": [
                {"scopeName": "PriorityClass", "operator": "In", "values": [scope]}
            ]
        }
    return Res("ResourceQuota", {"metadata": {"name": name, "namespace": "ns"}, "spec": spec})


def test_quota_admission_counts_the_pods_in_scope() -> None:
    pods = [
        pod("db", 10, cpu=4, priority_class="high"),
        pod("batch", 1, cpu=4, priority_class="low"),
    ]
    shared = quota_rejections([quota("all", "6")], "a", pods)
    assert shared == [
        "ResourceQuota all: requests.cpu 8.0 needed, hard 6.0: the pods over it are refused"
    ]
    scoped = [quota("high", "4", "high"), quota("low", "4", "low")]
    assert quota_rejections(scoped, "a", pods) == []


def test_priority_decides_who_runs_when_space_is_short() -> None:
    nodes = [DrillNode("n-0", 4, 8)]
    pending, placed = schedule(nodes, [pod("batch", 1, cpu=3), pod("db", 10, cpu=3)])
    assert [p.workload for p in placed["n-0"]] == ["db"]
    assert [p.workload for p in pending] == ["batch"]


def test_anti_affinity_and_spread() -> None:
    nodes = [DrillNode(f"n-{i}", 16, 64) for i in range(2)]
    pending, _ = schedule(nodes, [pod("db", anti_affinity=True) for _ in range(3)])
    assert len(pending) == 1  # one replica per server
    pending, placed = schedule(nodes, [pod("web", max_skew=1) for _ in range(4)])
    assert pending == []
    assert sorted(len(v) for v in placed.values()) == [2, 2]
    three = [DrillNode("n-0", 16, 64), DrillNode("n-1", 16, 64), DrillNode("n-2", 1, 1)]
    pending, _ = schedule(three, [pod("web", cpu=2, max_skew=1) for _ in range(5)])
    assert len(pending) == 3  # n-2 stays at 0, so the others may hold only 1 each


def test_the_dev_stack_passes_the_drill() -> None:
    reports = run_drill("dev")
    assert reports
    assert all(r.ok for r in reports), "\n".join(line for r in reports for line in r.lines())


def test_prod_admits_and_places_every_critical_and_database_pod() -> None:
    reports = run_drill("prod")
    assert len(reports) == 4
    for report in reports:
        assert report.quota_rejections == []
        assert not any("clinical-critical" in p or "clinical-database" in p for p in report.pending)
