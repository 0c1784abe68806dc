"""Each policy rule accepts a good resource and rejects a bad one (validate called
directly; the PolicyPack itself is never constructed here: its constructor blocks)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from infra import specs
from infra.policy.rules import (
    REPLICAS_OWNER,
    RESOURCE_RULES,
    STACK_RULES,
    all_policies,
    validate_critical_in_both_sites,
    validate_disruption_budgets,
    validate_failover_capacity,
    validate_hpa_targets_say_so,
    validate_no_replicas_beside_hpa,
    validate_pinned_images,
    validate_probes,
    validate_requests,
    validate_security_context,
    validate_site_provider,
    validate_storage_class,
)
from infra.settings import SiteSettings, StackSettings
from planner.outputs.plan import PlannedSite, PlannedWorkload

OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
DEPLOYMENT = "kubernetes:apps/v1:Deployment"

SETTINGS = StackSettings(
    plan_file=__import__("pathlib").Path("plan.json"),
    kubernetes_version="1.33.0",
    namespace="epr",
    shared_cluster=False,
    sites=(SiteSettings("a", "ctx-a", "10.1.0.0/16"), SiteSettings("b", "ctx-b", "10.2.0.0/16")),
    witness=None,
    images={"web": "reg/web@sha256:" + "ab" * 32},
    storage_provisioner="csi",
    connections={},
    ingress_workloads=(),
    ingress_namespace="ingress",
)
PLANNED = PlannedSite(2, 6, 5, 2.0, 4.0, 0, 9.0, 18.0)
WEB = PlannedWorkload("web", "critical", "horizontal", False, {"a": PLANNED, "b": PLANNED})


def provider(site: str) -> PolicyProviderResource:
    return PolicyProviderResource(
        "pulumi:providers:kubernetes", {}, f"urn:{site}", f"{site}-provider"
    )


def resource_args(
    props: dict[str, Any], site: str = "a", kind: str = DEPLOYMENT
) -> ResourceValidationArgs:
    return ResourceValidationArgs(kind, props, "urn:x", "x", OPTS, provider(site))


def violations(validate: Any, args: Any) -> list[str]:
    found: list[str] = []
    validate(args, lambda message, urn=None: found.append(message))
    return found


def good_deployment(site: str = "a") -> dict[str, Any]:
    return specs.workload_object(SETTINGS, site, WEB)[1]


def mutate(path: list[Any], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(good_deployment())
    node: Any = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


CONTAINER = ["spec", "template", "spec", "containers", 0]


@pytest.mark.parametrize(
    ("validate", "bad"),
    [
        (validate_requests, mutate([*CONTAINER, "resources"], {"requests": {"cpu": "1"}})),
        (validate_pinned_images, mutate([*CONTAINER, "image"], "reg/web:latest")),
        (validate_security_context, mutate([*CONTAINER, "securityContext", "privileged"], True)),
        (validate_security_context, mutate([*CONTAINER, "securityContext", "runAsUser"], 0)),
        (
            validate_security_context,
            mutate([*CONTAINER, "securityContext", "readOnlyRootFilesystem"], False),
        ),
        (
            validate_security_context,
            mutate([*CONTAINER, "securityContext", "capabilities"], {"drop": ["NET_RAW"]}),
        ),
        (
            validate_security_context,
            mutate(
                [*CONTAINER, "securityContext", "capabilities"],
                {"drop": ["ALL"], "add": ["SYS_ADMIN"]},
            ),
        ),
        (
            validate_security_context,
            mutate(
                ["spec", "template", "spec", "volumes"], [{"name": "h", "hostPath": {"path": "/"}}]
            ),
        ),
        (
            validate_security_context,
            mutate([*CONTAINER, "ports"], [{"containerPort": 80, "hostPort": 80}]),
        ),
        (validate_security_context, mutate(["spec", "template", "spec", "hostNetwork"], True)),
        (validate_probes, mutate([*CONTAINER, "livenessProbe"], None)),
        (validate_probes, mutate([*CONTAINER, "readinessProbe"], {})),
    ],
    ids=[
        "requests",
        "pinned",
        "privileged",
        "root-user",
        "writable-root",
        "capabilities",
        "sys-admin",
        "host-path",
        "host-port",
        "host-network",
        "no-liveness",
        "no-readiness",
    ],
)
def test_resource_rules_accept_good_and_reject_bad(validate: Any, bad: dict[str, Any]) -> None:
    assert violations(validate, resource_args(good_deployment())) == []
    assert violations(validate, resource_args(bad)) != []


def as_cron_job(deployment: dict[str, Any]) -> dict[str, Any]:
    pod = copy.deepcopy(deployment["spec"]["template"])
    return {
        "metadata": deployment["metadata"],
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": pod}}},
    }


def test_container_rules_cover_every_pod_bearing_kind() -> None:
    """A privileged, root, :latest CronJob or DaemonSet is caught as a Deployment is."""
    bad = mutate([*CONTAINER, "securityContext"], {"privileged": True, "runAsUser": 0})
    bad["spec"]["template"]["spec"]["containers"][0]["image"] = "reg/tool:latest"
    cases = {
        "kubernetes:batch/v1:CronJob": as_cron_job(bad),
        "kubernetes:apps/v1:DaemonSet": bad,
        "kubernetes:batch/v1:Job": {
            "metadata": bad["metadata"],
            "spec": {"template": bad["spec"]["template"]},
        },
    }
    for kind, body in cases.items():
        found = violations(validate_security_context, resource_args(body, kind=kind))
        assert "container 'web' is privileged" in found, kind
        assert "container 'web' runs as user 0" in found, kind
        assert violations(validate_pinned_images, resource_args(body, kind=kind)), kind
    good = as_cron_job(good_deployment())
    cron = resource_args(good, kind="kubernetes:batch/v1:CronJob")
    assert violations(validate_security_context, cron) == []


def test_storage_class_rule() -> None:
    import dataclasses

    rbd = dataclasses.replace(
        SETTINGS,
        storage_provisioner="rook-ceph.rbd.csi.ceph.com",
        storage_parameters={
            "clusterID": "rook-ceph",
            "pool": "p",
            "csi.storage.k8s.io/provisioner-secret-name": "s",
            "csi.storage.k8s.io/provisioner-secret-namespace": "rook-ceph",
            "csi.storage.k8s.io/node-stage-secret-name": "n",
            "csi.storage.k8s.io/node-stage-secret-namespace": "rook-ceph",
        },
    )
    kind = "kubernetes:storage.k8s.io/v1:StorageClass"
    good = specs.storage_class(rbd, "a")
    assert violations(validate_storage_class, resource_args(good, kind=kind)) == []
    bare = specs.storage_class(dataclasses.replace(rbd, storage_parameters={}), "a")
    found = violations(validate_storage_class, resource_args(bare, kind=kind))
    assert len(found) == 1
    assert "lacks clusterID, pool" in found[0]
    fixed = dict(good, allowVolumeExpansion=False)
    assert violations(validate_storage_class, resource_args(fixed, kind=kind)) == [
        "storage class 'local-flash' does not allow volume expansion"
    ]


def test_site_provider_rule() -> None:
    body = good_deployment("a")
    assert violations(validate_site_provider, resource_args(body, site="a")) == []
    wrong = violations(validate_site_provider, resource_args(body, site="b"))
    assert wrong == ["labelled for site 'a' but sent through provider 'b-provider'"]
    none = ResourceValidationArgs(DEPLOYMENT, body, "urn:x", "x", OPTS, None)
    assert violations(validate_site_provider, none)[0].startswith("no explicit Kubernetes")


def stack(*objects: tuple[str, dict[str, Any], str]) -> StackValidationArgs:
    return StackValidationArgs(
        [
            PolicyResource(
                f"kubernetes:{kind}", props, f"urn:{i}", f"r{i}", OPTS, provider(site), None, [], {}
            )
            for i, (kind, props, site) in enumerate(objects)
        ]
    )


def site_objects(
    site: str, *, hpa_max: int | None = None, pdb: bool = True, deployment: bool = True
) -> list[tuple[str, dict[str, Any], str]]:
    out = [
        ("core/v1:ResourceQuota", q, site) for q in specs.resource_quotas(SETTINGS, site, (WEB,))
    ]
    if deployment:
        out.append(("apps/v1:Deployment", good_deployment(site), site))
    hpa = specs.autoscaler(SETTINGS, site, WEB, "Deployment", 70)
    if hpa_max is not None:
        hpa["spec"]["maxReplicas"] = hpa_max
    out.append(("autoscaling/v2:HorizontalPodAutoscaler", hpa, site))
    if pdb:
        out.append(
            ("policy/v1:PodDisruptionBudget", specs.disruption_budget(SETTINGS, site, WEB), site)
        )
    return out


def test_critical_in_both_sites_rule() -> None:
    good = stack(*site_objects("a"), *site_objects("b"))
    assert violations(validate_critical_in_both_sites, good) == []
    bad = stack(*site_objects("a"), *site_objects("b", deployment=False))
    assert violations(validate_critical_in_both_sites, bad) == [
        "critical workload 'web' has no replicas in b"
    ]


def test_a_site_stack_is_checked_against_its_namespace_list() -> None:
    """A site stack holds one site: the namespace's list of critical workloads (from the
    plan) is what the site must run."""
    ns = ("core/v1:Namespace", specs.namespace(SETTINGS, "a", (WEB,)), "a")
    assert violations(validate_critical_in_both_sites, stack(ns, *site_objects("a"))) == []
    bad = stack(ns, *site_objects("a", deployment=False))
    assert violations(validate_critical_in_both_sites, bad) == [
        "critical workload 'web' has no replicas in a"
    ]


def test_failover_capacity_rule() -> None:
    good = stack(*site_objects("a"), *site_objects("b"))
    assert violations(validate_failover_capacity, good) == []
    # 4 x 2 cores < 9 cores of failover load, and 4 < 5 failover replicas
    bad = stack(*site_objects("a", hpa_max=4), *site_objects("b"))
    found = violations(validate_failover_capacity, bad)
    assert "a/web: at most 4 replicas, the failover needs 5" in found
    assert "a/web: 4 x 2 cores < failover load 9 cores" in found


def test_a_critical_workload_with_zero_replicas_is_caught() -> None:
    good = stack(*site_objects("a"), *site_objects("b"))
    assert violations(validate_critical_in_both_sites, good) == []
    objects = site_objects("b")
    for _, body, _ in objects:
        if body.get("spec", {}).get("minReplicas") is not None:
            body["spec"]["minReplicas"] = 0
    bad = stack(*site_objects("a"), *objects)
    assert violations(validate_critical_in_both_sites, bad) == [
        "critical workload 'web' is declared with 0 replicas in b"
    ]


def test_no_replicas_beside_an_hpa_rule() -> None:
    """Checked on what the program declares (a resource rule sees the inputs; the live
    object always has spec.replicas, which a stack rule would see)."""
    body = good_deployment("a")
    assert body["metadata"]["annotations"][REPLICAS_OWNER] == "HorizontalPodAutoscaler"
    assert violations(validate_no_replicas_beside_hpa, resource_args(body)) == []
    body["spec"]["replicas"] = 3
    assert violations(validate_no_replicas_beside_hpa, resource_args(body)) == [
        "a/web sets spec.replicas beside its HPA"
    ]


def test_every_hpa_target_carries_the_replicas_owner_annotation() -> None:
    good = stack(*site_objects("a"), *site_objects("b"))
    assert violations(validate_hpa_targets_say_so, good) == []
    objects = site_objects("a")
    for _, body, _ in objects:
        if "template" in body.get("spec", {}):
            del body["metadata"]["annotations"][REPLICAS_OWNER]
    bad = stack(*objects, *site_objects("b"))
    assert violations(validate_hpa_targets_say_so, bad) == [
        f"a/web is scaled by an HPA but lacks the {REPLICAS_OWNER} annotation"
    ]


def test_disruption_budget_rule() -> None:
    good = stack(*site_objects("a"), *site_objects("b"))
    assert violations(validate_disruption_budgets, good) == []
    bad = stack(*site_objects("a", pdb=False), *site_objects("b"))
    assert violations(validate_disruption_budgets, bad) == ["a/web has no PodDisruptionBudget"]


def test_the_pack_has_every_rule() -> None:
    names = {p.name for p in all_policies()}
    assert names == set(RESOURCE_RULES) | set(STACK_RULES)
    assert len(names) == 11
