"""Pure builders of Kubernetes objects from the plan: no engine, no I/O, testable alone.

Each function returns plain dicts in the Kubernetes API's own shape (camelCase), which
pulumi-kubernetes accepts as resource arguments and the offline render writes as YAML.
"""

from __future__ import annotations

import math
import re
from typing import Any

from infra.policy.rules import REPLICAS_OWNER
from infra.settings import StackSettings
from planner.outputs.plan import PlannedSite, PlannedWorkload
from planner.sizing.pods import PRIORITIES
from planner.sizing.workloads import priority_tier

LABEL = "hospital-platform"
RUN_AS_USER = 10001
DNS_PORT = 53
HTTP_PORT = 8080
NAMESPACE_NAME = "kubernetes.io/metadata.name"
#: Pods a Deployment's rolling update adds before it removes one (``maxSurge``; with
#: ``maxUnavailable`` 0 the capacity never drops during a rollout). The quotas hold this
#: much room for every workload: a `pulumi up` that changes images rolls every Deployment
#: at once, and a StatefulSet's replacement pod is admitted while the quota's recorded usage
#: still counts the pod it replaces (the quota controller recomputes usage after the
#: deletion; seen live as FailedCreate on every StatefulSet rollout without the room).
ROLLOUT_SURGE = 1

Obj = dict[str, Any]


def as_kwargs(obj: Obj) -> Obj:
    """Resource arguments from an object: top-level keys in Python's snake_case, as the
    pulumi-kubernetes constructors take them (nested values keep the API's camelCase)."""
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in obj.items()}


def labels(workload: str, site: str, criticality: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": workload,
        "app.kubernetes.io/part-of": "hospital-platform",
        f"{LABEL}/site": site,
        f"{LABEL}/criticality": criticality,
    }


