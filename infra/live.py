"""The live failover drill: a site lost, played by the real cluster of the survivor.

What the offline drill (:mod:`infra.drill`) models, the survivor's own control plane does
here, and the drill reads only what the cluster says (pod status, events, kubectl's output):

1. **Precondition.** The lost site's API does not answer (its control plane is stopped or
   cut off); the drill refuses to act as if a site that answers were lost.
2. **Failover load.** Every HPA's target is scaled to what the HPA would reach at the
   failover load: the plan's failover count within the HPA's bounds. Then every database,
   critical and degradable pod of the plan's failover set must be Running and Ready.
3. **The r worst servers.** Of the survivor's nodes, the r the plan can least afford to lose
   (the largest, and among them those carrying the most requested CPU) are drained with
   `kubectl drain` (the eviction API, disruption budgets honoured), made out of service
   (`node.kubernetes.io/out-of-service`, the runbook's step for a server that will not come
   back: pods still bound to it, StatefulSet pods above all, are deleted and replaced) and
   deleted. Then the failover set must be Running again.
4. **Rollouts under quota.** Every Deployment and StatefulSet is restarted at once (as a
   `pulumi up` of new images would roll them) and each rollout must complete.
5. **Quorum.** The Ready database replicas of the survivor plus the Ready witness voters
   must hold the majority the plan's quorum statement gives for this case.

Each problem names the cluster's own evidence: the scheduler's reason for a Pending pod
(``FailedScheduling``), the quota that refused a pod (``FailedCreate``), the eviction a
budget refused, the rollout that stalled.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.kube import Kube, KubeError, Obj, ready, wait_until, workload_of
from infra.policy.rules import parse_cpu
from planner.outputs.plan import PlannedWorkload

OUT_OF_SERVICE = "node.kubernetes.io/out-of-service=nodeshutdown:NoExecute"


class LiveDrillError(RuntimeError):
    """The drill cannot run as asked (the lost site answers, a kubeconfig is missing)."""


@dataclass
class LiveReport:
    """One direction of the live drill: what the cluster said at each step."""

    site_lost: str
    survivor: str
    loss: str = ""
    servers: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    quota_rejections: list[str] = field(default_factory=list)
    refused_evictions: list[str] = field(default_factory=list)
    stalled_rollouts: list[str] = field(default_factory=list)
    quorum: list[str] = field(default_factory=list)
    runbook: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (
            self.pending
            or self.quota_rejections
            or self.refused_evictions
            or self.stalled_rollouts
            or self.quorum
        )

    def summary(self) -> dict[str, Any]:
        """Pass or fail per rule, as :func:`infra.drill` reports them (for the agreement)."""
        return {
            "case": f"{self.site_lost} lost, {self.survivor} after losing {self.loss}",
            "pending": bool(self.pending),
            "quota": bool(self.quota_rejections),
            "evictions_refused": bool(self.refused_evictions),
            "rollouts_stalled": bool(self.stalled_rollouts),
            "quorum_kept": not self.quorum,
        }

    def lines(self) -> list[str]:
        head = f"live: {self.site_lost} lost, {self.survivor} after losing {self.loss}"
        out = [f"{head} ({', '.join(self.servers)}): {'PASS' if self.ok else 'FAIL'}"]
        out += [f"  pending: {x}" for x in self.pending]
        out += [f"  quota: {x}" for x in self.quota_rejections]
        out += [f"  eviction refused: {x}" for x in self.refused_evictions]
        out += [f"  rollout stalled: {x}" for x in self.stalled_rollouts]
        out += [f"  quorum: {x}" for x in self.quorum]
        out += [f"  runbook: {x}" for x in self.runbook]
        out += [f"  {step}: {seconds:.0f} s" for step, seconds in self.timings_s.items()]
        return out


@dataclass
class _Events:
    """The survivor's events, only those that arrived after the drill started."""

    kube: Kube
    namespace: str
    seen: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.forget()

    @staticmethod
    def _key(event: Obj) -> tuple[str, str]:
        # a repeated event updates one Event object (its count): a new resourceVersion
        return event["metadata"]["uid"], event["metadata"].get("resourceVersion", "")

    def new(self, *reasons: str) -> list[Obj]:
        return [
            e
            for e in self.kube.items("events", self.namespace)
            if self._key(e) not in self.seen and e.get("reason") in reasons
        ]

    def forget(self) -> None:
        self.seen |= {self._key(e) for e in self.kube.items("events", self.namespace)}


