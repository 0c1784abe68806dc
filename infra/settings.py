"""Stack settings: what `infra/__main__.py` reads from Pulumi config, as plain data.

Everything but the secrets is a frozen dataclass built from a mapping, so the offline
render and the tests build the same settings without the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = "hospital-platform"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A stack config value is missing or malformed (names the key)."""


@dataclass(frozen=True)
class SiteSettings:
    name: str
    context: str
    cidr: str


@dataclass(frozen=True)
class StackSettings:
    """Non-secret stack config. Kubeconfigs are read separately, as secrets."""

    plan_file: Path
    kubernetes_version: str
    namespace: str
    shared_cluster: bool
    sites: tuple[SiteSettings, ...]
    witness: SiteSettings | None
    images: dict[str, str]
    storage_provisioner: str
    connections: dict[str, tuple[str, ...]]
    ingress_workloads: tuple[str, ...]
    ingress_namespace: str
    ports: dict[str, int] = field(default_factory=dict)
    storage_parameters: dict[str, str] = field(default_factory=dict)

    def namespace_for(self, site: str) -> str:
        return self.namespace.replace("{site}", site)

    def cluster_name(self, base: str, site: str) -> str:
        """Name of a cluster-scoped object: suffixed by site when sites share a cluster."""
        return f"{base}-{site}" if self.shared_cluster else base

    def port(self, workload: str) -> int:
        return self.ports.get(workload, 8080)


def settings_from_stack_config(values: Mapping[str, Any]) -> StackSettings:
    """Settings from a stack file's config, whose keys carry the project prefix."""
    prefix = f"{PROJECT}:"
    return settings_from_mapping(
        {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
    )


def settings_from_mapping(values: dict[str, Any]) -> StackSettings:
    """Build settings from config values keyed without the project prefix."""

    def need(key: str) -> Any:
        if key not in values or values[key] in (None, ""):
            raise SettingsError(f"{PROJECT}:{key}: required stack config is missing")
        return values[key]

    def site(doc: Any, key: str) -> SiteSettings:
        if not isinstance(doc, dict) or not {"name", "context", "cidr"} <= set(doc):
            raise SettingsError(f"{PROJECT}:{key}: expected an object with name, context, cidr")
        return SiteSettings(str(doc["name"]), str(doc["context"]), str(doc["cidr"]))

    sites = need("sites")
    if not isinstance(sites, list) or len(sites) != 2:
        raise SettingsError(f"{PROJECT}:sites: expected a list of exactly two sites")
    images = need("images")
    if not isinstance(images, dict):
        raise SettingsError(f"{PROJECT}:images: expected an object of workload -> image")
    connections = values.get("connections") or {}
    return StackSettings(
        plan_file=PROJECT_ROOT / str(need("planFile")),
        kubernetes_version=str(need("kubernetesVersion")),
        namespace=str(values.get("namespace") or "epr"),
        shared_cluster=bool(values.get("sharedCluster", False)),
        sites=tuple(site(s, f"sites[{i}]") for i, s in enumerate(sites)),
        witness=site(values["witness"], "witness") if values.get("witness") else None,
        images={str(k): str(v) for k, v in images.items()},
        storage_provisioner=str(values.get("storageProvisioner") or "rook-ceph.rbd.csi.ceph.com"),
        connections={str(k): tuple(str(x) for x in v) for k, v in connections.items()},
        ingress_workloads=tuple(str(x) for x in values.get("ingressWorkloads") or ()),
        ingress_namespace=str(values.get("ingressNamespace") or "ingress"),
        ports={str(k): int(v) for k, v in (values.get("ports") or {}).items()},
        storage_parameters={
            str(k): str(v) for k, v in (values.get("storageParameters") or {}).items()
        },
    )


#: Config keys and how Pulumi stores them: plain strings, booleans, or JSON objects.
CONFIG_KEYS = {
    "planFile": "string",
    "kubernetesVersion": "string",
    "namespace": "string",
    "sharedCluster": "boolean",
    "sites": "object",
    "witness": "object",
    "images": "object",
    "storageProvisioner": "string",
    "connections": "object",
    "ingressWorkloads": "object",
    "ingressNamespace": "string",
    "ports": "object",
    "storageParameters": "object",
}


def read_settings() -> StackSettings:
    """Read the stack's config through Pulumi (inside a running program)."""
    import pulumi

    config = pulumi.Config(PROJECT)
    values: dict[str, Any] = {}
    for key, kind in CONFIG_KEYS.items():
        raw: Any
        if kind == "string":
            raw = config.get(key)
        elif kind == "boolean":
            raw = config.get_bool(key)
        else:
            raw = config.get_object(key)
        if raw is not None:
            values[key] = raw
    return settings_from_mapping(values)