def selector(workload: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": workload}


def millicores(cores: float) -> int:
    """CPU in whole millicores, rounded up (what a rendered request asks)."""
    return math.ceil(cores * 1000 - 1e-6)


def cpu_quantity(cores: float) -> str:
    """Kubernetes CPU quantity in millicores, rounded up: 44.8 -> '44800m'."""
    return f"{millicores(cores)}m"


def mebibytes(gib: float) -> int:
    """Memory in whole MiB as :func:`memory_quantity` renders it (rounded up)."""
    return round(gib) * 1024 if abs(gib - round(gib)) < 1e-9 else math.ceil(gib * 1024 - 1e-6)


def memory_quantity(gib: float) -> str:
    """Kubernetes memory quantity: whole GiB as 'Gi', otherwise MiB rounded up."""
    if abs(gib - round(gib)) < 1e-9:
        return f"{round(gib)}Gi"
    return f"{math.ceil(gib * 1024 - 1e-6)}Mi"


def namespace(
    settings: StackSettings, site: str, workloads: tuple[PlannedWorkload, ...] = ()
) -> Obj:
    """The site's namespace: restricted pod security, and the plan's critical workloads
    listed, so a policy can check a site stack alone."""
    critical = sorted(w.name for w in workloads if w.criticality == "critical")
    metadata: Obj = {
        "name": settings.namespace_for(site),
        "labels": {
            f"{LABEL}/site": site,
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
        },
    }
    if critical:
        metadata["annotations"] = {f"{LABEL}/critical-workloads": ",".join(critical)}
    return {"metadata": metadata}


def priority_class_name(settings: StackSettings, site: str, criticality: str) -> str:
    return settings.cluster_name(f"clinical-{criticality}", site)


def priority_of(workload: PlannedWorkload) -> str:
    """The priority class of a workload (:func:`planner.sizing.workloads.priority_tier`)."""
    return priority_tier(workload.criticality, workload.scaling == "vertical", workload.stateful)


def priority_classes(settings: StackSettings, site: str) -> list[Obj]:
    """critical > degradable > deferrable: in failover the scheduler evicts deferrable work
    first, then degradable, to make room for critical pods."""
    return [
        {
            "metadata": {
                "name": priority_class_name(settings, site, criticality),
                "labels": {f"{LABEL}/site": site},
            },
            "value": value,
            "globalDefault": False,
            "preemptionPolicy": "PreemptLowerPriority" if criticality != "deferrable" else "Never",
            "description": f"{criticality} clinical work; higher values are evicted last",
        }
        for criticality, value in PRIORITIES.items()
    ]


def storage_class_name(settings: StackSettings, site: str) -> str:
    return settings.cluster_name("local-flash", site)


def storage_class(settings: StackSettings, site: str) -> Obj:
    return {
        "metadata": {"name": storage_class_name(settings, site), "labels": {f"{LABEL}/site": site}},
        "provisioner": settings.storage_provisioner,
        "parameters": dict(settings.storage_parameters),
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }


def resource_quotas(
    settings: StackSettings, site: str, workloads: tuple[PlannedWorkload, ...]
) -> list[Obj]:
    """Quotas a failover can never hit: one per priority class, scoped to it
    (``scopeSelector`` PriorityClass In [class]), holding every workload of the class at
    its most replicas (the HPA maximum) plus the rollout surge of every Deployment
    (:data:`ROLLOUT_SURGE` pods each, all rolling at once, as a `pulumi up` of new images
    does) and of every StatefulSet (its replacement pod is admitted before the quota's
    usage forgets the pod it replaces); and one for storage, every volume at the most
    replicas. Deferrable work filling its own quota can then never keep a critical pod out:
    the scheduler preempts it instead.
    """
    ns = settings.namespace_for(site)
    meta = {"namespace": ns, "labels": {f"{LABEL}/site": site}}
    classes: dict[str, list[PlannedWorkload]] = {}
    for w in workloads:
        classes.setdefault(priority_of(w), []).append(w)
    out = []
    for priority in PRIORITIES:
        members = classes.get(priority)
        if not members:
            continue
        most = {w.name: w.sites[site].replicas_max + _surge(w) for w in members}
        # the sum of the requests as rendered (each rounded up), not the rounded sum
        cpu = sum(most[w.name] * millicores(w.sites[site].cpu_request_cores) for w in members)
        mem = sum(most[w.name] * mebibytes(w.sites[site].memory_request_gib) for w in members)
        pods = sum(most.values())
        out.append(
            {
                "metadata": {"name": f"plan-{priority}", **meta},
                "spec": {
                    "hard": {
                        "requests.cpu": f"{cpu}m",
                        "requests.memory": memory_quantity(math.ceil(mem / 1024)),
                        "limits.cpu": f"{cpu}m",
                        "limits.memory": memory_quantity(math.ceil(mem / 1024)),
                        "pods": str(pods),
                    },
                    "scopeSelector": {
                        "matchExpressions": [
                            {
                                "scopeName": "PriorityClass",
                                "operator": "In",
                                "values": [priority_class_name(settings, site, priority)],
                            }
                        ]
                    },
                },
            }
        )
    storage = sum(w.sites[site].storage_gib * w.sites[site].replicas_max for w in workloads)
    claims = sum(w.sites[site].replicas_max for w in workloads if w.stateful)
    out.append(
        {
            "metadata": {"name": "plan-storage", **meta},
            "spec": {
                "hard": {
                    "requests.storage": memory_quantity(storage),
                    "persistentvolumeclaims": str(claims),
                }
            },
        }
    )
    return out


def _surge(workload: PlannedWorkload) -> int:
    """Quota room a rollout of ``workload`` needs beyond its pods (:data:`ROLLOUT_SURGE`)."""
    return ROLLOUT_SURGE


def default_deny(settings: StackSettings, site: str) -> list[Obj]:
    """Deny all ingress and egress in the namespace, then allow DNS to kube-system."""
    ns = settings.namespace_for(site)
    return [
        {
            "metadata": {
                "name": "default-deny",
                "namespace": ns,
                "labels": {f"{LABEL}/site": site},
            },
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "metadata": {"name": "allow-dns", "namespace": ns, "labels": {f"{LABEL}/site": site}},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                }
                            }
                        ],
                        "ports": [
                            {"protocol": "UDP", "port": DNS_PORT},
                            {"protocol": "TCP", "port": DNS_PORT},
                        ],
                    }
                ],
            },
        },
    ]