def _needed(workloads: tuple[PlannedWorkload, ...], site: str) -> dict[str, int]:
    """Pods of the failover set per workload: databases, critical and degradable work."""
    return {
        w.name: w.sites[site].replicas_failover
        for w in workloads
        if site in w.sites and w.sites[site].replicas_failover > 0
    }


def _ready_counts(kube: Kube, namespace: str) -> Counter[str]:
    return Counter(workload_of(p) for p in kube.items("pods", namespace) if ready(p))


def _shortfall(kube: Kube, namespace: str, needed: Mapping[str, int]) -> dict[str, str]:
    counts = _ready_counts(kube, namespace)
    return {w: f"{counts[w]} of {n} Ready" for w, n in needed.items() if counts[w] < n}


def _explain(kube: Kube, namespace: str, events: _Events, report: LiveReport) -> None:
    """The cluster's own reasons: FailedScheduling per Pending pod, FailedCreate (quota)."""
    pending = {
        p["metadata"]["name"]
        for p in kube.items("pods", namespace)
        if (p.get("status") or {}).get("phase") == "Pending"
    }
    said: dict[str, str] = {}
    for event in events.new("FailedScheduling"):
        pod = event["involvedObject"].get("name", "")
        if pod in pending:
            said[pod] = " ".join(str(event.get("message", "")).split())
    report.pending += [f"Pod {pod}: FailedScheduling: {msg}" for pod, msg in sorted(said.items())]
    quota = {}
    for event in events.new("FailedCreate"):
        message = " ".join(str(event.get("message", "")).split())
        if "exceeded quota" in message:
            owner = f"{event['involvedObject'].get('kind')} {event['involvedObject'].get('name')}"
            quota[owner] = message
    report.quota_rejections += [f"{owner}: FailedCreate: {m}" for owner, m in sorted(quota.items())]


def _await_failover_set(
    kube: Kube,
    namespace: str,
    needed: Mapping[str, int],
    events: _Events,
    report: LiveReport,
    timeout_s: float,
    step: str,
) -> bool:
    started = time.monotonic()
    held = wait_until(lambda: not _shortfall(kube, namespace, needed), timeout_s)
    report.timings_s[step] = time.monotonic() - started
    if held:
        return True
    short = _shortfall(kube, namespace, needed)
    report.pending += [f"{step}: {w}: {what}" for w, what in sorted(short.items())]
    _explain(kube, namespace, events, report)
    return False


def _scale_to_failover(
    kube: Kube, namespace: str, workloads: tuple[PlannedWorkload, ...], site: str
) -> None:
    planned = {w.name: w.sites[site] for w in workloads if site in w.sites}
    for hpa in kube.items("hpa", namespace):
        spec = hpa["spec"]
        target = spec["scaleTargetRef"]
        plan = planned.get(target["name"])
        want = plan.replicas_failover if plan is not None else 0
        want = min(max(want, int(spec.get("minReplicas", 1))), int(spec["maxReplicas"]))
        kube.run(
            "scale", f"{target['kind'].lower()}/{target['name']}", f"--replicas={want}",
            "-n", namespace,
        )  # fmt: skip


