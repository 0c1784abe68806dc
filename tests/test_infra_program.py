"""The Pulumi program under the SDK's mocks (pulumi.runtime.set_mocks), prod stack.

Every test works on the resources the program registered, recorded synchronously by the
mock monitor, so nothing hides behind an unresolved Output; each test counts what it
checked and asserts the count, so a test that checked nothing fails.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from infra.policy.rules import parse_cpu, parse_memory_gib
from infra.render import SECRET_SIG, Recorded, run_program
from infra.settings import PROJECT_ROOT
from infra.specs import millicores
from planner.outputs.plan import dumps_plan, planned_workloads, read_plan

SITES = ("holstebro", "skejby")
FAKE_KUBECONFIGS = {
    site: f"apiVersion: v1\nkind: Config\nusers:\n- name: x\n  user:\n    token: TOKEN-{site}-7f3a"
    for site in (*SITES, "witness")
}


@cache
def prod() -> tuple[Recorded, ...]:
    return tuple(run_program("prod", secrets={"kubeconfigs": FAKE_KUBECONFIGS}))


def objects(kind: str | None = None) -> list[Recorded]:
    return [r for r in prod() if r.is_kubernetes_object and (kind is None or r.kind == kind)]


def label(r: Recorded, key: str) -> str | None:
    value = ((r.inputs.get("metadata") or {}).get("labels") or {}).get(key)
    return None if value is None else str(value)


def plan() -> dict[str, Any]:
    return read_plan(PROJECT_ROOT / "stacks" / "prod" / "plan.json")


def test_every_object_goes_to_its_own_sites_provider() -> None:
    checked = 0
    providers = {r.name for r in prod() if r.type == "pulumi:providers:kubernetes"}
    assert providers == {"holstebro-provider", "skejby-provider", "witness-provider"}
    for r in objects():
        assert r.provider_name in providers, r.name
        site = label(r, "hospital-platform/site")
        assert site is not None, f"{r.name} carries no site label"
        assert r.provider_name == f"{site}-provider", r.name
        checked += 1
    assert checked == len(objects()) > 100


def test_both_sites_declare_every_critical_workload() -> None:
    critical = {w.name for w in planned_workloads(plan()) if w.criticality == "critical"}
    assert len(critical) >= 5
    for site in SITES:
        declared = {
            r.inputs["metadata"]["name"]
            for r in objects()
            if r.kind in ("Deployment", "StatefulSet") and r.site == site
        }
        assert critical <= declared, (site, critical - declared)


def test_max_replicas_times_request_covers_the_failover_load() -> None:
    checked = 0
    for workload in planned_workloads(plan()):
        for site in SITES:
            planned = workload.sites[site]
            if planned.replicas_failover == 0:
                continue
            body = next(
                r.inputs
                for r in objects()
                if r.kind in ("Deployment", "StatefulSet")
                and r.site == site
                and r.inputs["metadata"]["name"] == workload.name
            )
            container = body["spec"]["template"]["spec"]["containers"][0]
            cpu = parse_cpu(container["resources"]["requests"]["cpu"])
            mem = parse_memory_gib(container["resources"]["requests"]["memory"])
            hpa = [
                r.inputs
                for r in objects("HorizontalPodAutoscaler")
                if r.site == site and r.inputs["spec"]["scaleTargetRef"]["name"] == workload.name
            ]
            most = hpa[0]["spec"]["maxReplicas"] if hpa else body["spec"]["replicas"]
            assert most * cpu >= planned.failover_cpu_cores, (site, workload.name)
            assert most * mem >= planned.failover_memory_gib, (site, workload.name)
            assert most >= planned.replicas_failover
            if hpa:
                assert hpa[0]["spec"]["minReplicas"] == planned.replicas_min
            checked += 1
    assert checked >= 16


@pytest.mark.parametrize("site", SITES)
def test_guardrails_are_present_in_each_site(site: str) -> None:
    def named(kind: str) -> set[str]:
        return {r.inputs["metadata"]["name"] for r in objects(kind) if r.site == site}

    workloads = {w.name for w in planned_workloads(plan())}
    assert named("PodDisruptionBudget") == workloads
    assert named("ResourceQuota") == {
        "plan-database",
        "plan-critical",
        "plan-degradable",
        "plan-deferrable",
        "plan-storage",
    }
    assert named("PriorityClass") == {
        "clinical-database",
        "clinical-critical",
        "clinical-degradable",
        "clinical-deferrable",
    }
    assert {"default-deny", "allow-dns"} | {f"allow-{w}" for w in workloads} == named(
        "NetworkPolicy"
    )
    values = {
        r.inputs["metadata"]["name"]: r.inputs["value"]
        for r in objects("PriorityClass")
        if r.site == site
    }
    assert (
        values["clinical-database"]
        > values["clinical-critical"]
        > values["clinical-degradable"]
        > values["clinical-deferrable"]
    )
    db = next(
        r.inputs
        for r in objects("StatefulSet")
        if r.site == site and r.inputs["metadata"]["name"] == "epr-db"
    )
    assert db["spec"]["template"]["spec"]["priorityClassName"] == "clinical-database"
    for r in objects("Deployment"):
        hpa_managed = any(
            h.site == r.site
            and h.inputs["spec"]["scaleTargetRef"]["name"] == r.inputs["metadata"]["name"]
            for h in objects("HorizontalPodAutoscaler")
        )
        assert not hpa_managed or "replicas" not in r.inputs["spec"], r.name
    deny = next(
        r.inputs
        for r in objects("NetworkPolicy")
        if r.site == site and r.inputs["metadata"]["name"] == "default-deny"
    )
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_no_container_runs_privileged_or_as_root() -> None:
    checked = 0
    for r in objects():
        if r.kind not in ("Deployment", "StatefulSet"):
            continue
        pod = r.inputs["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            ctx = c["securityContext"]
            assert ctx["runAsNonRoot"] is True
            assert ctx["runAsUser"] != 0
            assert ctx["privileged"] is False
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx["readOnlyRootFilesystem"] is True
            assert ctx["capabilities"]["drop"] == ["ALL"]
            assert ctx["seccompProfile"]["type"] == "RuntimeDefault"
            checked += 1
    assert checked == 2 * len(planned_workloads(plan())) + 1  # + the quorum arbiter


def test_no_secret_appears_in_clear_text() -> None:
    wrapped = 0

    def walk(value: Any, where: str) -> None:
        nonlocal wrapped
        if isinstance(value, dict):
            if SECRET_SIG in value:
                wrapped += 1
                return
            for k, v in value.items():
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")
        elif isinstance(value, str):
            for secret in FAKE_KUBECONFIGS.values():
                assert "TOKEN-" not in value, where
                assert secret not in value, where

    for r in prod():
        walk(r.inputs, r.name)
    # each provider's kubeconfig reached it, as a secret
    assert wrapped == 3
    text = json.dumps([r.inputs for r in prod() if r.type == "pulumi:providers:kubernetes"])
    assert text.count("TOKEN-") == 3  # present only inside the secret wrappers


def test_changing_the_plan_changes_the_declaration(tmp_path: Path) -> None:
    doc = plan()
    web = next(w for w in doc["workloads"] if w["name"] == "epr-web")["sites"]["holstebro"]
    web["replicas_max"] = web["replicas_max"] + 7
    web["cpu_request_cores"] = 3.5
    db = next(w for w in doc["workloads"] if w["name"] == "epr-db")["sites"]["skejby"]
    db["storage_gib"] = 123456
    edited = tmp_path / "plan.json"
    edited.write_text(dumps_plan(doc))  # a re-sized plan carries its own digest
    resources = run_program("prod", config={"planFile": str(edited)})

    def find(kind: str, site: str, name: str) -> dict[str, Any]:
        return next(
            r.inputs
            for r in resources
            if r.is_kubernetes_object
            and r.kind == kind
            and r.site == site
            and r.inputs["metadata"]["name"] == name
        )

    hpa = find("HorizontalPodAutoscaler", "holstebro", "epr-web")
    assert hpa["spec"]["maxReplicas"] == web["replicas_max"]
    deployment = find("Deployment", "holstebro", "epr-web")
    assert (
        deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
        == "3500m"
    )
    statefulset = find("StatefulSet", "skejby", "epr-db")
    claim = statefulset["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "123456Gi"
    # the other site is untouched
    other = find("HorizontalPodAutoscaler", "skejby", "epr-web")
    original = next(w for w in plan()["workloads"] if w["name"] == "epr-web")["sites"]["skejby"]
    assert other["spec"]["maxReplicas"] == original["replicas_max"]


def test_the_stack_declares_the_plans_pods_and_placement_rule() -> None:
    """Each site's workload declares the plan's pod set: requests, the replica range of
    its scenarios, and the placement rule the planner verified (hard anti-affinity for
    databases, hostname spread with the plan's maxSkew and DoNotSchedule otherwise)."""
    doc = plan()
    checked = 0
    for site_doc in doc["sites"]:
        site = site_doc["name"]
        groups = {g["workload"]: g for g in site_doc["pods"]["normal"]}
        failover = {
            g["workload"]: g for s, gs in site_doc["pods"].items() if s != "normal" for g in gs
        }
        for name in groups.keys() | failover.keys():
            body = next(
                r.inputs
                for r in objects()
                if r.kind in ("Deployment", "StatefulSet")
                and r.site == site
                and r.inputs["metadata"]["name"] == name
            )
            pod = body["spec"]["template"]["spec"]
            group = groups.get(name) or failover[name]
            requests = pod["containers"][0]["resources"]["requests"]
            # rendered in whole millicores, rounded up
            assert parse_cpu(requests["cpu"]) == millicores(group["cpu_request_cores"]) / 1000
            assert parse_memory_gib(requests["memory"]) == pytest.approx(
                group["memory_request_gib"]
            )
            spread = pod["topologySpreadConstraints"][0]
            assert spread["maxSkew"] == group["max_per_server"]
            assert spread["whenUnsatisfiable"] == "DoNotSchedule"
            anti = (pod.get("affinity") or {}).get("podAntiAffinity")
            assert (anti is not None) == group["rule"].startswith("anti-affinity")
            checked += 1
    assert checked >= 18


def test_stateful_objects_are_protected_and_keep_their_claims(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Namespaces and StatefulSets are created protected and retained on delete; the
    StatefulSets keep their claims when deleted or scaled."""
    import pulumi_kubernetes as k8s

    seen: dict[str, list[Any]] = {"Namespace": [], "StatefulSet": []}
    for kind, cls in (
        ("Namespace", k8s.core.v1.Namespace),
        ("StatefulSet", k8s.apps.v1.StatefulSet),
    ):
        original = cls.__init__

        def record(
            self: Any, name: str, *args: Any, _kind: str = kind, _orig: Any = original, **kw: Any
        ) -> None:
            seen[_kind].append(kw.get("opts"))
            _orig(self, name, *args, **kw)

        monkeypatch.setattr(cls, "__init__", record)
    run_program("prod", secrets={"kubeconfigs": FAKE_KUBECONFIGS})
    site_namespaces = seen["Namespace"][:2]  # the two sites' (the witness follows)
    for opts in [*site_namespaces, *seen["StatefulSet"][:6]]:
        assert opts.protect is True
        assert opts.retain_on_delete is True
    for r in objects("StatefulSet"):
        if r.site in SITES:
            policy = r.inputs["spec"]["persistentVolumeClaimRetentionPolicy"]
            assert policy == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    classes = [r.inputs for r in objects("StorageClass")]
    assert classes
    assert all(c["parameters"]["clusterID"] and c["parameters"]["pool"] for c in classes)