def _container(
    settings: StackSettings, workload: PlannedWorkload, planned: PlannedSite, clustered: bool
) -> Obj:
    port = settings.port(workload.name)
    requests = {
        "cpu": cpu_quantity(planned.cpu_request_cores),
        "memory": memory_quantity(planned.memory_request_gib),
    }
    if port == HTTP_PORT:
        live: Obj = {"httpGet": {"path": "/healthz", "port": port}}
        ready: Obj = {"httpGet": {"path": "/ready", "port": port}}
    else:  # a database protocol: check the socket
        live = {"tcpSocket": {"port": port}}
        ready = {"tcpSocket": {"port": port}}
    container: Obj = {
        "name": workload.name,
        "image": settings.images[workload.name],
        "ports": [{"name": "service", "containerPort": port, "protocol": "TCP"}],
        "resources": {"requests": requests, "limits": dict(requests)},
        "livenessProbe": {
            **live,
            "periodSeconds": 10,
            "initialDelaySeconds": 30,
            "failureThreshold": 3,
        },
        "readinessProbe": {**ready, "periodSeconds": 5, "failureThreshold": 2},
        "securityContext": restricted_container_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    if workload.stateful:
        container["volumeMounts"].append({"name": "data", "mountPath": "/data"})
    if clustered:
        container["envFrom"] = [{"configMapRef": {"name": f"{workload.name}-cluster"}}]
    return container


def restricted_pod_context() -> Obj:
    """The pod-level half of the 'restricted' Pod Security Standard."""
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "runAsGroup": RUN_AS_USER,
        "fsGroup": RUN_AS_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def one_per_server(workload: str) -> Obj:
    """Required pod anti-affinity on the hostname: at most one pod of ``workload`` per server."""
    return {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchLabels": selector(workload)},
                    "topologyKey": "kubernetes.io/hostname",
                }
            ]
        }
    }


def restricted_container_context() -> Obj:
    """The Pod Security Standard 'restricted' profile, for each container."""
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def workload_object(
    settings: StackSettings, site: str, workload: PlannedWorkload, *, clustered: bool = False
) -> tuple[str, Obj]:
    """("Deployment" | "StatefulSet", object) for one workload in one site; a clustered
    database reads its membership from its ConfigMap (:func:`database_cluster_config`)."""
    planned = workload.sites[site]
    meta_labels = labels(workload.name, site, workload.criticality)
    vertical = workload.scaling == "vertical"
    # The plan's placement rule: no server holds more than max_per_server pods of the
    # workload (a packing the planner verified after losing any r servers).
    spread: Obj = {
        "maxSkew": planned.max_per_server,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": selector(workload.name)},
    }
    pod_spec: Obj = {
        "priorityClassName": priority_class_name(settings, site, priority_of(workload)),
        "automountServiceAccountToken": False,
        "securityContext": restricted_pod_context(),
        "topologySpreadConstraints": [spread],
        "containers": [_container(settings, workload, planned, clustered)],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
    }
    if vertical:
        pod_spec["affinity"] = one_per_server(workload.name)
    annotations = {
        f"{LABEL}/failover-replicas": str(planned.replicas_failover),
        f"{LABEL}/failover-cpu-cores": f"{planned.failover_cpu_cores:.3f}",
        f"{LABEL}/failover-memory-gib": f"{planned.failover_memory_gib:.3f}",
    }
    spec: Obj = {
        "selector": {"matchLabels": selector(workload.name)},
        "template": {"metadata": {"labels": meta_labels}, "spec": pod_spec},
    }
    if not autoscaled(workload):
        # an HPA owns the replica count of the others: a replicas field beside it would be
        # re-applied by every `pulumi up` and could scale a survivor down mid-failover
        spec["replicas"] = planned.replicas_min
    if autoscaled(workload):
        annotations[REPLICAS_OWNER] = "HorizontalPodAutoscaler"
    metadata = {
        "name": workload.name,
        "namespace": settings.namespace_for(site),
        "labels": meta_labels,
        "annotations": annotations,
    }
    if not workload.stateful:
        spec["strategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": ROLLOUT_SURGE},
        }
        return "Deployment", {"metadata": metadata, "spec": spec}
    spec["serviceName"] = f"{workload.name}-headless"
    # the claims outlive the StatefulSet: deleting or scaling it never deletes patient data
    spec["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Retain", "whenScaled": "Retain"}
    spec["podManagementPolicy"] = "OrderedReady" if vertical else "Parallel"
    spec["volumeClaimTemplates"] = [
        {
            "metadata": {"name": "data", "labels": meta_labels},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": storage_class_name(settings, site),
                "resources": {"requests": {"storage": memory_quantity(planned.storage_gib)}},
            },
        }
    ]
    return "StatefulSet", {"metadata": metadata, "spec": spec}


