"""The failover drill: one site lost, the survivor's rendered objects played by
Kubernetes' rules on the planned servers.

For each site lost and each distinct loss of r of the survivor's servers:

1. **HPAs scale to the failover load:** a workload with an HPA wants the plan's failover
   replica count, clamped to the HPA's [minReplicas, maxReplicas] (an HPA never goes below
   its minimum, so deferrable work keeps its minimum); without an HPA, ``spec.replicas``.
2. **ResourceQuota admission:** per quota (and its PriorityClass scope, where it has one),
   the requests of the pods it covers must fit ``hard``; a pod over it is never created.
3. **Scheduling with preemption:** the scheduler model the sizing accepts its fleets with
   (:mod:`planner.sizing.scheduler`): pods by priority, highest first (a preempting pod
   evicts lower-priority ones, so placing in priority order gives the state preemption
   reaches); each needs a server whose free allocatable CPU and memory hold its requests,
   no pod of its workload already there under required anti-affinity, and, under a
   hostname spread with ``DoNotSchedule``, at most ``min + maxSkew`` pods of the workload
   on the server; among the servers that pass, the least allocated (the default score).
   The drill reads every one of these inputs from the rendered objects, not the plan.
4. **Disruption budgets during a drain:** a workload with pods Pending has no disruption
   left (``maxUnavailable`` 1 used up), so draining a server that holds its pods blocks.

A pod of the plan's failover set left Pending, a quota rejection or a blocked drain fails
the drill; lower-priority pods beyond the failover set may be evicted (that is the design).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from infra.policy.rules import parse_cpu, parse_memory_gib
from planner.outputs.plan import PlannedWorkload
from planner.sizing.scheduler import Allocatable, QueuedPod
from planner.sizing.scheduler import schedule as run_scheduler

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class DrillPod:
    workload: str
    namespace: str
    priority: int
    priority_class: str
    cpu: float
    memory_gib: float
    anti_affinity: bool
    max_skew: int | None
    needed: bool  # within the plan's failover set
    stateful: bool = False  # a StatefulSet's pod: replaced only once its old pod is gone


@dataclass(frozen=True)
class DrillNode:
    name: str
    cpu: float
    memory_gib: float


@dataclass
class DrillReport:
    site_lost: str
    survivor: str
    loss: str
    quota_rejections: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    evicted: Counter[str] = field(default_factory=Counter)
    blocked_drains: list[str] = field(default_factory=list)
    runbook: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.quota_rejections or self.pending or self.blocked_drains)

    def lines(self) -> list[str]:
        head = f"{self.site_lost} lost, {self.survivor} after losing {self.loss}"
        out = [f"{head}: {'PASS' if self.ok else 'FAIL'}"]
        out += [f"  quota: {x}" for x in self.quota_rejections]
        out += [f"  pending: {x}" for x in self.pending]
        out += [f"  drain blocked: {x}" for x in self.blocked_drains]
        out += [f"  runbook: {x}" for x in self.runbook]
        if self.evicted:
            shown = ", ".join(f"{w} {n}" for w, n in sorted(self.evicted.items()))
            out.append(f"  evicted beyond the failover set (by design): {shown}")
        return out


def _inputs_of(resources: Iterable[Any], site: str, kind: str) -> list[Mapping[str, Any]]:
    return [r.inputs for r in resources if r.site == site and r.kind == kind]


def failover_pods(
    resources: list[Any], site: str, workloads: tuple[PlannedWorkload, ...]
) -> list[DrillPod]:
    """The pods the survivor ``site`` runs once its HPAs have scaled to the failover load."""
    priorities = {
        pc["metadata"]["name"]: int(pc["value"])
        for pc in _inputs_of(resources, site, "PriorityClass")
    }
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]
        for h in _inputs_of(resources, site, "HorizontalPodAutoscaler")
    }
    planned = {w.name: w.sites[site] for w in workloads if site in w.sites}
    pods: list[DrillPod] = []
    for kind in WORKLOAD_KINDS:
        for body in _inputs_of(resources, site, kind):
            name = body["metadata"]["name"]
            spec = body["spec"]
            plan = planned.get(name)
            needed = plan.replicas_failover if plan is not None else 0
            if name in hpas:
                low, high = hpas[name].get("minReplicas", 1), hpas[name]["maxReplicas"]
                want = min(max(needed, low), high)
            else:
                want = int(spec.get("replicas", 1))
            pod = spec["template"]["spec"]
            cpu, memory_gib = pod_requests(pod)
            anti = bool(
                ((pod.get("affinity") or {}).get("podAntiAffinity") or {}).get(
                    "requiredDuringSchedulingIgnoredDuringExecution"
                )
            )
            skew = next(
                (
                    int(c["maxSkew"])
                    for c in pod.get("topologySpreadConstraints") or []
                    if c.get("whenUnsatisfiable") == "DoNotSchedule"
                    and c.get("topologyKey") == "kubernetes.io/hostname"
                ),
                None,
            )
            pc = pod.get("priorityClassName", "")
            for i in range(want):
                pods.append(
                    DrillPod(
                        workload=name,
                        namespace=body["metadata"]["namespace"],
                        priority=priorities.get(pc, 0),
                        priority_class=pc,
                        cpu=cpu,
                        memory_gib=memory_gib,
                        anti_affinity=anti,
                        max_skew=skew,
                        needed=i < needed,
                        stateful=kind == "StatefulSet",
                    )
                )
    return pods


def pod_requests(pod: Mapping[str, Any]) -> tuple[float, float]:
    """(cores, GiB) a pod requests, as the scheduler and quota admission count them: the sum
    over its containers, at least the largest init container's, plus the pod overhead."""

    def requests(containers: Any) -> list[tuple[float, float]]:
        out = []
        for c in containers or []:
            asked = (c.get("resources") or {}).get("requests") or {}
            out.append((parse_cpu(asked.get("cpu", 0)), parse_memory_gib(asked.get("memory", 0))))
        return out

    main = requests(pod.get("containers"))
    init = requests(pod.get("initContainers"))
    cpu = max(sum(c for c, _ in main), max((c for c, _ in init), default=0.0))
    mem = max(sum(m for _, m in main), max((m for _, m in init), default=0.0))
    overhead = pod.get("overhead") or {}
    return (
        cpu + parse_cpu(overhead.get("cpu", 0)),
        mem + parse_memory_gib(overhead.get("memory", 0)),
    )


