"""Policy rules that keep failover real. Importable and testable without the engine.

Each rule is a pulumi-policy ResourceValidationPolicy or StackValidationPolicy whose
``validate`` function reads only the resource inputs (props). The pack in
``infra/policy/__main__.py`` enforces them on `pulumi preview` / `pulumi up`; the offline
render calls the same functions on the rendered resources.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

#: pulumi-policy's report_violation(message, urn=None); typed loosely so rules can omit urn.
Report = Callable[..., None]

LABEL = "hospital-platform"
WORKLOAD_TYPES = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
#: Every kind that carries a pod template: the container rules apply to all of them.
POD_TYPES = (
    *WORKLOAD_TYPES,
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
)
#: Long-running kinds: their containers must keep liveness and readiness probes.
SERVING_TYPES = (*WORKLOAD_TYPES, "kubernetes:apps/v1:DaemonSet")
HPA_TYPE = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB_TYPE = "kubernetes:policy/v1:PodDisruptionBudget"
QUOTA_TYPE = "kubernetes:core/v1:ResourceQuota"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _pod_spec(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod template's spec of any pod-bearing kind (a CronJob's sits one level down)."""
    spec = props.get("spec") or {}
    if "jobTemplate" in spec:
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def _containers(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pod = _pod_spec(props)
    return [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]


def _labels(props: Mapping[str, Any]) -> Mapping[str, str]:
    return (props.get("metadata") or {}).get("labels") or {}


def _name(props: Mapping[str, Any]) -> str:
    return str((props.get("metadata") or {}).get("name", ""))


def _namespace(props: Mapping[str, Any]) -> str:
    return str((props.get("metadata") or {}).get("namespace", ""))


def parse_cpu(quantity: Any) -> float:
    """'44800m' -> 44.8 cores, '2' -> 2.0."""
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


_MEMORY_UNITS = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
}


