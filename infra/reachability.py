"""NetworkPolicies read as Kubernetes enforces them: which of the platform's flows get
through, and which must not.

The rules, from the NetworkPolicy API (networking.k8s.io/v1):
* a pod is isolated for ingress (egress) once any policy in its namespace selects it with
  ``Ingress`` (``Egress``) in ``policyTypes``; an isolated pod accepts (sends) only what
  some selecting policy's rule allows; policies only add, never subtract;
* a rule matches when one of its peers matches (none listed: every source or destination)
  and one of its ports matches (none listed: every port);
* a peer is a ``podSelector`` in the policy's namespace, a ``namespaceSelector`` (every pod
  of the matching namespaces), both (pods matching in matching namespaces), or an
  ``ipBlock`` (a CIDR minus ``except``), which this evaluator applies to traffic from or to
  another cluster only (pod IPs inside a cluster are the pods themselves);
* a flow gets through when the source may send it and the destination may accept it.

Only ``matchLabels`` selectors are understood; a ``matchExpressions`` selector is reported
as unsupported rather than guessed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Pod:
    """A pod of a flow: its cluster (a site, or the witness location), namespace, labels
    and the CIDR its IP comes from; ``cluster == ""`` is a client outside every cluster."""

    cluster: str
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    cidr: str = ""

    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        if not self.cidr:
            return None
        network = ipaddress.ip_network(self.cidr, strict=False)
        return network.network_address + 1


@dataclass(frozen=True)
class Flow:
    name: str
    source: Pod
    target: Pod
    port: int
    protocol: str = "TCP"
    needed: bool = True


@dataclass
class Cluster:
    policies: list[Obj] = field(default_factory=list)
    namespace_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def labels_of(self, namespace: str) -> dict[str, str]:
        return {
            "kubernetes.io/metadata.name": namespace,
            **self.namespace_labels.get(namespace, {}),
        }


class UnsupportedSelectorError(ValueError):
    """A selector this evaluator does not understand."""


def _matches(selector: Obj | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return False
    if selector.get("matchExpressions"):
        raise UnsupportedSelectorError("matchExpressions selectors are not evaluated")
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _peer_matches(
    peer: Obj, policy_ns: str, other: Pod, same_cluster: bool, cluster: Cluster
) -> bool:
    if "ipBlock" in peer:
        ip = other.ip()
        if same_cluster or ip is None:
            return False
        block = peer["ipBlock"]
        if ip not in ipaddress.ip_network(block["cidr"], strict=False):
            return False
        return not any(
            ip in ipaddress.ip_network(e, strict=False) for e in block.get("except") or []
        )
    if not same_cluster:
        return False
    pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
    if ns_sel is not None:
        ns_ok = _matches(ns_sel, cluster.labels_of(other.namespace))
    else:
        ns_ok = other.namespace == policy_ns
    pod_ok = True if pod_sel is None else _matches(pod_sel, other.labels)
    return ns_ok and pod_ok


def _port_matches(ports: Iterable[Obj] | None, port: int, protocol: str) -> bool:
    listed = list(ports or [])
    if not listed:
        return True
    return any(
        p.get("protocol", "TCP") == protocol
        and (
            p.get("port") is None
            or p.get("port") == port
            or (p.get("endPort") is not None and int(p["port"]) <= port <= int(p["endPort"]))
        )
        for p in listed
    )


def _side(cluster: Cluster, pod: Pod, other: Pod, flow: Flow, direction: str) -> bool:
    """May ``pod`` send (Egress) or accept (Ingress) this flow?"""
    selecting = [
        p
        for p in cluster.policies
        if (p.get("metadata") or {}).get("namespace") == pod.namespace
        and direction in ((p.get("spec") or {}).get("policyTypes") or [])
        and _matches((p.get("spec") or {}).get("podSelector") or {}, pod.labels)
    ]
    if not selecting:
        return True  # not isolated
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    same = pod.cluster == other.cluster
    for policy in selecting:
        ns = policy["metadata"]["namespace"]
        for rule in (policy.get("spec") or {}).get(key) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(_peer_matches(q, ns, other, same, cluster) for q in peers)
            if peer_ok and _port_matches(rule.get("ports"), flow.port, flow.protocol):
                return True
    return False


def allowed(flow: Flow, clusters: Mapping[str, Cluster]) -> bool:
    """Does ``flow`` get through the policies of both ends' clusters?"""
    sends = flow.source.cluster == "" or _side(
        clusters[flow.source.cluster], flow.source, flow.target, flow, "Egress"
    )
    accepts = flow.target.cluster == "" or _side(
        clusters[flow.target.cluster], flow.target, flow.source, flow, "Ingress"
    )
    return sends and accepts


def check_flows(flows: Iterable[Flow], clusters: Mapping[str, Cluster]) -> list[str]:
    """One line per needed flow that is denied and per undeclared flow that is allowed."""
    problems = []
    for flow in flows:
        try:
            ok = allowed(flow, clusters)
        except UnsupportedSelectorError as exc:
            problems.append(f"{flow.name}: cannot be evaluated ({exc})")
            continue
        if flow.needed and not ok:
            problems.append(f"needed flow denied: {flow.name} ({flow.protocol}/{flow.port})")
        if not flow.needed and ok:
            problems.append(f"undeclared flow allowed: {flow.name} ({flow.protocol}/{flow.port})")
    return problems