def surge_of(strategy: Mapping[str, Any] | None, replicas: int) -> int:
    """Pods a Deployment's rolling update adds (``maxSurge``: a count or a percentage of
    the replicas, rounded up; Kubernetes' default 25 %)."""
    strategy = strategy or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(replicas * float(value[:-1]) / 100)
    return int(value)


def rollout_pods(resources: list[Any], site: str, pods: list[DrillPod]) -> list[DrillPod]:
    """The extra pods quota admission counts while every workload rolls at once (as a
    `pulumi up` that changes images does): each Deployment's surge, and for each
    StatefulSet one pod (its replacement is admitted while the quota's usage still counts
    the pod it replaces: the quota controller recomputes usage only after the deletion),
    at the pods' requests."""
    count = Counter(p.workload for p in pods)
    first = {p.workload: p for p in reversed(pods)}
    out = []
    for kind in WORKLOAD_KINDS:
        for body in _inputs_of(resources, site, kind):
            name = body["metadata"]["name"]
            if name not in first:
                continue
            extra = (
                surge_of(body["spec"].get("strategy"), count[name]) if kind == "Deployment" else 1
            )
            out += [dataclasses.replace(first[name], needed=False) for _ in range(extra)]
    return out


def quota_rejections(
    resources: list[Any], site: str, pods: list[DrillPod], during: str = ""
) -> list[str]:
    """Each quota against the requests of the pods in its namespace and scope; ``during``
    names the moment in the messages (a rollout)."""
    out = []
    for quota in _inputs_of(resources, site, "ResourceQuota"):
        spec = quota.get("spec") or {}
        scoped: set[str] | None = None
        for expression in (spec.get("scopeSelector") or {}).get("matchExpressions") or []:
            if (
                expression.get("scopeName") == "PriorityClass"
                and expression.get("operator") == "In"
            ):
                scoped = set(expression.get("values") or [])
        covered = [
            p
            for p in pods
            if p.namespace == quota["metadata"]["namespace"]
            and (scoped is None or p.priority_class in scoped)
        ]
        hard = spec.get("hard") or {}
        demand = {
            "requests.cpu": (
                sum(p.cpu for p in covered),
                parse_cpu(hard.get("requests.cpu", "inf")),
            ),
            "requests.memory": (
                sum(p.memory_gib for p in covered),
                parse_memory_gib(hard["requests.memory"])
                if "requests.memory" in hard
                else math.inf,
            ),
            "pods": (float(len(covered)), float(hard.get("pods", math.inf))),
        }
        for resource, (need, limit) in demand.items():
            if need > limit + 1e-6:
                out.append(
                    f"ResourceQuota {quota['metadata']['name']}: {resource} {need:,.1f} needed"
                    f"{during}, hard {limit:,.1f}: the pods over it are refused"
                )
    return out