def worst_servers(kube: Kube, namespace: str, r: int) -> list[Obj]:
    """The r nodes whose loss hurts most: the largest allocatable CPU, then the most CPU
    requested by the pods on them (a database pod's server before an empty one)."""
    nodes = [n for n in kube.items("nodes") if not n["spec"].get("unschedulable")]
    load: dict[str, float] = {}
    for pod in kube.items("pods", namespace):
        node = (pod.get("spec") or {}).get("nodeName")
        if node and not pod["metadata"].get("deletionTimestamp"):
            for c in pod["spec"].get("containers") or []:
                asked = (c.get("resources") or {}).get("requests") or {}
                load[node] = load.get(node, 0.0) + parse_cpu(asked.get("cpu", 0))

    def key(n: Obj) -> tuple[float, float, str]:
        cpu = parse_cpu(n["status"]["allocatable"]["cpu"])
        return (-cpu, -load.get(n["metadata"]["name"], 0.0), n["metadata"]["name"])

    return sorted(nodes, key=key)[:r]


def _bound_to(kube: Kube, node: str) -> list[str]:
    return [
        p["metadata"]["name"]
        for p in kube.items("pods")
        if (p.get("spec") or {}).get("nodeName") == node
    ]


def _unbound(kube: Kube, node: str) -> bool:
    return not _bound_to(kube, node)


def _lose_servers(kube: Kube, nodes: list[Obj], report: LiveReport, drain_timeout_s: int) -> None:
    for node in nodes:
        name = node["metadata"]["name"]
        code, out = kube.status(
            "drain", name, "--ignore-daemonsets", "--delete-emptydir-data",
            f"--timeout={drain_timeout_s}s",
        )  # fmt: skip
        # kubectl retries an eviction a budget refuses (the workload's previous pod is not
        # Ready yet): a refusal counts only when the drain gives up
        refused = (
            sorted(
                {
                    " ".join(line.split())
                    for line in out.splitlines()
                    if "disruption budget" in line and "evict" in line.lower()
                }
            )
            if code != 0
            else []
        )
        report.refused_evictions += [f"{name}: {line}" for line in refused[:5]]
        if code != 0 and not refused:
            report.refused_evictions.append(
                f"{name}: drain did not complete: {' '.join(out.split())[-200:]}"
            )
        left = [
            p["metadata"]["name"]
            for p in kube.items("pods", None, "")
            if (p.get("spec") or {}).get("nodeName") == name
            and (p["metadata"].get("ownerReferences") or [{}])[0].get("kind") != "DaemonSet"
        ]
        if left:
            report.runbook.append(
                f"{name}: {len(left)} pods still bound ({', '.join(sorted(left)[:4])}...): "
                f"taint {OUT_OF_SERVICE}"
            )
        kube.run("taint", "node", name, OUT_OF_SERVICE, "--overwrite")
        if left:
            wait_until(functools.partial(_unbound, kube, name), 120)
        kube.run("delete", "node", name, "--wait=true")


def _roll_everything(
    kube: Kube, namespace: str, needed: Mapping[str, int], report: LiveReport, timeout_s: int
) -> None:
    started = time.monotonic()
    objects = [
        (kind, o["metadata"]["name"])
        for kind in ("deployment", "statefulset")
        for o in kube.items(kind, namespace)
    ]
    for kind, name in objects:
        kube.run("rollout", "restart", f"{kind}/{name}", "-n", namespace)
    deadline = time.monotonic() + timeout_s  # the rollouts run at once: one deadline
    for kind, name in objects:
        if name not in needed:
            continue  # deferrable work may wait for room after a site loss (by design)
        left = max(5, round(deadline - time.monotonic()))
        code, out = kube.status(
            "rollout", "status", f"{kind}/{name}", "-n", namespace, f"--timeout={left}s"
        )
        if code != 0:
            report.stalled_rollouts.append(f"{kind}/{name}: {' '.join(out.split())[-300:]}")
    report.timings_s["rollout"] = time.monotonic() - started


