"""NetworkPolicies evaluated as Kubernetes enforces them, rule by rule, and the platform's
flows over the rendered prod stack."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest

from infra.flows import clusters_of, platform_flows
from infra.reachability import Cluster, Flow, Pod, allowed, check_flows
from infra.render import Recorded, read_stack_config, run_program
from infra.settings import PROJECT_ROOT, settings_from_stack_config
from planner.outputs.plan import planned_workloads, read_plan

WEB = Pod("a", "app", {"name": "web"}, "10.1.0.0/16")
DB = Pod("a", "app", {"name": "db"}, "10.1.0.0/16")
REMOTE = Pod("b", "app", {"name": "db"}, "10.2.0.0/16")


def policy(namespace: str, selector: dict[str, str], **spec: Any) -> dict[str, Any]:
    types = spec.pop("types", ["Ingress"])
    return {
        "metadata": {"name": "p", "namespace": namespace},
        "spec": {"podSelector": {"matchLabels": selector}, "policyTypes": types, **spec},
    }


def flow(source: Pod, target: Pod, port: int = 5432, protocol: str = "TCP") -> Flow:
    return Flow("f", source, target, port, protocol)


def clusters(
    *policies: dict[str, Any], remote: list[dict[str, Any]] | None = None
) -> dict[str, Cluster]:
    return {
        "a": Cluster(list(policies), {"app": {"tier": "clinical"}}),
        "b": Cluster(remote or [], {}),
    }


def test_a_pod_no_policy_selects_accepts_everything() -> None:
    assert allowed(flow(WEB, DB), clusters())


def test_a_selected_pod_accepts_only_what_a_rule_allows() -> None:
    isolated = policy("app", {"name": "db"})
    assert not allowed(flow(WEB, DB), clusters(isolated))
    open_rule = policy("app", {"name": "db"}, ingress=[{}])
    assert allowed(flow(WEB, DB), clusters(open_rule))  # no peers, no ports: everything


def test_pod_selector_peers_are_in_the_policys_namespace() -> None:
    rule = {"from": [{"podSelector": {"matchLabels": {"name": "web"}}}]}
    p = policy("app", {"name": "db"}, ingress=[rule])
    assert allowed(flow(WEB, DB), clusters(p))
    other_ns = Pod("a", "tools", {"name": "web"}, "10.1.0.0/16")
    assert not allowed(flow(other_ns, DB), clusters(p))


def test_namespace_and_pod_selector_in_one_peer_must_both_match() -> None:
    peer = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "tools"}},
        "podSelector": {"matchLabels": {"name": "web"}},
    }
    p = policy("app", {"name": "db"}, ingress=[{"from": [peer]}])
    assert allowed(flow(Pod("a", "tools", {"name": "web"}), DB), clusters(p))
    assert not allowed(flow(Pod("a", "tools", {"name": "cron"}), DB), clusters(p))
    assert not allowed(flow(WEB, DB), clusters(p))  # right pod, wrong namespace
    by_label = policy(
        "app",
        {"name": "db"},
        ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"tier": "clinical"}}}]}],
    )
    assert allowed(flow(WEB, DB), clusters(by_label))  # namespace labels from the Namespace


def test_ports_and_protocols() -> None:
    rule = {"ports": [{"protocol": "TCP", "port": 5432}]}
    p = policy("app", {"name": "db"}, ingress=[rule])
    assert allowed(flow(WEB, DB, 5432), clusters(p))
    assert not allowed(flow(WEB, DB, 22), clusters(p))
    assert not allowed(flow(WEB, DB, 5432, "UDP"), clusters(p))


def test_ip_blocks_apply_across_clusters_with_their_exceptions() -> None:
    p = policy("app", {"name": "db"}, ingress=[{"from": [{"ipBlock": {"cidr": "10.2.0.0/16"}}]}])
    assert allowed(flow(REMOTE, DB), clusters(p))
    assert not allowed(flow(WEB, DB), clusters(p))  # a pod of the same cluster is not an IP peer
    carved = policy(
        "app",
        {"name": "db"},
        ingress=[{"from": [{"ipBlock": {"cidr": "10.2.0.0/16", "except": ["10.2.0.0/24"]}}]}],
    )
    assert not allowed(flow(REMOTE, DB), clusters(carved))


def test_egress_isolation_of_the_source_counts_too() -> None:
    deny_out = policy("app", {"name": "web"}, types=["Egress"])
    assert not allowed(flow(WEB, DB), clusters(deny_out))
    out_to_db = policy(
        "app",
        {"name": "web"},
        types=["Egress"],
        egress=[{"to": [{"podSelector": {"matchLabels": {"name": "db"}}}]}],
    )
    assert allowed(flow(WEB, DB), clusters(out_to_db))
    remote_denies = clusters(remote=[policy("app", {"name": "db"}, types=["Egress"])])
    assert not allowed(flow(REMOTE, DB), remote_denies)


def test_unsupported_selectors_are_reported_not_guessed() -> None:
    p = policy(
        "app",
        {"name": "db"},
        ingress=[
            {"from": [{"podSelector": {"matchExpressions": [{"key": "x", "operator": "Exists"}]}}]}
        ],
    )
    assert check_flows([flow(WEB, DB)], clusters(p)) == [
        "f: cannot be evaluated (matchExpressions selectors are not evaluated)"
    ]


# --- the platform over the rendered prod stack ----------------------------------------------


@cache
def prod() -> tuple[Recorded, ...]:
    return tuple(
        run_program(
            "prod", secrets={"kubeconfigs": {"holstebro": "x", "skejby": "x", "witness": "x"}}
        )
    )


def flows() -> list[Flow]:
    values, _ = read_stack_config("prod", PROJECT_ROOT)
    settings = settings_from_stack_config(values)
    plan = read_plan(settings.plan_file)
    return platform_flows(settings, planned_workloads(plan))


def test_every_needed_flow_is_allowed_and_no_other_in_prod() -> None:
    all_flows = flows()
    assert sum(f.needed for f in all_flows) > 60
    assert sum(not f.needed for f in all_flows) > 150
    assert check_flows(all_flows, clusters_of(prod())) == []


def mutated(kind: str, name: str, site: str, change: Any) -> list[Any]:
    out = []
    for r in prod():
        if r.kind == kind and r.site == site and r.inputs["metadata"]["name"] == name:
            inputs = copy.deepcopy(r.inputs)
            change(inputs)
            r = Recorded(r.type, r.name, r.provider, r.custom, inputs)
        out.append(r)
    return out


@pytest.mark.parametrize(
    ("name", "change", "problem"),
    [
        (
            "allow-epr-db",
            lambda p: p["spec"]["ingress"].pop(),  # the cross-site peers, last rule
            "needed flow denied: skejby -> holstebro: epr-db (TCP/5432)",
        ),
        (
            "allow-lookup-replica",
            lambda p: p["spec"]["egress"].clear(),
            "needed flow denied: holstebro: lookup-replica -> epr-db (TCP/5432)",
        ),
        (
            "allow-epr-db",
            lambda p: p["spec"]["ingress"].append({}),  # wide open
            "undeclared flow allowed: holstebro: ingress -> epr-db (TCP/5432)",
        ),
    ],
    ids=["cross-site replication cut", "lookup feed cut", "database opened to all"],
)
def test_a_broken_policy_is_named(name: str, change: Any, problem: str) -> None:
    found = check_flows(flows(), clusters_of(mutated("NetworkPolicy", name, "holstebro", change)))
    assert problem in found
