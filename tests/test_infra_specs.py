"""Pure spec builders: quantities, quota arithmetic, network allows, kwargs."""

from __future__ import annotations

import dataclasses

from infra import specs
from infra.settings import SiteSettings
from tests.test_policy import PLANNED, SETTINGS, WEB


def test_quantities() -> None:
    assert specs.cpu_quantity(44.8) == "44800m"
    assert specs.cpu_quantity(0.1) == "100m"
    assert specs.cpu_quantity(0.0001) == "1m"
    assert specs.memory_quantity(396.0) == "396Gi"
    assert specs.memory_quantity(0.25) == "256Mi"


def test_quotas_are_per_priority_class_at_the_most_replicas() -> None:
    """web (critical) at its most 6 replicas plus one to roll, x 2 cores / 4 GiB; storage
    apart, unscoped."""
    quotas = {q["metadata"]["name"]: q for q in specs.resource_quotas(SETTINGS, "a", (WEB,))}
    assert sorted(quotas) == ["plan-critical", "plan-storage"]
    critical = quotas["plan-critical"]["spec"]
    assert critical["hard"]["requests.cpu"] == "14000m"
    assert critical["hard"]["requests.memory"] == "28Gi"
    assert critical["hard"]["pods"] == "7"
    scope = critical["scopeSelector"]["matchExpressions"][0]
    assert scope == {
        "scopeName": "PriorityClass",
        "operator": "In",
        "values": ["clinical-critical"],
    }
    assert "scopeSelector" not in quotas["plan-storage"]["spec"]


def test_network_policy_follows_the_call_graph() -> None:
    settings = dataclasses.replace(
        SETTINGS, connections={"web": ("db",), "portal": ("web",)}, ingress_workloads=("web",)
    )
    body = specs.network_policy(settings, "a", WEB, "10.2.0.0/16", None)
    callers = body["spec"]["ingress"][0]["from"]
    assert callers == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "portal"}}}]
    ingress_ns = body["spec"]["ingress"][1]["from"][0]["namespaceSelector"]["matchLabels"]
    assert ingress_ns == {"kubernetes.io/metadata.name": "ingress"}
    assert body["spec"]["egress"][0]["to"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "db"}}}
    ]


def test_vertical_stateful_workloads_get_anti_affinity_and_volumes() -> None:
    db = dataclasses.replace(
        WEB,
        name="db",
        scaling="vertical",
        stateful=True,
        sites={"a": dataclasses.replace(PLANNED, storage_gib=500)},
    )
    settings = dataclasses.replace(
        SETTINGS, images={"db": "reg/db@sha256:" + "cd" * 32}, ports={"db": 5432}
    )
    kind, body = specs.workload_object(settings, "a", db)
    assert kind == "StatefulSet"
    pod = body["spec"]["template"]["spec"]
    assert "podAntiAffinity" in pod["affinity"]
    claim = body["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["resources"]["requests"]["storage"] == "500Gi"
    assert claim["storageClassName"] == "local-flash"
    assert pod["containers"][0]["livenessProbe"]["tcpSocket"] == {"port": 5432}


def test_shared_cluster_names_cluster_scoped_objects_per_site() -> None:
    shared = dataclasses.replace(SETTINGS, shared_cluster=True, namespace="epr-{site}")
    assert specs.storage_class_name(shared, "a") == "local-flash-a"
    assert specs.namespace(shared, "b")["metadata"]["name"] == "epr-b"
    names = {pc["metadata"]["name"] for pc in specs.priority_classes(shared, "a")}
    assert names == {
        "clinical-database-a",
        "clinical-critical-a",
        "clinical-degradable-a",
        "clinical-deferrable-a",
    }


def test_as_kwargs_snake_cases_only_the_top_level() -> None:
    assert specs.as_kwargs({"globalDefault": False, "spec": {"matchLabels": {}}}) == {
        "global_default": False,
        "spec": {"matchLabels": {}},
    }


def test_witness_voters_are_addressable_one_by_one_with_their_own_storage() -> None:
    settings = dataclasses.replace(
        SETTINGS,
        witness=SiteSettings("w", "ctx-w", "10.3.0.0/24", "quorum.example", 5433),
        images={**SETTINGS.images, specs.WITNESS: "reg/q@sha256:" + "cd" * 32},
    )
    objects = specs.witness_objects(settings, 3, (5432,))
    kinds = [kind for kind, _ in objects]
    assert "StorageClass" in kinds
    statefulset = next(body for kind, body in objects if kind == "StatefulSet")
    services = {
        body["metadata"]["name"]: body["spec"] for kind, body in objects if kind == "Service"
    }
    headless = services[statefulset["spec"]["serviceName"]]
    assert headless["clusterIP"] == "None"  # per-voter DNS names
    claim = statefulset["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["storageClassName"] == specs.storage_class_name(settings, "w")
    for i in range(3):  # voter i alone behind port + i
        spec = services[f"{specs.WITNESS}-{i}"]
        assert spec["selector"] == {"statefulset.kubernetes.io/pod-name": f"{specs.WITNESS}-{i}"}
        assert spec["ports"][0]["port"] == 5433 + i
    assert specs.witness_voter_addresses(settings, 3) == [
        "quorum.example:5433",
        "quorum.example:5434",
        "quorum.example:5435",
    ]
    policy = next(body for kind, body in objects if kind == "NetworkPolicy")["spec"]
    voters = {"podSelector": {"matchLabels": specs.selector(specs.WITNESS)}}
    assert any(voters in rule["from"] for rule in policy["ingress"])
    assert any(voters in rule["to"] for rule in policy["egress"])
    assert any(
        {"protocol": "TCP", "port": 5432} in rule.get("ports", []) for rule in policy["egress"]
    )