def services(settings: StackSettings, site: str, workload: PlannedWorkload) -> list[Obj]:
    """A ClusterIP Service; stateful workloads also get the headless one they need."""
    ns = settings.namespace_for(site)
    port = settings.port(workload.name)
    base = {
        "selector": selector(workload.name),
        "ports": [{"name": "service", "port": port, "targetPort": port, "protocol": "TCP"}],
    }
    meta_labels = labels(workload.name, site, workload.criticality)
    out = [
        {
            "metadata": {"name": workload.name, "namespace": ns, "labels": meta_labels},
            "spec": {**base, "type": "ClusterIP"},
        }
    ]
    if workload.stateful:
        out.append(
            {
                "metadata": {
                    "name": f"{workload.name}-headless",
                    "namespace": ns,
                    "labels": meta_labels,
                },
                "spec": {**base, "clusterIP": "None", "publishNotReadyAddresses": True},
            }
        )
    return out


def disruption_budget(settings: StackSettings, site: str, workload: PlannedWorkload) -> Obj:
    """At most one pod of a workload down at a time during voluntary disruption."""
    return {
        "metadata": {
            "name": workload.name,
            "namespace": settings.namespace_for(site),
            "labels": labels(workload.name, site, workload.criticality),
        },
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(workload.name)}},
    }


def autoscaled(workload: PlannedWorkload) -> bool:
    """Horizontal workloads scale with an HPA; vertical ones run a fixed replica count."""
    return workload.scaling == "horizontal"


def autoscaler(
    settings: StackSettings, site: str, workload: PlannedWorkload, kind: str, cpu_target: int
) -> Obj:
    """HPA: min = the site's normal share, max = enough for the failover load."""
    planned = workload.sites[site]
    return {
        "metadata": {
            "name": workload.name,
            "namespace": settings.namespace_for(site),
            "labels": labels(workload.name, site, workload.criticality),
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": workload.name},
            "minReplicas": planned.replicas_min,
            "maxReplicas": max(planned.replicas_max, planned.replicas_min),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": cpu_target},
                    },
                }
            ],
        },
    }


def network_policy(
    settings: StackSettings,
    site: str,
    workload: PlannedWorkload,
    other_site_cidr: str,
    witness_cidr: str | None,
    witness_votes: int = 1,
) -> Obj:
    """Allow what the workload needs: callers in, callees out; database replication to the
    other site, and both ways with every voter of the quorum witness (voter i on the
    witness port + i), for vertical (clustered) stateful tiers."""
    name = workload.name
    callers = sorted(w for w, targets in settings.connections.items() if name in targets)
    callees = sorted(settings.connections.get(name, ()))
    ingress: list[Obj] = []
    if callers:
        ingress.append(
            {
                "from": [{"podSelector": {"matchLabels": selector(c)}} for c in callers],
                "ports": [{"protocol": "TCP", "port": settings.port(name)}],
            }
        )
    if name in settings.ingress_workloads:
        ingress.append(
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {
                                "kubernetes.io/metadata.name": settings.ingress_namespace
                            }
                        }
                    }
                ],
                "ports": [{"protocol": "TCP", "port": settings.port(name)}],
            }
        )
    egress: list[Obj] = [
        {
            "to": [{"podSelector": {"matchLabels": selector(c)}}],
            "ports": [{"protocol": "TCP", "port": settings.port(c)}],
        }
        for c in callees
    ]
    if workload.stateful:
        # the replicas of a stateful workload replicate among themselves in the site
        own = [{"podSelector": {"matchLabels": selector(name)}}]
        ports = [{"protocol": "TCP", "port": settings.port(name)}]
        ingress.append({"from": own, "ports": ports})
        egress.append({"to": own, "ports": ports})
    if workload.stateful and workload.scaling == "vertical":
        port = settings.port(name)
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": other_site_cidr}}],
                "ports": [{"protocol": "TCP", "port": port}],
            }
        )
        if witness_cidr:
            first = witness_port(settings)
            voters: Obj = {"protocol": "TCP", "port": first}
            if witness_votes > 1:
                voters["endPort"] = first + witness_votes - 1
            egress.append({"to": [{"ipBlock": {"cidr": witness_cidr}}], "ports": [voters]})
            ingress.append(
                {
                    "from": [{"ipBlock": {"cidr": witness_cidr}}],
                    "ports": [{"protocol": "TCP", "port": port}],
                }
            )
        ingress.append(
            {
                "from": [{"ipBlock": {"cidr": other_site_cidr}}],
                "ports": [{"protocol": "TCP", "port": settings.port(name)}],
            }
        )
    spec: Obj = {
        "podSelector": {"matchLabels": selector(name)},
        "policyTypes": ["Ingress", "Egress"],
    }
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {
        "metadata": {
            "name": f"allow-{name}",
            "namespace": settings.namespace_for(site),
            "labels": labels(name, site, workload.criticality),
        },
        "spec": spec,
    }


