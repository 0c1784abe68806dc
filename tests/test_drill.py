"""The failover drill, rule by rule, and on the committed stacks."""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.drill import (
    DrillNode,
    DrillPod,
    failover_pods,
    pod_requests,
    quota_rejections,
    run_drill,
    schedule,
    surge_of,
)
from infra.render import Recorded, run_program
from infra.settings import PROJECT_ROOT
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


def test_the_dev_stack_passes_the_drill_and_states_its_quorum_limits() -> None:
    result = run_drill("dev")
    assert result.cases
    assert result.ok, "\n".join(result.lines())
    # dev: 2 + 2 database replicas and 1 witness voter; the plan says one more loss stops it
    assert len(result.quorum_stated) == 4
    assert all("NO QUORUM" in line for line in result.quorum_stated)


@pytest.fixture(scope="module")
def prod() -> list[Recorded]:
    return run_program("prod")


def test_prod_passes_every_case_with_quorum_kept(prod: list[Recorded]) -> None:
    from planner.outputs.plan import read_plan

    result = run_drill("prod", prod)
    plan = read_plan(Path(__file__).resolve().parents[1] / "stacks/prod/plan.json")
    # one case per direction and server model at the survivor (losing r of that model)
    assert len(result.cases) == sum(len(site["servers"]) for site in plan["sites"])
    assert result.ok, "\n".join(result.lines())
    assert result.quorum_stated == []  # 3 + 3 + 3 votes: every case keeps a majority


def mutate(
    resources: list[Recorded], site: str, kind: str, name: str, change: Any
) -> list[Recorded]:
    """A copy of ``resources`` with ``change`` applied to one object's inputs."""
    out = []
    hit = 0
    for r in resources:
        if r.site == site and r.kind == kind and r.inputs.get("metadata", {}).get("name") == name:
            inputs = copy.deepcopy(r.inputs)
            change(inputs)
            r = dataclasses.replace(r, inputs=inputs)
            hit += 1
        out.append(r)
    assert hit == 1, f"{site} {kind} {name}: {hit} objects"
    return out


def test_a_quota_too_small_fails_the_drill_naming_it(prod: list[Recorded]) -> None:
    def shrink(body: dict[str, Any]) -> None:
        body["spec"]["hard"]["requests.cpu"] = "10"

    result = run_drill("prod", mutate(prod, "skejby", "ResourceQuota", "plan-critical", shrink))
    assert not result.ok
    assert any(
        "ResourceQuota plan-critical: requests.cpu" in line and "hard 10.0" in line
        for line in result.problems()
    )


def test_an_unsatisfiable_spread_fails_the_drill(prod: list[Recorded]) -> None:
    def anti(body: dict[str, Any]) -> None:  # one epr-app pod per server: far too few servers
        body["spec"]["template"]["spec"]["affinity"] = {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "epr-app"}},
                        "topologyKey": "kubernetes.io/hostname",
                    }
                ]
            }
        }

    result = run_drill("prod", mutate(prod, "skejby", "Deployment", "epr-app", anti))
    assert any(
        "pending:" in line and "epr-app (clinical-critical" in line for line in result.problems()
    )


def test_a_denied_flow_fails_the_drill(prod: list[Recorded]) -> None:
    def cut(body: dict[str, Any]) -> None:  # the lookup replica no longer reaches the database
        body["spec"]["egress"] = [
            e for e in body["spec"]["egress"] if "epr-db" not in str(e.get("to"))
        ]

    result = run_drill(
        "prod", mutate(prod, "holstebro", "NetworkPolicy", "allow-lookup-replica", cut)
    )
    assert any(
        line.startswith("network: ") and "lookup-replica" in line and "epr-db" in line
        for line in result.problems()
    )


def test_a_budget_that_blocks_drains_fails_the_drill(prod: list[Recorded]) -> None:
    def tight(body: dict[str, Any]) -> None:
        body["spec"]["maxUnavailable"] = 0

    result = run_drill("prod", mutate(prod, "skejby", "PodDisruptionBudget", "identity", tight))
    assert any(
        "PodDisruptionBudget identity allows no eviction" in line for line in result.problems()
    )


def test_a_witness_too_small_for_the_plan_fails_the_quorum_check(prod: list[Recorded]) -> None:
    def one(body: dict[str, Any]) -> None:
        body["spec"]["replicas"] = 1

    result = run_drill("prod", mutate(prod, "witness", "StatefulSet", "quorum-arbiter", one))
    assert any(
        "epr-db: holstebro lost and one more skejby database node: 3 of 7 votes" in line
        and "the plan says quorum is kept" in line
        for line in result.problems()
    )