def schedule(
    nodes: list[DrillNode], pods: list[DrillPod]
) -> tuple[list[DrillPod], dict[str, list[DrillPod]]]:
    """Pending pods and the placement, by the scheduler model the sizing uses
    (:mod:`planner.sizing.scheduler`)."""
    queued = [
        QueuedPod(p.workload, p.priority, p.cpu, p.memory_gib, p.anti_affinity, p.max_skew)
        for p in pods
    ]
    result = run_scheduler([Allocatable(n.cpu, n.memory_gib) for n in nodes], queued)
    placed = {n.name: [pods[i] for i in result.placement[b]] for b, n in enumerate(nodes)}
    return [pods[i] for i in result.pending], placed


def blocked_drains(
    resources: list[Any], site: str, pending: list[DrillPod], placed: dict[str, list[DrillPod]]
) -> list[str]:
    budgets = {
        p["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/name"): p["spec"]
        for p in _inputs_of(resources, site, "PodDisruptionBudget")
    }
    unavailable = Counter(p.workload for p in pending)
    out = []
    for node, pods in sorted(placed.items()):
        for workload in sorted({p.workload for p in pods}):
            budget = budgets.get(workload)
            if budget is None:
                continue
            allowed = int(budget.get("maxUnavailable", 0)) - unavailable[workload]
            if allowed <= 0:
                out.append(
                    f"{node}: PodDisruptionBudget {workload} allows no eviction "
                    f"({unavailable[workload]} pods unavailable)"
                )
    return out


def drill_site(
    resources: list[Any],
    workloads: tuple[PlannedWorkload, ...],
    survivor: str,
    site_lost: str,
    nodes: list[DrillNode],
    r: int,
    runbook: bool = True,
) -> list[DrillReport]:
    """The drill for one lost site, after each distinct loss of r of the survivor's servers.

    The r servers die with their pods on them (placed first on every server). Kubernetes
    replaces a Deployment's pods once they are marked for deletion, but a StatefulSet's
    pod only once the old one is gone, which a dead kubelet never confirms: with
    ``runbook`` the README's step (taint the dead server ``out-of-service``, which deletes
    its pods) is taken and stated; without it, those pods stay Terminating and count as
    Pending."""
    pods = failover_pods(resources, survivor, workloads)
    quota = quota_rejections(resources, survivor, pods) or quota_rejections(
        resources,
        survivor,
        pods + rollout_pods(resources, survivor, pods),
        " during a rollout of every workload",
    )
    kinds: dict[tuple[str, ...], tuple[int, ...]] = {}
    for chosen in combinations(range(len(nodes)), min(r, len(nodes))):
        kinds.setdefault(tuple(sorted(nodes[i].name.rsplit("-", 1)[0] for i in chosen)), chosen)
    reports = []
    _, before = schedule(nodes, pods)
    for names, chosen in sorted(kinds.items()):
        left = [n for i, n in enumerate(nodes) if i not in chosen]
        stuck = [(nodes[i].name, p) for i in chosen for p in before[nodes[i].name] if p.stateful]
        alive = list(pods)
        if not runbook:
            for _, pod in stuck:
                alive.remove(pod)
        pending, placed = schedule(left, alive)
        report = DrillReport(site_lost, survivor, ", ".join(names) or "nothing", list(quota))
        for server, pod in stuck:
            if runbook:
                report.runbook.append(
                    f"{server}: StatefulSet {pod.workload}'s pod stays Terminating on the dead "
                    "server until `kubectl taint node "
                    f"{server} node.kubernetes.io/out-of-service=nodeshutdown:NoExecute`"
                )
            else:
                pending.append(pod)
        needed = Counter(
            f"{p.workload} ({p.priority_class}, {p.cpu:g} cores, {p.memory_gib:g} GiB each)"
            for p in pending
            if p.needed
        )
        report.pending = [f"{n} x {what}" for what, n in needed.items()]
        report.evicted.update(p.workload for p in pending if not p.needed)
        report.blocked_drains = blocked_drains(
            resources, survivor, [p for p in pending if p.needed], placed
        )
        reports.append(report)
    return reports


