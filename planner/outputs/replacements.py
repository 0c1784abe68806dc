"""Which manifest changes a reviewer must see before `pulumi up`: replacements and deletions.

Kubernetes refuses updates to immutable fields, so pulumi-kubernetes replaces the object
(deletes it and creates it again) when one of them changes. For a StatefulSet the API
allows updates only to ``replicas``, ``ordinals``, ``template``, ``updateStrategy``,
``persistentVolumeClaimRetentionPolicy`` and ``minReadySeconds``; a Deployment's and a
DaemonSet's ``selector``, a Job's ``template`` and ``selector``, a Service's ``clusterIP``,
a StorageClass's ``provisioner``, ``parameters``, ``reclaimPolicy`` and
``volumeBindingMode``, and a PersistentVolumeClaim's ``storageClassName``, ``accessModes``
and ``volumeName`` are immutable too. Deleting a namespace, a StatefulSet, a claim or a
storage class loses data or everything in it (the program protects them and retains them
on delete; a StatefulSet's volume template is ignored after creation, so growth expands
the claims instead of replacing the StatefulSet); quotas and disruption budgets decide whether
a failover is admitted and whether a drain can proceed.
"""

from __future__ import annotations

import re

STATEFULSET_MUTABLE = (
    "spec.replicas",
    "spec.ordinals",
    "spec.template",
    "spec.updateStrategy",
    "spec.persistentVolumeClaimRetentionPolicy",
    "spec.minReadySeconds",
)
IMMUTABLE = {
    "deployment": ("spec.selector",),
    "daemonset": ("spec.selector",),
    "job": ("spec.selector", "spec.template"),
    "service": ("spec.clusterIP",),
    "storageclass": ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"),
    "persistentvolumeclaim": ("spec.storageClassName", "spec.accessModes", "spec.volumeName"),
}
#: Immutable StatefulSet fields the program tells Pulumi to ignore (``ignoreChanges``), so
#: a change never replaces the StatefulSet: the claims are expanded in place instead.
STATEFULSET_IGNORED = ("spec.volumeClaimTemplates",)
PROTECTED = ("namespace", "statefulset", "persistentvolumeclaim", "storageclass")
REVIEW = ("resourcequota", "poddisruptionbudget", "networkpolicy", "priorityclass")

_FILE = re.compile(r"^\d+-(?P<kind>[a-z]+)--(?P<namespace>[^/]*)--(?P<name>.+)\.yaml$")


def kind_and_name(manifest_file: str) -> tuple[str, str]:
    """("statefulset", "epr-db") from a render file name such as
    ``04-statefulset--epr--epr-db.yaml``."""
    match = _FILE.match(manifest_file)
    if not match:
        return "", manifest_file
    return match["kind"], match["name"]


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def immutable_paths(kind: str, paths: list[str]) -> list[str]:
    """The changed field paths that force a replacement of an object of ``kind``."""
    if kind == "statefulset":
        return [
            p
            for p in paths
            if _under(p, "spec")
            and not any(_under(p, m) for m in STATEFULSET_MUTABLE + STATEFULSET_IGNORED)
        ]
    return [p for p in paths if any(_under(p, f) for f in IMMUTABLE.get(kind, ()))]


def warnings_for(
    site: str,
    changed: dict[str, list[str]],
    removed: list[str],
) -> list[str]:
    """One line per replacement, protected deletion and guardrail change in ``site``."""
    out = []
    for manifest_file, paths in sorted(changed.items()):
        kind, name = kind_and_name(manifest_file)
        forced = immutable_paths(kind, paths)
        if forced:
            shown = ", ".join(f"`{p}`" for p in forced[:3]) + (
                f" and {len(forced) - 3} more" if len(forced) > 3 else ""
            )
            extra = (
                " (its volumes are kept only if retained: check `retainOnDelete`)"
                if kind == "statefulset"
                else ""
            )
            out.append(
                f"{site}: {kind} `{name}` will be REPLACED (deleted, then created): immutable "
                f"{shown} changed{extra}"
            )
        elif kind == "statefulset" and any(
            _under(p, f) for p in paths for f in STATEFULSET_IGNORED
        ):
            out.append(
                f"{site}: statefulset `{name}`: volume template changed; Pulumi ignores it "
                "(immutable), so nothing is replaced: expand each existing claim "
                f"`data-{name}-<i>` to the new size (`kubectl patch pvc`, the storage class "
                "allows expansion) before the workload needs it"
            )
        elif kind in REVIEW:
            out.append(f"{site}: {kind} `{name}` changed: it decides failover admission or drains")
    for manifest_file in removed:
        kind, name = kind_and_name(manifest_file)
        if kind in PROTECTED:
            out.append(
                f"{site}: {kind} `{name}` will be DELETED from the program: it is protected, "
                "so `pulumi up` stops until someone unprotects it, and retainOnDelete leaves "
                "it in the cluster"
            )
    return out