def test_replicas_beside_an_hpa_and_a_cold_critical_hpa_fail(prod: list[Recorded]) -> None:
    def replicas(body: dict[str, Any]) -> None:
        body["spec"]["replicas"] = 3

    def cold(body: dict[str, Any]) -> None:
        body["spec"]["minReplicas"] = 2

    result = run_drill("prod", mutate(prod, "holstebro", "Deployment", "epr-web", replicas))
    assert any(
        "holstebro: Deployment epr-web: spec.replicas beside HorizontalPodAutoscaler epr-web" in x
        for x in result.problems()
    )
    result = run_drill(
        "prod", mutate(prod, "holstebro", "HorizontalPodAutoscaler", "epr-web", cold)
    )
    assert any(
        "HorizontalPodAutoscaler epr-web: minReplicas 2 below the failover count" in x
        for x in result.problems()
    )


def test_a_sidecar_counts_in_quota_admission(prod: list[Recorded]) -> None:
    def sidecar(body: dict[str, Any]) -> None:  # 2 cores / 4 GiB more in every epr-app pod
        body["spec"]["template"]["spec"]["containers"].append(
            {"name": "proxy", "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}
        )

    result = run_drill("prod", mutate(prod, "skejby", "Deployment", "epr-app", sidecar))
    assert any(
        "ResourceQuota plan-critical: requests.cpu" in line and "refused" in line
        for line in result.problems()
    )


def test_pod_requests_sum_the_containers_and_respect_init_and_overhead() -> None:
    def c(cpu: str, mem: str) -> dict[str, Any]:
        return {"resources": {"requests": {"cpu": cpu, "memory": mem}}}

    pod_spec = {
        "containers": [c("1", "1Gi"), c("500m", "512Mi")],
        "initContainers": [c("3", "1Gi")],
        "overhead": {"cpu": "100m", "memory": "128Mi"},
    }
    assert pod_requests(pod_spec) == pytest.approx((3.1, 1.625))


def test_the_quota_holds_room_for_every_deployment_to_surge(prod: list[Recorded]) -> None:
    critical = [
        r
        for r in prod
        if r.site == "skejby"
        and r.kind in ("Deployment", "StatefulSet")
        and r.inputs["spec"]["template"]["spec"]["priorityClassName"] == "clinical-critical"
    ]
    assert critical

    def no_room(body: dict[str, Any]) -> None:  # room for the failover set, none to roll
        body["spec"]["hard"]["pods"] = str(int(body["spec"]["hard"]["pods"]) - len(critical))

    assert run_drill("prod", prod).ok
    result = run_drill("prod", mutate(prod, "skejby", "ResourceQuota", "plan-critical", no_room))
    assert any(
        "ResourceQuota plan-critical: pods" in line and "during a rollout of every workload" in line
        for line in result.problems()
    )


def test_surge_counts_and_percentages() -> None:
    assert surge_of({"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}, 84) == 1
    assert surge_of(None, 10) == 3  # Kubernetes' default 25 %, rounded up
    assert surge_of({"type": "Recreate"}, 10) == 0


def test_drilled_on_fewer_servers_than_the_plan_buys_it_fails(prod: list[Recorded]) -> None:
    """A plan drilled on the servers installed today: the preview's 'rack first' check."""
    plan = json.loads((PROJECT_ROOT / "stacks" / "prod" / "plan.json").read_text())
    assert run_drill("prod", prod, hardware=plan).ok
    today = copy.deepcopy(plan)
    for site in today["sites"]:
        for server in site["servers"]:
            server["count"] = max(1, server["count"] - 8)
    result = run_drill("prod", prod, hardware=today)
    assert any("pending:" in line for line in result.problems())


def test_servers_added_lists_what_must_be_racked() -> None:
    from planner.jobs.preview import servers_added

    old = {"sites": [{"name": "a", "servers": [{"sku": "s", "count": 4}]}]}
    new = {
        "sites": [{"name": "a", "servers": [{"sku": "s", "count": 7}, {"sku": "t", "count": 1}]}]
    }
    assert servers_added(old, new) == ["a: +3 s", "a: +1 t"]
    assert servers_added(new, old) == []


def test_a_site_stack_is_drilled_as_its_environment() -> None:
    result = run_drill("prod-holstebro")
    assert [c.site_lost for c in result.cases] == [c.site_lost for c in run_drill("prod").cases]
    assert result.ok, "\n".join(result.lines())