WITNESS = "quorum-arbiter"
WITNESS_PORT = 5432


def witness_port(settings: StackSettings) -> int:
    """The first voter's port; voter i listens on it and is reached at port + i."""
    assert settings.witness is not None
    return settings.witness.port or WITNESS_PORT


def witness_voter_addresses(settings: StackSettings, votes: int) -> list[str]:
    """host:port of each voter, as both sites reach them: one address (the configured name,
    or one shared cluster's per-voter DNS name) and one port per voter."""
    assert settings.witness is not None
    ns = settings.namespace_for(settings.witness.name)
    port = witness_port(settings)
    if settings.witness.address:
        return [f"{settings.witness.address}:{port + i}" for i in range(votes)]
    return [f"{WITNESS}-{i}.{WITNESS}-headless.{ns}.svc.cluster.local:{port}" for i in range(votes)]


def witness_address(settings: StackSettings, votes: int = 1) -> str:
    """The voters' addresses, comma-separated (what the databases' membership lists)."""
    return ",".join(witness_voter_addresses(settings, votes))


def peer_address(settings: StackSettings, site: str, workload: str) -> str:
    """host:port the other site reaches ``site``'s clustered ``workload`` by."""
    where = next(s for s in settings.sites if s.name == site)
    host = where.address or f"{workload}.{settings.namespace_for(site)}.svc.cluster.local"
    return f"{host}:{settings.port(workload)}"


def database_cluster_config(
    settings: StackSettings, site: str, workload: PlannedWorkload, quorum: Obj | None
) -> Obj:
    """The ConfigMap a clustered database reads its membership from: its own replicas
    (stable StatefulSet names), the other site's endpoint, the witness, and the votes a
    majority needs (from the plan's quorum statement)."""
    ns = settings.namespace_for(site)
    own = [
        f"{workload.name}-{i}.{workload.name}-headless.{ns}.svc.cluster.local:"
        f"{settings.port(workload.name)}"
        for i in range(workload.sites[site].replicas_min)
    ]
    other = next(s.name for s in settings.sites if s.name != site)
    data = {
        "CLUSTER_NAME": workload.name,
        "CLUSTER_SITE": site,
        "CLUSTER_LOCAL_MEMBERS": ",".join(own),
        "CLUSTER_PEER_SITE": peer_address(settings, other, workload.name),
        "CLUSTER_WITNESS": (
            witness_address(settings, int((quorum or {}).get("witness_votes", 1)))
            if settings.witness is not None
            else ""
        ),
    }
    if quorum is not None:
        data["CLUSTER_VOTES_TOTAL"] = str(quorum["total"])
        data["CLUSTER_VOTES_NEEDED"] = str(quorum["needed"])
    return {
        "metadata": {
            "name": f"{workload.name}-cluster",
            "namespace": ns,
            "labels": labels(workload.name, site, workload.criticality),
        },
        "data": data,
    }


def replication_service(settings: StackSettings, site: str, workload: PlannedWorkload) -> Obj:
    """The endpoint the other site replicates through (separate clusters only): a
    load-balanced Service keeping the client's source address, so the NetworkPolicy's
    ipBlock on the other site's pod network still applies (routed pod networks, no SNAT)."""
    port = settings.port(workload.name)
    return {
        "metadata": {
            "name": f"{workload.name}-replication",
            "namespace": settings.namespace_for(site),
            "labels": labels(workload.name, site, workload.criticality),
        },
        "spec": {
            "type": "LoadBalancer",
            "externalTrafficPolicy": "Local",
            "selector": selector(workload.name),
            "ports": [{"name": "service", "port": port, "targetPort": port, "protocol": "TCP"}],
        },
    }


