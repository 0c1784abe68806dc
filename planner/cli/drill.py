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
    and spread, and disruption budgets; replica counts beside HPAs and hot capacity; the
    database quorum against the plan's statement; every declared network flow. Exit 1 when
    a pod of the failover set stays Pending, a quota refuses one, a budget blocks a drain,
    a rule or the quorum fails, or a needed flow is denied or another allowed."""
    from infra.drill import run_drill
    from infra.render import RenderError
    from infra.settings import SettingsError

    with stages(f"drilling {stack}", 1) as advance:
        advance("rendering under mocks and playing the failover")
        try:
            result = run_drill(stack)
        except (RenderError, SettingsError) as exc:
            raise BadInput(str(exc)) from None
    for line in result.lines():
        click.echo(line)
    if not result.ok:
        raise click.exceptions.Exit(1)
