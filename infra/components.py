"""ComponentResources: a clinical site, a clinical workload in a site, the quorum witness.

Each component has a type token, parents its children with ``ResourceOptions(parent=self)``,
names them after itself, sends every Kubernetes object through its site's own provider,
and calls ``register_outputs`` last. The Kubernetes specs come from :mod:`infra.specs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra import specs
from infra.settings import SiteSettings, StackSettings
from infra.specs import as_kwargs
from planner.outputs.plan import PlannedWorkload


def stateful() -> pulumi.ResourceOptions:
    """A StatefulSet's options: durable, and its volume template (immutable in Kubernetes)
    ignored after creation, so a plan that resizes volumes never replaces the StatefulSet;
    the claims are expanded in place (the preview says which)."""
    return pulumi.ResourceOptions.merge(
        durable(), pulumi.ResourceOptions(ignore_changes=["spec.volumeClaimTemplates"])
    )


def durable() -> pulumi.ResourceOptions:
    """Options of the objects that hold patient data or everything else (namespaces,
    StatefulSets): `pulumi destroy` or a replacement refuses to delete them while protected,
    and when a program stops declaring them they stay in the cluster."""
    return pulumi.ResourceOptions(protect=True, retain_on_delete=True)


@dataclass(frozen=True)
class ClinicalSiteArgs:
    settings: StackSettings
    site: SiteSettings
    other_site: SiteSettings
    workloads: tuple[PlannedWorkload, ...]
    cpu_target_percent: int
    kubeconfig: pulumi.Input[str] | None = None
    quorum: dict[str, dict[str, Any]] = field(default_factory=dict)


class ClinicalSite(pulumi.ComponentResource):
    """One datacentre: provider, namespace, priorities, quota, default deny, storage, and
    every clinical workload sized from the plan."""

    provider: k8s.Provider
    endpoints: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: ClinicalSiteArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hospital:platform:ClinicalSite", name, None, opts)
        site, settings = args.site.name, args.settings
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=args.kubeconfig,
            context=args.site.context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            **as_kwargs(specs.namespace(settings, site, args.workloads)),
            opts=pulumi.ResourceOptions.merge(child, durable()),
        )
        in_ns = pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[ns])
        for pc in specs.priority_classes(settings, site):
            k8s.scheduling.v1.PriorityClass(
                f"{name}-{pc['metadata']['name']}", **as_kwargs(pc), opts=child
            )
        k8s.storage.v1.StorageClass(
            f"{name}-storage-class", **as_kwargs(specs.storage_class(settings, site)), opts=child
        )
        for quota in specs.resource_quotas(settings, site, args.workloads):
            k8s.core.v1.ResourceQuota(
                f"{name}-{quota['metadata']['name']}", **as_kwargs(quota), opts=in_ns
            )
        for policy in specs.default_deny(settings, site):
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy['metadata']['name']}", **as_kwargs(policy), opts=in_ns
            )
        endpoints: dict[str, str] = {}
        for workload in args.workloads:
            component = ClinicalWorkload(
                f"{name}-{workload.name}",
                ClinicalWorkloadArgs(
                    settings=settings,
                    site=site,
                    workload=workload,
                    other_site_cidr=args.other_site.cidr,
                    witness_cidr=settings.witness.cidr if settings.witness else None,
                    cpu_target_percent=args.cpu_target_percent,
                    quorum=args.quorum.get(workload.name),
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[ns]),
            )
            endpoints[workload.name] = component.endpoint
        self.endpoints = pulumi.Output.from_input(endpoints)
        self.register_outputs({"endpoints": self.endpoints})


@dataclass(frozen=True)
class ClinicalWorkloadArgs:
    settings: StackSettings
    site: str
    workload: PlannedWorkload
    other_site_cidr: str
    witness_cidr: str | None
    cpu_target_percent: int
    quorum: dict[str, Any] | None = None


class ClinicalWorkload(pulumi.ComponentResource):
    """One workload in one site: Deployment or StatefulSet, Services, PDB, HPA, policy."""

    endpoint: str

    def __init__(
        self, name: str, args: ClinicalWorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hospital:platform:ClinicalWorkload", name, None, opts)
        settings, site, workload = args.settings, args.site, args.workload
        child = pulumi.ResourceOptions(parent=self)  # the provider is inherited from the parent
        clustered = specs.priority_of(workload) == "database"
        kind, body = specs.workload_object(settings, site, workload, clustered=clustered)
        if clustered:
            k8s.core.v1.ConfigMap(
                f"{name}-cluster-config",
                **as_kwargs(specs.database_cluster_config(settings, site, workload, args.quorum)),
                opts=child,
            )
            if not settings.shared_cluster:
                k8s.core.v1.Service(
                    f"{name}-replication-service",
                    **as_kwargs(specs.replication_service(settings, site, workload)),
                    opts=child,
                )
        resource: Any
        if kind == "Deployment":
            resource = k8s.apps.v1.Deployment(f"{name}-deployment", **as_kwargs(body), opts=child)
        else:
            resource = k8s.apps.v1.StatefulSet(
                f"{name}-statefulset",
                **as_kwargs(body),
                opts=pulumi.ResourceOptions.merge(child, stateful()),
            )
        for service in specs.services(settings, site, workload):
            k8s.core.v1.Service(
                f"{name}-{service['metadata']['name']}-service", **as_kwargs(service), opts=child
            )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            **as_kwargs(specs.disruption_budget(settings, site, workload)),
            opts=child,
        )
        if specs.autoscaled(workload):
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                **as_kwargs(
                    specs.autoscaler(settings, site, workload, kind, args.cpu_target_percent)
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[resource]),
            )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            **as_kwargs(
                specs.network_policy(
                    settings,
                    site,
                    workload,
                    args.other_site_cidr,
                    args.witness_cidr,
                    int((args.quorum or {}).get("witness_votes", 1)),
                )
            ),
            opts=child,
        )
        namespace = settings.namespace_for(site)
        port = settings.port(workload.name)
        self.endpoint = f"{workload.name}.{namespace}.svc.cluster.local:{port}"
        self.register_outputs({"endpoint": self.endpoint, "kind": kind})


@dataclass(frozen=True)
class QuorumWitnessArgs:
    settings: StackSettings
    votes: int
    kubeconfig: pulumi.Input[str] | None = None
    database_ports: tuple[int, ...] = ()


class QuorumWitness(pulumi.ComponentResource):
    """The database quorum arbiter at a third location, with a provider of its own."""

    endpoint: str

    def __init__(
        self, name: str, args: QuorumWitnessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hospital:platform:QuorumWitness", name, None, opts)
        settings = args.settings
        assert settings.witness is not None
        provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=args.kubeconfig,
            context=settings.witness.context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        constructors: dict[str, Any] = {
            "Namespace": k8s.core.v1.Namespace,
            "StatefulSet": k8s.apps.v1.StatefulSet,
            "Service": k8s.core.v1.Service,
            "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
            "PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
            "StorageClass": k8s.storage.v1.StorageClass,
        }
        namespace = None
        for kind, body in specs.witness_objects(settings, args.votes, args.database_ports):
            opts = (
                pulumi.ResourceOptions.merge(child, durable())
                if namespace is None
                else pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[namespace])
            )
            if kind == "StatefulSet":  # the votes live on its volumes
                opts = pulumi.ResourceOptions.merge(opts, stateful())
            object_name = body["metadata"]["name"]
            suffix = kind.lower() if object_name == specs.WITNESS else object_name
            created = constructors[kind](f"{name}-{suffix}", **as_kwargs(body), opts=opts)
            if kind == "Namespace":
                namespace = created
        self.endpoint = specs.witness_address(settings, args.votes)
        self.register_outputs({"endpoint": self.endpoint})
