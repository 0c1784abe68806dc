"""The platform's data flows, needed and forbidden, checked against the rendered policies.

Needed, per site: every call of the call graph in stack config (`connections`); clients
from the ingress namespace to the ingress workloads; every pod's DNS; stateful workloads
to their own peers in the site (database replication, document-archive peers); each
clustered database to its peers in the other site and to the quorum witness; the
witness's own DNS. (The lookup replica's feed is a call in the graph: the replica
streams from the database it copies.)

Forbidden: every other pair of workloads in a site, the ingress namespace to anything but
the ingress workloads, and the other site to anything but the clustered databases.
"""

from __future__ import annotations

from collections.abc import Iterable

from infra import specs
from infra.reachability import Cluster, Flow, Pod
from infra.settings import StackSettings
from planner.outputs.plan import PlannedWorkload

DNS_POD = {"k8s-app": "kube-dns"}


def platform_flows(settings: StackSettings, workloads: Iterable[PlannedWorkload]) -> list[Flow]:
    workloads = list(workloads)
    flows: list[Flow] = []
    for here, there in zip(settings.sites, settings.sites[::-1], strict=True):
        site, other = here.name, there.name

        def pod(w: PlannedWorkload, at: str = site) -> Pod:
            cidr = next(s.cidr for s in settings.sites if s.name == at)
            return Pod(
                at, settings.namespace_for(at), specs.labels(w.name, at, w.criticality), cidr
            )

        dns = Pod(site, "kube-system", DNS_POD)
        ingress = Pod(site, settings.ingress_namespace, {})
        clustered = {w.name for w in workloads if w.stateful and w.scaling == "vertical"}
        for a in workloads:
            for protocol in ("UDP", "TCP"):
                flows.append(
                    Flow(f"{site}: {a.name} -> DNS", pod(a), dns, specs.DNS_PORT, protocol)
                )
            callees = set(settings.connections.get(a.name, ()))
            for b in workloads:
                port = settings.port(b.name)
                peer = a.name == b.name and a.stateful
                needed = b.name in callees or peer
                flows.append(
                    Flow(f"{site}: {a.name} -> {b.name}", pod(a), pod(b), port, needed=needed)
                )
            flows.append(
                Flow(
                    f"{site}: ingress -> {a.name}",
                    ingress,
                    pod(a),
                    settings.port(a.name),
                    needed=a.name in settings.ingress_workloads,
                )
            )
            flows.append(
                Flow(
                    f"{other} -> {site}: {a.name}",
                    pod(a, other),
                    pod(a),
                    settings.port(a.name),
                    needed=a.name in clustered,
                )
            )
            if a.name in clustered and settings.witness is not None:
                witness = Pod(
                    settings.witness.name,
                    settings.namespace_for(settings.witness.name),
                    specs.labels(specs.WITNESS, settings.witness.name, "critical"),
                    settings.witness.cidr,
                )
                flows.append(
                    Flow(
                        f"{site}: {a.name} -> witness",
                        pod(a),
                        witness,
                        specs.witness_port(settings),
                    )
                )
    if settings.witness is not None:
        name = settings.witness.name
        witness = Pod(
            name,
            settings.namespace_for(name),
            specs.labels(specs.WITNESS, name, "critical"),
            settings.witness.cidr,
        )
        dns = Pod(name, "kube-system", DNS_POD)
        for protocol in ("UDP", "TCP"):
            flows.append(Flow("witness -> DNS", witness, dns, specs.DNS_PORT, protocol))
        port = specs.witness_port(settings)
        flows.append(Flow("witness: voter -> voter", witness, witness, port))
        for where in settings.sites:
            for w in workloads:
                if w.stateful and w.scaling == "vertical":
                    database = Pod(
                        where.name,
                        settings.namespace_for(where.name),
                        specs.labels(w.name, where.name, w.criticality),
                        where.cidr,
                    )
                    flows.append(
                        Flow(
                            f"witness -> {where.name}: {w.name}",
                            witness,
                            database,
                            settings.port(w.name),
                        )
                    )
    return flows


def clusters_of(resources: Iterable[object]) -> dict[str, Cluster]:
    """The rendered NetworkPolicies and namespace labels, per site (each site and the
    witness location is evaluated as a cluster of its own)."""
    out: dict[str, Cluster] = {}
    for r in resources:
        kind, site = getattr(r, "kind", ""), getattr(r, "site", None)
        if site is None or kind not in ("NetworkPolicy", "Namespace"):
            continue
        cluster = out.setdefault(site, Cluster())
        body = getattr(r, "inputs", {})
        if kind == "NetworkPolicy":
            cluster.policies.append(body)
        else:
            meta = body.get("metadata") or {}
            cluster.namespace_labels[str(meta.get("name"))] = dict(meta.get("labels") or {})
    return out
