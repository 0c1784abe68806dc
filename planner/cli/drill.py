"""`planner drill`: lose a site, play Kubernetes' rules on the survivor's rendered stack,
or (``--live``) have the survivor's real cluster play them.

Like `planner render`, this command sees both halves: it imports ``infra`` only when it
runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from planner.cli._shell import BadInput, planner_errors, stages


@click.command(short_help="Failover drill over a rendered stack, or live on the clusters.")
@click.option("--stack", required=True, help="Stack name: stacks/Pulumi.<stack>.yaml.")
@click.option(
    "--live",
    "live",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Drill the real clusters instead: a folder of <location>.kubeconfig files "
    "(both sites and the witness). Needs --lost.",
)
@click.option(
    "--lost",
    default=None,
    help="With --live: the site that is lost (its API must not answer).",
)
@click.option(
    "--kubectl",
    default="kubectl",
    show_default=True,
    help="With --live: the kubectl to act with.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.IntRange(10, 3600),
    default=240,
    show_default=True,
    help="With --live: seconds each step may take before it counts as failed.",
)
@click.option(
    "--hardware",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Drill on the servers of another plan (the one installed today) instead of the "
    "stack's own plan: what must be racked before `pulumi up`.",
)
@planner_errors
def drill(
    stack: str,
    live: Path | None,
    lost: str | None,
    kubectl: str,
    timeout_s: int,
    hardware: Path | None,
) -> None:
    """Each site lost in turn, and each distinct loss of r of the survivor's servers: HPAs
    scaled to the failover load, quota admission (the failover set, and every Deployment's
    rollout surge on top), scheduling with priorities, anti-affinity and spread, and
    disruption budgets; replica counts beside HPAs and hot capacity; the database quorum
    against the plan's statement; every declared network flow. Exit 1 when a pod of the
    failover set stays Pending, a quota refuses one, a budget blocks a drain, a rule or the
    quorum fails, or a needed flow is denied or another allowed.

    With --live, the survivor's own control plane plays the case: HPA targets scaled to the
    failover load, the r worst servers drained (disruption budgets honoured), taken out of
    service and deleted, every workload rolled under quota, and the quorum counted; each
    problem quotes the cluster's own event. Exit 1 on any problem."""
    if live is not None:
        _live(stack, live, lost, kubectl, timeout_s)
        return
    if lost is not None:
        raise BadInput("--lost: only with --live (the offline drill loses each site in turn)")
    from infra.drill import run_drill
    from infra.render import RenderError
    from infra.settings import SettingsError

    servers = _servers_of(hardware) if hardware is not None else None
    with stages(f"drilling {stack}", 1) as advance:
        advance("rendering under mocks and playing the failover")
        try:
            result = run_drill(stack, hardware=servers)
        except (RenderError, SettingsError) as exc:
            raise BadInput(str(exc)) from None
    for line in result.lines():
        click.echo(line)
    if not result.ok:
        raise click.exceptions.Exit(1)


def _live(stack: str, folder: Path, lost: str | None, kubectl: str, timeout_s: int) -> None:
    from infra.kube import KubeError
    from infra.live import LiveDrillError, read_kubeconfigs, run_live_drill
    from infra.render import RenderError
    from infra.settings import SettingsError

    if lost is None:
        raise BadInput("--live: name the lost site with --lost (its API must not answer)")
    try:
        report = run_live_drill(
            stack, read_kubeconfigs(folder), lost, kubectl=kubectl, timeout_s=timeout_s
        )
    except (LiveDrillError, RenderError, SettingsError) as exc:
        raise BadInput(str(exc)) from None
    except KubeError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise click.exceptions.Exit(1)


def _servers_of(path: Path) -> dict[str, Any]:
    """The sites' servers of a plan file (any schema version: only ``sites[].name`` and
    ``sites[].servers`` are read)."""
    import json

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        sites = [{"name": s["name"], "servers": s["servers"]} for s in doc["sites"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"{path}: not a plan with sites[].servers ({exc})") from None
    return {"sites": sites}