def _check_quorum(
    kube: Kube,
    namespace: str,
    witness: Kube | None,
    witness_namespace: str,
    plan: Mapping[str, Any],
    site_lost: str,
    report: LiveReport,
) -> None:
    counts = _ready_counts(kube, namespace)
    voters = _ready_counts(witness, witness_namespace) if witness is not None else Counter()
    for statement in plan.get("quorum") or []:
        votes = counts[statement["workload"]] + sum(voters.values())
        said = {c["case"]: c["kept"] for c in statement["cases"]}.get(f"{site_lost} lost")
        kept = votes >= int(statement["needed"])
        if said is None or kept != bool(said):
            report.quorum.append(
                f"{statement['workload']}: {votes} of {statement['total']} votes Ready "
                f"({counts[statement['workload']]} database, {sum(voters.values())} witness), "
                f"{statement['needed']} needed: quorum {'kept' if kept else 'lost'}; the plan "
                f"says {'nothing' if said is None else ('kept' if said else 'lost')}"
            )


def run_live_drill(
    stack: str,
    kubeconfigs: Mapping[str, Path],
    site_lost: str,
    *,
    kubectl: str = "kubectl",
    timeout_s: int = 240,
    root: Path | None = None,
) -> LiveReport:
    """One direction of the live drill for ``stack`` (an environment or a site stack of
    one), with ``site_lost`` unreachable and ``kubeconfigs`` naming each location's file."""
    from infra.render import project_root, read_stack_config
    from infra.settings import settings_from_stack_config
    from planner.outputs.plan import planned_workloads, read_plan

    values, _ = read_stack_config(stack, root)
    settings = settings_from_stack_config(values, project_root(root))
    plan = read_plan(settings.plan_file)
    workloads = planned_workloads(plan, str(settings.plan_file))
    names = [s.name for s in settings.sites]
    if site_lost not in names:
        raise LiveDrillError(f"--lost {site_lost}: not a site of {stack} ({', '.join(names)})")
    survivor = next(n for n in names if n != site_lost)
    for location in (site_lost, survivor):
        if location not in kubeconfigs:
            raise LiveDrillError(f"no kubeconfig for {location}")
    if Kube(kubeconfigs[site_lost], kubectl).reachable():
        raise LiveDrillError(
            f"{site_lost}: its API still answers: stop or cut off the site before the drill"
        )
    kube = Kube(kubeconfigs[survivor], kubectl)
    namespace = settings.namespace_for(survivor)
    witness = settings.witness
    witness_kube = Kube(kubeconfigs[witness.name], kubectl) if witness else None
    r = int(plan["assumptions"]["redundancy_servers_lost"])
    report = LiveReport(site_lost, survivor)
    needed = _needed(workloads, survivor)
    events = _Events(kube, namespace)
    _scale_to_failover(kube, namespace, workloads, survivor)
    if _await_failover_set(kube, namespace, needed, events, report, timeout_s, "failover"):
        servers = worst_servers(kube, namespace, r)
        report.servers = [n["metadata"]["name"] for n in servers]
        report.loss = ", ".join(
            sorted(n["metadata"]["labels"].get("node.kubernetes.io/instance-type", "?")
                   for n in servers)
        )  # fmt: skip
        started = time.monotonic()
        _lose_servers(kube, servers, report, drain_timeout_s=min(timeout_s, 120))
        report.timings_s["servers lost"] = time.monotonic() - started
        if _await_failover_set(
            kube, namespace, needed, events, report, timeout_s, f"after losing {report.loss}"
        ):
            _roll_everything(kube, namespace, needed, report, timeout_s)
            if report.stalled_rollouts:
                _explain(kube, namespace, events, report)
    _check_quorum(
        kube,
        namespace,
        witness_kube,
        settings.namespace_for(witness.name) if witness else "",
        plan,
        site_lost,
        report,
    )
    return report


def read_kubeconfigs(folder: Path) -> dict[str, Path]:
    """``<location>.kubeconfig`` files of a folder, by location."""
    if not folder.is_dir():
        raise LiveDrillError(f"{folder}: not a folder of <location>.kubeconfig files")
    found = {p.name[: -len(".kubeconfig")]: p for p in sorted(folder.glob("*.kubeconfig"))}
    if not found:
        raise LiveDrillError(f"{folder}: no <location>.kubeconfig files")
    return found


__all__ = ["KubeError", "LiveDrillError", "LiveReport", "read_kubeconfigs", "run_live_drill"]