def nodes_of(site_doc: Mapping[str, Any]) -> list[DrillNode]:
    """The survivor's planned servers with their allocatable resources: each model's
    cores and memory less the reservation the plan states for it."""
    out = []
    for server in site_doc["servers"]:
        for i in range(int(server["count"])):
            out.append(
                DrillNode(
                    f"{server['sku']}-{i}",
                    max(0.0, server["cores"] - server["reserved_cpu_cores"]),
                    max(0.0, server["memory_gib"] - server["reserved_memory_gib"]),
                )
            )
    return out


@dataclass
class DrillResult:
    """The drill of a stack: each site-loss case, the rules over the whole stack (replica
    counts beside HPAs, hot failover capacity), the database quorum and the network flows."""

    cases: list[DrillReport]
    rules: list[str] = field(default_factory=list)
    quorum: list[str] = field(default_factory=list)  # failures
    quorum_stated: list[str] = field(default_factory=list)  # limits the plan states
    reachability: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cases) and not (
            self.rules or self.quorum or self.reachability
        )

    def problems(self, *, network: bool = True) -> list[str]:
        """One line per failure, each naming the object and the rule."""
        out = [
            f"{c.site_lost} lost, {c.survivor} after losing {c.loss}: {line.strip()}"
            for c in self.cases
            for line in c.lines()[1:]
            if not line.strip().startswith(("evicted", "runbook:"))
        ]
        out += self.rules + self.quorum
        return out + ([f"network: {x}" for x in self.reachability] if network else [])

    def lines(self) -> list[str]:
        out = [line for c in self.cases for line in c.lines()]
        out += [f"rule: {x}" for x in self.rules]
        out += [f"quorum: {x}" for x in self.quorum]
        out += [f"quorum (the plan states it): {x}" for x in self.quorum_stated]
        out += [f"network: {x}" for x in self.reachability]
        passed = sum(c.ok for c in self.cases)
        out.append(
            f"drill: {passed} of {len(self.cases)} cases pass; "
            f"{len(self.rules)} rule, {len(self.quorum)} quorum and "
            f"{len(self.reachability)} network problems"
        )
        return out


def replica_rules(
    resources: list[Any], site: str, workloads: tuple[PlannedWorkload, ...], hot: bool
) -> list[str]:
    """An HPA owns its target's replica count: ``spec.replicas`` beside it is re-applied by
    every ``pulumi up`` and can scale a survivor down mid-failover. With hot failover the
    HPA of a critical workload never goes below the plan's failover count."""
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h
        for h in _inputs_of(resources, site, "HorizontalPodAutoscaler")
    }
    planned = {w.name: w for w in workloads if site in w.sites}
    out = []
    for kind in WORKLOAD_KINDS:
        for body in _inputs_of(resources, site, kind):
            name = body["metadata"]["name"]
            hpa = hpas.get(name)
            if hpa is None:
                continue
            if "replicas" in body["spec"]:
                out.append(
                    f"{site}: {kind} {name}: spec.replicas beside HorizontalPodAutoscaler "
                    f"{hpa['metadata']['name']}: every `pulumi up` resets what the HPA scaled"
                )
            w = planned.get(name)
            low = int(hpa["spec"].get("minReplicas", 1))
            if hot and w is not None and w.criticality == "critical":
                need = w.sites[site].replicas_failover
                if low < need:
                    out.append(
                        f"{site}: HorizontalPodAutoscaler {name}: minReplicas {low} below the "
                        f"failover count {need}: critical capacity is not hot"
                    )
    return out


