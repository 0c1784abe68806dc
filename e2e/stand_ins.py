"""Stand-ins for what the real platform brings from outside Kubernetes, and the nodes.

Each stand-in is a KWOK ``Stage``: a rule the real KWOK controller applies to real API
objects, so the real controllers and the scheduler see what they would see in production.

- **Storage provisioner** (production: Rook-Ceph's RBD CSI provisioner). A claim of a storage
  class whose provisioner is the stack's (``storageProvisioner``) gets a volume once the
  scheduler has picked its node (``WaitForFirstConsumer``): a PersistentVolume of the claim's
  size, class and the class's reclaim policy, pre-bound to the claim. The controller-manager's
  own PV controller then binds the claim, and the scheduler binds the pod. The volume has no
  node affinity: an RBD image follows its pod to any server of the site.
- **LoadBalancer addresses** (production: MetalLB or the site's load balancer). A Service of
  type LoadBalancer gets its cluster IP as its load-balancer address, so the Pulumi
  provider's await for an address completes as it would with a real allocator.
- **Kubelets** (production: the servers). KWOK marks the nodes Ready, renews their leases,
  runs every pod bound to them and finishes their deletion. A server that dies stops being
  managed (its annotation is removed): its lease runs out and its pods stay Terminating,
  exactly as a powered-off kubelet leaves them.

Not stood in: a CNI. NetworkPolicies are accepted by the API but not enforced, so the
offline model (``planner drill``'s network check) remains the check of the data flows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from e2e.cluster import FAKE_NODE, KUBELET_LABEL

Obj = dict[str, Any]
SITE_LABEL = "hospital-platform/site"
RACK_LABEL = "hospital-platform/rack"
#: Rack units per rack when the plan's servers are laid into racks in order.
RACK_UNITS = 42
#: Pods per node: the kubelet's default maxPods.
MAX_PODS = 110


def provisioner_stage(provisioner: str, reclaim_policy: str = "Retain") -> Obj:
    """The storage provisioner stand-in for ``provisioner``'s claims."""
    pv = (
        "apiVersion: v1\n"
        "kind: PersistentVolume\n"
        "metadata:\n"
        "  name: pvc-{{ .metadata.uid }}\n"
        "  annotations:\n"
        f"    pv.kubernetes.io/provisioned-by: {provisioner}\n"
        "spec:\n"
        "  accessModes:\n"
        "  {{ YAML .spec.accessModes 2 }}\n"
        "  capacity:\n"
        "    storage: {{ .spec.resources.requests.storage | Quote }}\n"
        f"  persistentVolumeReclaimPolicy: {reclaim_policy}\n"
        "  storageClassName: {{ .spec.storageClassName | Quote }}\n"
        '  volumeMode: {{ default "Filesystem" .spec.volumeMode | Quote }}\n'
        "  claimRef:\n"
        "    apiVersion: v1\n"
        "    kind: PersistentVolumeClaim\n"
        "    name: {{ .metadata.name | Quote }}\n"
        "    namespace: {{ .metadata.namespace | Quote }}\n"
        "    uid: {{ .metadata.uid | Quote }}\n"
        "  hostPath:\n"
        "    path: /var/lib/stand-in-volumes/pvc-{{ .metadata.uid }}\n"
        "    type: DirectoryOrCreate\n"
    )
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": "storage-provisioner-stand-in"},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "PersistentVolumeClaim"},
            "selector": {
                "matchExpressions": [
                    {
                        "cel": {
                            "expression": (
                                "has(self.metadata.annotations) && "
                                "'volume.kubernetes.io/selected-node' in "
                                "self.metadata.annotations && "
                                "'volume.kubernetes.io/storage-provisioner' in "
                                "self.metadata.annotations && "
                                "self.metadata.annotations["
                                "'volume.kubernetes.io/storage-provisioner'] == "
                                f"'{provisioner}'"
                            )
                        }
                    },
                    {"cel": {"expression": "!has(self.metadata.deletionTimestamp)"}},
                    {"cel": {"expression": "!has(self.spec.volumeName)"}},
                ]
            },
            "steps": [{"apply": {"template": pv}}],
        },
    }


def load_balancer_stage() -> Obj:
    """The load-balancer address stand-in."""
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": "load-balancer-stand-in"},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "Service"},
            "selector": {
                "matchExpressions": [
                    {"cel": {"expression": "self.spec.type == 'LoadBalancer'"}},
                    {
                        "cel": {
                            "expression": "!has(self.status) || "
                            "!has(self.status.loadBalancer) || "
                            "!has(self.status.loadBalancer.ingress) || "
                            "size(self.status.loadBalancer.ingress) == 0"
                        }
                    },
                ]
            },
            "steps": [
                {
                    "patch": {
                        "subresource": "status",
                        "root": "status",
                        "template": (
                            "loadBalancer:\n  ingress:\n  - ip: {{ .spec.clusterIP | Quote }}\n"
                        ),
                    }
                }
            ],
        },
    }


def node(
    name: str, site: str, rack: str, sku: str, cores: float, memory_gib: float, alloc: Obj
) -> Obj:
    """A KWOK node: the server's capacity and the allocatable the plan assumes."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {FAKE_NODE: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": sku,
                "topology.kubernetes.io/zone": site,
                SITE_LABEL: site,
                RACK_LABEL: rack,
                "type": "kwok",
                KUBELET_LABEL: "kwok",
            },
        },
        "spec": {},
        "status": {
            "capacity": {"cpu": f"{cores:g}", "memory": f"{memory_gib:g}Gi", "pods": str(MAX_PODS)},
            "allocatable": alloc,
        },
    }


def planned_nodes(site: str, site_doc: Mapping[str, Any]) -> list[Obj]:
    """One node per planned server of ``site``, named as the drill names them
    (``<sku>-<i>``), allocatable = the SKU's cores and memory less the reservation the
    plan states for the model,
    laid into racks of :data:`RACK_UNITS` in order."""
    out, used = [], 0
    for server in site_doc["servers"]:
        units = int(server.get("rack_units") or 1)
        for i in range(int(server["count"])):
            rack = f"{site}-rack-{used // RACK_UNITS + 1}"
            used += units
            cpu = max(0.0, float(server["cores"]) - float(server["reserved_cpu_cores"]))
            mem = max(0.0, float(server["memory_gib"]) - float(server["reserved_memory_gib"]))
            alloc = {
                "cpu": f"{round(cpu * 1000)}m",
                "memory": f"{round(mem * 1024)}Mi",
                "pods": str(MAX_PODS),
            }
            out.append(
                node(
                    f"{server['sku']}-{i}",
                    site,
                    rack,
                    str(server["sku"]),
                    float(server["cores"]),
                    float(server["memory_gib"]),
                    alloc,
                )
            )
    return out


def witness_nodes(site: str, votes: int, cores: float = 4, memory_gib: float = 16) -> list[Obj]:
    """The witness location's servers: one per voter (the voters' anti-affinity), each a
    small server; the plan does not size the witness."""
    alloc = {"cpu": f"{cores:g}", "memory": f"{memory_gib:g}Gi", "pods": str(MAX_PODS)}
    return [
        node(f"witness-{i}", site, f"{site}-rack-1", "witness", cores, memory_gib, alloc)
        for i in range(votes)
    ]