def witness_objects(
    settings: StackSettings, votes: int, database_ports: tuple[int, ...] = ()
) -> list[tuple[str, Obj]]:
    """The quorum arbiter at the third location: ``votes`` voters, one per server
    (required anti-affinity), each keeping its vote on a volume of the location's own
    storage class, each addressable on its own: a headless Service gives every voter a DNS
    name (the StatefulSet's ``serviceName``), and per voter a Service selects that one pod
    (a LoadBalancer on port + i when the locations are separate clusters). The policy lets
    both sites reach the voters, the voters reach each other and the databases
    (``database_ports``), and DNS."""
    assert settings.witness is not None
    site = settings.witness.name
    ns = settings.namespace_for(site)
    port = witness_port(settings)
    meta_labels = labels(WITNESS, site, "critical")
    container = {
        "name": WITNESS,
        "image": settings.images[WITNESS],
        "ports": [{"name": "service", "containerPort": port, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": "500m", "memory": "1Gi"},
            "limits": {"cpu": "500m", "memory": "1Gi"},
        },
        "livenessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 10},
        "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 5},
        "securityContext": restricted_container_context(),
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "votes", "mountPath": "/data"},
        ],
    }
    sites_cidrs = [s.cidr for s in settings.sites]
    headless = f"{WITNESS}-headless"
    statefulset = {
        "metadata": {"name": WITNESS, "namespace": ns, "labels": meta_labels},
        "spec": {
            "replicas": votes,
            "serviceName": headless,
            "podManagementPolicy": "Parallel",
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Retain",
                "whenScaled": "Retain",
            },
            "selector": {"matchLabels": selector(WITNESS)},
            "template": {
                "metadata": {"labels": meta_labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": restricted_pod_context(),
                    "affinity": one_per_server(WITNESS),
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "votes", "labels": meta_labels},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": storage_class_name(settings, site),
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        },
    }
    services: list[tuple[str, Obj]] = [
        (
            "Service",
            {
                "metadata": {"name": headless, "namespace": ns, "labels": meta_labels},
                "spec": {
                    "clusterIP": "None",
                    "publishNotReadyAddresses": True,
                    "selector": selector(WITNESS),
                    "ports": [
                        {"name": "service", "port": port, "targetPort": port, "protocol": "TCP"}
                    ],
                },
            },
        )
    ]
    for i in range(votes if not settings.shared_cluster else 0):
        services.append(
            (
                "Service",
                {
                    "metadata": {"name": f"{WITNESS}-{i}", "namespace": ns, "labels": meta_labels},
                    "spec": {
                        "type": "LoadBalancer",
                        "externalTrafficPolicy": "Local",
                        "selector": {"statefulset.kubernetes.io/pod-name": f"{WITNESS}-{i}"},
                        "ports": [
                            {
                                "name": "service",
                                "port": port + i,
                                "targetPort": port,
                                "protocol": "TCP",
                            }
                        ],
                    },
                },
            )
        )
    voters = [{"podSelector": {"matchLabels": selector(WITNESS)}}]
    egress: list[Obj] = [
        {"to": voters, "ports": [{"protocol": "TCP", "port": port}]},
        {
            "to": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: "kube-system"}}}],
            "ports": [
                {"protocol": "UDP", "port": DNS_PORT},
                {"protocol": "TCP", "port": DNS_PORT},
            ],
        },
    ]
    if database_ports:
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": c}} for c in sites_cidrs],
                "ports": [{"protocol": "TCP", "port": p} for p in sorted(set(database_ports))],
            }
        )
    return [
        ("Namespace", namespace(settings, site)),
        ("StorageClass", storage_class(settings, site)),
        ("StatefulSet", statefulset),
        *services,
        (
            "NetworkPolicy",
            {
                "metadata": {"name": f"allow-{WITNESS}", "namespace": ns, "labels": meta_labels},
                "spec": {
                    "podSelector": {"matchLabels": selector(WITNESS)},
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [
                        {
                            "from": [{"ipBlock": {"cidr": c}} for c in sites_cidrs],
                            "ports": [{"protocol": "TCP", "port": port}],
                        },
                        {"from": voters, "ports": [{"protocol": "TCP", "port": port}]},
                    ],
                    "egress": egress,
                },
            },
        ),
        (
            "PodDisruptionBudget",
            {
                "metadata": {"name": WITNESS, "namespace": ns, "labels": meta_labels},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(WITNESS)}},
            },
        ),
    ]