def parse_memory_gib(quantity: Any) -> float:
    """'396Gi' -> 396.0, '512Mi' -> 0.5 (GiB)."""
    text = str(quantity)
    for unit, factor in sorted(_MEMORY_UNITS.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor / 2**30
    return float(text) / 2**30


# --- resource rules ----------------------------------------------------------------------


def validate_requests(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in POD_TYPES:
        return
    for c in _containers(args.props):
        requests = (c.get("resources") or {}).get("requests") or {}
        missing = [r for r in ("cpu", "memory") if not requests.get(r)]
        if missing:
            report(f"container '{c.get('name')}' has no {' or '.join(missing)} request")


def validate_pinned_images(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in POD_TYPES:
        return
    for c in _containers(args.props):
        if not DIGEST.search(str(c.get("image", ""))):
            report(
                f"container '{c.get('name')}' image '{c.get('image')}' is not pinned by "
                "digest (name@sha256:<64 hex>)"
            )


def validate_security_context(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in POD_TYPES:
        return
    pod = _pod_spec(args.props)
    pod_ctx = pod.get("securityContext") or {}
    if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
        report("pod uses the host's network, PID or IPC namespace")
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            report(f"volume '{volume.get('name')}' mounts a host path")
    for c in _containers(args.props):
        ctx = c.get("securityContext") or {}
        name = c.get("name")
        if not (ctx.get("runAsNonRoot") or pod_ctx.get("runAsNonRoot")):
            report(f"container '{name}' may run as root (runAsNonRoot is not true)")
        if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
            report(f"container '{name}' runs as user 0")
        if ctx.get("privileged"):
            report(f"container '{name}' is privileged")
        if ctx.get("allowPrivilegeEscalation") is not False:
            report(f"container '{name}' allows privilege escalation")
        if ctx.get("readOnlyRootFilesystem") is not True:
            report(f"container '{name}' has a writable root filesystem")
        capabilities = ctx.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            report(f"container '{name}' does not drop all capabilities")
        if capabilities.get("add"):
            report(f"container '{name}' adds capabilities {list(capabilities['add'])}")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                report(f"container '{name}' binds host port {port['hostPort']}")
        seccomp = (ctx.get("seccompProfile") or pod_ctx.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            report(f"container '{name}' has no RuntimeDefault seccomp profile")


def validate_probes(args: ResourceValidationArgs, report: Report) -> None:
    """A serving container without probes keeps receiving traffic when it hangs, and a
    failover never notices; every one keeps its liveness and readiness probes."""
    if args.resource_type not in SERVING_TYPES:
        return
    for c in _pod_spec(args.props).get("containers") or []:
        for probe in ("livenessProbe", "readinessProbe"):
            if not c.get(probe):
                report(f"container '{c.get('name')}' has no {probe}")


STORAGE_CLASS_TYPE = "kubernetes:storage.k8s.io/v1:StorageClass"
#: What a Ceph RBD StorageClass needs to provision at all (Rook's and ceph-csi's docs).
RBD_PARAMETERS = (
    "clusterID",
    "pool",
    "csi.storage.k8s.io/provisioner-secret-name",
    "csi.storage.k8s.io/provisioner-secret-namespace",
    "csi.storage.k8s.io/node-stage-secret-name",
    "csi.storage.k8s.io/node-stage-secret-namespace",
)


def validate_storage_class(args: ResourceValidationArgs, report: Report) -> None:
    """A storage class that cannot provision leaves every claim Pending and `pulumi up`
    waiting for the StatefulSets; one that cannot expand forces replacements to grow."""
    if args.resource_type != STORAGE_CLASS_TYPE:
        return
    props = args.props
    if not props.get("allowVolumeExpansion"):
        report(f"storage class '{_name(props)}' does not allow volume expansion")
    if str(props.get("provisioner", "")).endswith("rbd.csi.ceph.com"):
        parameters = props.get("parameters") or {}
        missing = [p for p in RBD_PARAMETERS if not parameters.get(p)]
        if missing:
            report(
                f"storage class '{_name(props)}' (Ceph RBD) lacks {', '.join(missing)}: "
                "claims would stay Pending"
            )


def validate_site_provider(args: ResourceValidationArgs, report: Report) -> None:
    """Every Kubernetes object goes through a provider, and a site's objects through that
    site's own provider (named '<site>-provider')."""
    if not args.resource_type.startswith("kubernetes:"):
        return
    site = _labels(args.props).get(f"{LABEL}/site")
    if args.provider is None:
        report(
            "no explicit Kubernetes provider: it would land in whatever cluster the "
            "ambient kubeconfig points at"
        )
        return
    if site is not None and args.provider.name != f"{site}-provider":
        report(f"labelled for site '{site}' but sent through provider '{args.provider.name}'")


# --- stack rules -------------------------------------------------------------------------


def _by_type(resources: Iterable[Any], *types: str) -> list[Any]:
    return [r for r in resources if r.resource_type in types]


def _site(resource: Any) -> str | None:
    site = _labels(resource.props).get(f"{LABEL}/site")
    return str(site) if site is not None else None


def validate_critical_in_both_sites(args: StackValidationArgs, report: Report) -> None:
    """Each critical workload runs in every clinical site: the ones its site's namespace
    lists (annotation ``critical-workloads``, from the plan), which a site stack can check
    alone, and, where a stack holds both sites (those with a plan quota), each critical
    workload of one site in the other too."""
    messages: list[str] = []
    present: dict[str, set[str]] = {}
    for w in _by_type(args.resources, *WORKLOAD_TYPES):
        if _labels(w.props).get(f"{LABEL}/criticality") == "critical" and _site(w):
            present.setdefault(_name(w.props), set()).add(str(_site(w)))
    for ns in _by_type(args.resources, NAMESPACE_TYPE):
        listed = ((ns.props.get("metadata") or {}).get("annotations") or {}).get(
            f"{LABEL}/critical-workloads"
        )
        site = _site(ns)
        for name in sorted(filter(None, str(listed or "").split(","))):
            if site is not None and site not in present.get(name, set()):
                messages.append(f"critical workload '{name}' has no replicas in {site}")
    clinical_sites = sorted({s for q in _by_type(args.resources, QUOTA_TYPE) if (s := _site(q))})
    if len(clinical_sites) >= 2:
        for name, sites in sorted(present.items()):
            missing = [s for s in clinical_sites if s not in sites]
            if set(sites) & set(clinical_sites) and missing:
                messages.append(
                    f"critical workload '{name}' has no replicas in {', '.join(missing)}"
                )
    for message in dict.fromkeys(messages):
        report(message)
    hpas = _by_type(args.resources, HPA_TYPE)
    for w in _by_type(args.resources, *WORKLOAD_TYPES):
        if _labels(w.props).get(f"{LABEL}/criticality") != "critical":
            continue
        site, name = _site(w), _name(w.props)
        floor = [
            int((h.props.get("spec") or {}).get("minReplicas", 1))
            for h in hpas
            if _site(h) == site
            and ((h.props.get("spec") or {}).get("scaleTargetRef") or {}).get("name") == name
        ]
        replicas = (w.props.get("spec") or {}).get("replicas")
        running = floor[0] if floor else (1 if replicas is None else int(replicas))
        if running < 1:
            report(f"critical workload '{name}' is declared with 0 replicas in {site}")


def validate_failover_capacity(args: StackValidationArgs, report: Report) -> None:
    """max replicas x request covers the failover load the plan recorded on the workload."""
    hpas = _by_type(args.resources, HPA_TYPE)
    for w in _by_type(args.resources, *WORKLOAD_TYPES):
        notes = (w.props.get("metadata") or {}).get("annotations") or {}
        if f"{LABEL}/failover-cpu-cores" not in notes:
            continue
        site, name = _site(w), _name(w.props)
        hpa = next(
            (
                h
                for h in hpas
                if _site(h) == site
                and _namespace(h.props) == _namespace(w.props)
                and ((h.props.get("spec") or {}).get("scaleTargetRef") or {}).get("name") == name
            ),
            None,
        )
        spec = w.props.get("spec") or {}
        most = int((hpa.props["spec"]["maxReplicas"]) if hpa else spec.get("replicas", 1))
        containers = _containers(w.props)
        cpu = sum(parse_cpu(c["resources"]["requests"]["cpu"]) for c in containers)
        mem = sum(parse_memory_gib(c["resources"]["requests"]["memory"]) for c in containers)
        need_replicas = int(notes.get(f"{LABEL}/failover-replicas", 0))
        need_cpu = float(notes[f"{LABEL}/failover-cpu-cores"])
        need_mem = float(notes.get(f"{LABEL}/failover-memory-gib", 0.0))
        if most < need_replicas:
            report(
                f"{site}/{name}: at most {most} replicas, the failover needs {need_replicas}", w.urn
            )
        if most * cpu < need_cpu - 1e-6:
            report(
                f"{site}/{name}: {most} x {cpu:g} cores < failover load {need_cpu:g} cores", w.urn
            )
        if most * mem < need_mem - 1e-6:
            report(f"{site}/{name}: {most} x {mem:g} GiB < failover load {need_mem:g} GiB", w.urn)


#: The annotation a workload carries when an HorizontalPodAutoscaler owns its replica count.
REPLICAS_OWNER = f"{LABEL}/replicas-owner"


def validate_no_replicas_beside_hpa(args: ResourceValidationArgs, report: Report) -> None:
    """A workload whose replica count an HPA owns (it says so: :data:`REPLICAS_OWNER`)
    declares no spec.replicas: every `pulumi up` would set it back and could scale a
    surviving site down in the middle of a failover. Checked on the declared inputs: the
    live object always has a count (the API server or the HPA sets it)."""
    if args.resource_type not in WORKLOAD_TYPES:
        return
    props = args.props
    owner = ((props.get("metadata") or {}).get("annotations") or {}).get(REPLICAS_OWNER)
    if owner and (props.get("spec") or {}).get("replicas") is not None:
        site = _labels(props).get(f"{LABEL}/site")
        report(f"{site}/{_name(props)} sets spec.replicas beside its HPA")


def validate_hpa_targets_say_so(args: StackValidationArgs, report: Report) -> None:
    """Every workload an HPA scales carries :data:`REPLICAS_OWNER`, so the resource rule
    above knows to refuse a spec.replicas beside it."""
    hpas = _by_type(args.resources, HPA_TYPE)
    for w in _by_type(args.resources, *WORKLOAD_TYPES):
        scaled = any(
            _site(h) == _site(w)
            and _namespace(h.props) == _namespace(w.props)
            and ((h.props.get("spec") or {}).get("scaleTargetRef") or {}).get("name")
            == _name(w.props)
            for h in hpas
        )
        marked = ((w.props.get("metadata") or {}).get("annotations") or {}).get(REPLICAS_OWNER)
        if scaled and not marked:
            report(
                f"{_site(w)}/{_name(w.props)} is scaled by an HPA but lacks the "
                f"{REPLICAS_OWNER} annotation",
                w.urn,
            )


def validate_disruption_budgets(args: StackValidationArgs, report: Report) -> None:
    pdbs = _by_type(args.resources, PDB_TYPE)
    for w in _by_type(args.resources, *WORKLOAD_TYPES):
        pod_labels = ((w.props.get("spec") or {}).get("template") or {}).get("metadata", {})
        pod_labels = pod_labels.get("labels") or {}
        covered = any(
            _site(p) == _site(w)
            and _namespace(p.props) == _namespace(w.props)
            and all(
                pod_labels.get(k) == v
                for k, v in (
                    ((p.props.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
                ).items()
            )
            for p in pdbs
        )
        if not covered:
            report(f"{_site(w)}/{_name(w.props)} has no PodDisruptionBudget", w.urn)


MANDATORY = EnforcementLevel.MANDATORY

Validate = Callable[..., None]

RESOURCE_RULES: dict[str, tuple[str, Validate]] = {
    "requests-set": ("Every container sets CPU and memory requests.", validate_requests),
    "pinned-images": ("Every image is pinned by digest.", validate_pinned_images),
    "restricted-security-context": (
        "Non-root, read-only root filesystem, no privilege escalation, all capabilities "
        "dropped, seccomp RuntimeDefault.",
        validate_security_context,
    ),
    "site-provider": ("Every object goes through its own site's provider.", validate_site_provider),
    "probes": ("Every serving container has liveness and readiness probes.", validate_probes),
    "storage-class-provisions": (
        "Storage classes can provision (Ceph RBD parameters) and expand volumes.",
        validate_storage_class,
    ),
    "no-replicas-beside-hpa": (
        "A workload an HPA scales does not set spec.replicas.",
        validate_no_replicas_beside_hpa,
    ),
}
STACK_RULES: dict[str, tuple[str, Validate]] = {
    "critical-in-both-sites": (
        "Every critical workload has replicas in both sites.",
        validate_critical_in_both_sites,
    ),
    "failover-capacity": (
        "Maximum replicas x requests cover the failover load in the plan.",
        validate_failover_capacity,
    ),
    "disruption-budget": ("Every workload has a PodDisruptionBudget.", validate_disruption_budgets),
    "hpa-targets-say-so": (
        "A workload an HPA scales is annotated as such.",
        validate_hpa_targets_say_so,
    ),
}


def all_policies() -> list[Policy]:
    """The pack's policies (constructing policies is cheap; the PolicyPack is not)."""
    policies: list[Policy] = [
        ResourceValidationPolicy(
            name=name, description=text, validate=fn, enforcement_level=MANDATORY
        )
        for name, (text, fn) in RESOURCE_RULES.items()
    ]
    policies += [
        StackValidationPolicy(name=name, description=text, validate=fn, enforcement_level=MANDATORY)
        for name, (text, fn) in STACK_RULES.items()
    ]
    return policies
