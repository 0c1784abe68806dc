"""`planner drill`: lose a site, play Kubernetes' rules on the survivor's rendered stack.

Like `planner render`, this command sees both halves: it imports ``infra`` only when it
runs."""

from __future__ import annotations

import click

from planner.cli._shell import BadInput, planner_errors, stages


@click.command(short_help="Failover drill over a rendered stack.")
@click.option("--stack", required=True, help="Stack name: stacks/Pulumi.<stack>.yaml.")
@planner_errors
def drill(stack: str) -> None:
    """Each site lost in turn, and each distinct loss of r of the survivor's servers: HPAs
    scaled to the failover load, quota admission, scheduling with priorities, anti-affinity
    and spread, and disruption budgets. Exit 1 when a pod of the failover set stays
    Pending, a quota refuses one, or a budget blocks a drain."""
    from infra.drill import run_drill
    from infra.render import RenderError
    from infra.settings import SettingsError

    with stages(f"drilling {stack}", 1) as advance:
        advance("rendering under mocks and playing the failover")
        try:
            reports = run_drill(stack)
        except (RenderError, SettingsError) as exc:
            raise BadInput(str(exc)) from None
    for report in reports:
        for line in report.lines():
            click.echo(line)
    failed = [r for r in reports if not r.ok]
    click.echo(f"drill: {len(reports) - len(failed)} of {len(reports)} cases pass")
    if failed:
        raise click.exceptions.Exit(1)
