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
#: ``deploy`` value meaning every location of the environment.
ALL = "*"
#: The keys a site stack sets itself; everything else comes from its environment's file.
SITE_STACK_KEYS = ("environment", "deploy")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A stack config value is missing or malformed (names the key)."""


@dataclass(frozen=True)
class SiteSettings:
    """A site or the witness location: its name, kube context and pod network, and the
    DNS name (and, for the witness, the port) the other locations reach it by."""

    name: str
    context: str
    cidr: str
    address: str = ""
    port: int = 0


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
    deploy: tuple[str, ...] = (ALL,)
    environment: str = ""

    def deploys(self, location: str) -> bool:
        """True when this stack declares ``location`` (a site or the witness)."""
        return ALL in self.deploy or location in self.deploy

    def locations(self) -> tuple[str, ...]:
        """Every location of the environment: the two sites, then the witness."""
        witness = (self.witness.name,) if self.witness is not None else ()
        return (*(s.name for s in self.sites), *witness)

    def namespace_for(self, site: str) -> str:
        return self.namespace.replace("{site}", site)

    def cluster_name(self, base: str, site: str) -> str:
        """Name of a cluster-scoped object: suffixed by site when sites share a cluster."""
        return f"{base}-{site}" if self.shared_cluster else base

    def port(self, workload: str) -> int:
        return self.ports.get(workload, 8080)


def check_site_stack(stack: str, settings: StackSettings) -> None:
    """A site stack (one with an ``environment``) deploys exactly the one location its name
    gives, ``<environment>-<location>``: a stack never reaches a site it does not own, so
    no single `pulumi up` touches both sites."""
    if not settings.environment:
        return
    owned = [loc for loc in settings.locations() if stack == f"{settings.environment}-{loc}"]
    if not owned:
        raise SettingsError(
            f"{PROJECT}:environment: stack {stack} names no location of environment "
            f"{settings.environment}: a site stack is named <environment>-<location> "
            f"(one of {', '.join(f'{settings.environment}-{x}' for x in settings.locations())})"
        )
    if list(settings.deploy) != owned:
        raise SettingsError(
            f"{PROJECT}:deploy: stack {stack} deploys {', '.join(settings.deploy) or 'nothing'}; "
            f"it owns {owned[0]} alone (one site per `pulumi up`)"
        )


def settings_from_stack_config(
    values: Mapping[str, Any], root: Path | None = None
) -> StackSettings:
    """Settings from a stack file's config, whose keys carry the project prefix; paths are
    relative to the project folder ``root`` (default: this checkout)."""
    prefix = f"{PROJECT}:"
    return settings_from_mapping(
        {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}, root
    )


def environment_file(environment: str, root: Path | None = None) -> Path:
    return (root or PROJECT_ROOT) / "stacks" / f"Pulumi.{environment}.yaml"


def with_environment(values: Mapping[str, Any], root: Path | None = None) -> dict[str, Any]:
    """A site stack's config (keys without the project prefix): its environment's values
    (``stacks/Pulumi.<environment>.yaml``, secrets left out) with the site stack's own
    ``environment`` and ``deploy``. Any other key of the site stack is ignored: under a
    real CLI it holds the project default, not a choice. A stack without an environment
    is returned as it is."""
    from planner.inputs.yaml_loader import load_yaml_mapping

    environment = values.get("environment")
    if not environment:
        return dict(values)
    path = environment_file(str(environment), root)
    if not path.is_file():
        raise SettingsError(
            f"{PROJECT}:environment: {path.name}: no such environment stack file in stacks/"
        )
    config = load_yaml_mapping(path).get("config") or {}
    prefix = f"{PROJECT}:"
    base = {
        k[len(prefix) :]: v
        for k, v in config.items()
        if k.startswith(prefix) and not (isinstance(v, dict) and set(v) == {"secure"})
    }
    if base.get("environment"):
        raise SettingsError(f"{path.name}: an environment stack names no environment itself")
    base = {k: v for k, v in base.items() if k not in SITE_STACK_KEYS and k != "kubeconfigs"}
    base.update({k: values[k] for k in SITE_STACK_KEYS if k in values})
    return base


def settings_from_mapping(values: dict[str, Any], root: Path | None = None) -> StackSettings:
    """Build settings from config values keyed without the project prefix; the plan file is
    relative to the project folder ``root`` (default: this checkout)."""

    def need(key: str) -> Any:
        if key not in values or values[key] in (None, "", [], {}):
            raise SettingsError(f"{PROJECT}:{key}: required stack config is missing")
        return values[key]

    def site(doc: Any, key: str) -> SiteSettings:
        if not isinstance(doc, dict) or not {"name", "context", "cidr"} <= set(doc):
            raise SettingsError(f"{PROJECT}:{key}: expected an object with name, context, cidr")
        port = doc.get("port", 0)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise SettingsError(f"{PROJECT}:{key}.port: expected a TCP port number")
        return SiteSettings(
            str(doc["name"]),
            str(doc["context"]),
            str(doc["cidr"]),
            str(doc.get("address") or ""),
            port,
        )

    sites = need("sites")
    if not isinstance(sites, list) or len(sites) != 2:
        raise SettingsError(f"{PROJECT}:sites: expected a list of exactly two sites")
    images = need("images")
    if not isinstance(images, dict):
        raise SettingsError(f"{PROJECT}:images: expected an object of workload -> image")
    connections = values.get("connections") or {}
    shared = bool(values.get("sharedCluster", False))
    located = [site(s, f"sites[{i}]") for i, s in enumerate(sites)]
    witness = site(values["witness"], "witness") if values.get("witness") else None
    if witness is not None and not shared:
        # separate clusters reach each other by names outside the clusters' own DNS
        for key, where in [("witness", witness)] + [
            (f"sites[{i}]", s) for i, s in enumerate(located)
        ]:
            if not where.address:
                raise SettingsError(
                    f"{PROJECT}:{key}.address: required: the DNS name the other locations "
                    "reach it by (cluster-local names do not resolve across clusters)"
                )
    deploy = values.get("deploy", [ALL])
    if not isinstance(deploy, list) or not all(isinstance(d, str) for d in deploy):
        raise SettingsError(f"{PROJECT}:deploy: expected a list of location names")
    known = {s.name for s in located} | ({witness.name} if witness else set()) | {ALL}
    unknown = sorted(set(deploy) - known)
    if unknown:
        raise SettingsError(
            f"{PROJECT}:deploy: {', '.join(unknown)}: not a location of this environment "
            f"(expected some of {', '.join(sorted(known))})"
        )
    return StackSettings(
        deploy=tuple(deploy),
        environment=str(values.get("environment") or ""),
        plan_file=(root or PROJECT_ROOT) / str(need("planFile")),
        kubernetes_version=str(need("kubernetesVersion")),
        namespace=str(values.get("namespace") or "epr"),
        shared_cluster=shared,
        sites=tuple(located),
        witness=witness,
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
    "environment": "string",
    "deploy": "object",
}


def program_root() -> Path:
    """The project folder of the running program: where the engine found Pulumi.yaml, else
    this checkout."""
    import pulumi

    root = pulumi.get_root_directory()
    if root and (Path(root) / "Pulumi.yaml").is_file():
        return Path(root)
    return PROJECT_ROOT


def read_settings() -> StackSettings:
    """Read the stack's config through Pulumi (inside a running program); the environment's
    stack file and the plan are read from the project folder the engine runs."""
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
    root = program_root()
    return settings_from_mapping(with_environment(values, root), root)