def check_quorum(
    resources: list[Any], plan: Mapping[str, Any], sites: list[str], witness_site: str | None
) -> tuple[list[str], list[str]]:
    """(failures, stated limits): the quorum cases computed from the rendered stack (the
    database StatefulSets' replicas in both sites, the witness's replicas and its
    disruption budget) against the plan's statement of each."""
    from planner.sizing.quorum import quorum_cases

    failures: list[str] = []
    stated: list[str] = []
    for statement in plan.get("quorum") or []:
        name = statement["workload"]
        votes: dict[str, int] = {}
        for site in sites:
            bodies = [
                b
                for b in _inputs_of(resources, site, "StatefulSet")
                if b["metadata"]["name"] == name
            ]
            votes[site] = int(bodies[0]["spec"].get("replicas", 0)) if bodies else 0
        witness, drained = 0, 0
        if witness_site is not None:
            bodies = _inputs_of(resources, witness_site, "StatefulSet")
            witness = sum(int(b["spec"].get("replicas", 0)) for b in bodies)
            budgets = _inputs_of(resources, witness_site, "PodDisruptionBudget")
            drained = max((int(b["spec"].get("maxUnavailable", 0)) for b in budgets), default=0)
        claimed = {c["case"]: bool(c["kept"]) for c in statement["cases"]}
        for case in quorum_cases(votes, witness, max(drained, 1)):
            said = claimed.get(case.case)
            if case.kept:
                continue
            if said is False:
                stated.append(f"{name}: {case.line()}")
            else:
                failures.append(
                    f"{name}: {case.line()}; the plan says "
                    + ("quorum is kept" if said else "nothing of this case")
                    + " (StatefulSets "
                    + ", ".join(f"{s} {v}" for s, v in votes.items())
                    + f", witness {witness}, witness budget maxUnavailable {drained})"
                )
    return failures, stated


def run_drill(
    stack: str,
    resources: list[Any] | None = None,
    root: Any = None,
    runbook: bool = True,
    hardware: Mapping[str, Any] | None = None,
) -> DrillResult:
    """Render ``stack`` (unless given its resources) and drill it: both sites' loss, the
    replica rules, the quorum and the network flows. The servers are the plan's own, or
    those of ``hardware`` (another plan: the servers installed today)."""
    from infra.render import (
        check_reachability,
        environment_of,
        project_root,
        read_stack_config,
        run_program,
    )
    from infra.settings import settings_from_stack_config
    from planner.inputs.spec import read_spec
    from planner.jobs.inputs import stack_inputs
    from planner.outputs.plan import planned_workloads, read_plan

    # a site stack is drilled as its whole environment (both sites and the witness), whose
    # inputs the plan is made from
    environment = environment_of(stack, root)
    values, _ = read_stack_config(environment, root)
    settings = settings_from_stack_config(values, project_root(root))
    plan = read_plan(settings.plan_file)
    spec = read_spec(stack_inputs(project_root(root), environment).spec)
    if resources is None:
        resources = run_program(environment, root=root)
    workloads = planned_workloads(plan, str(settings.plan_file))
    sites = {s["name"]: s for s in (hardware or plan)["sites"]}
    result = DrillResult(cases=[])
    hot = bool(plan["assumptions"].get("hot_failover", False))
    for lost in settings.sites:
        result.rules += replica_rules(resources, lost.name, workloads, hot)
        for survivor in settings.sites:
            if survivor.name == lost.name:
                continue
            nodes = nodes_of(sites[survivor.name])
            result.cases += drill_site(
                resources, workloads, survivor.name, lost.name, nodes, spec.servers_lost, runbook
            )
    result.quorum, result.quorum_stated = check_quorum(
        resources,
        plan,
        [s.name for s in settings.sites],
        settings.witness.name if settings.witness else None,
    )
    result.reachability = check_reachability(values, resources)
    return result
