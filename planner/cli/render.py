"""`planner render`: the Pulumi program under mocks, as validated manifests per site.

This command is the CLI shell that sees both halves: it imports ``infra`` (and through it
pulumi) only when it runs, never at `planner --help`.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from planner.cli._shell import BadInput, planner_errors, stages


@click.command(short_help="Render a stack offline, validated and checked.")
@click.option("--stack", required=True, help="Stack name: stacks/Pulumi.<stack>.yaml.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder (default: out/render/<stack>).",
)
@click.option("--kubernetes-version", help="Validate against this version (default: stack config).")
@planner_errors
def render(stack: str, out_dir: Path | None, kubernetes_version: str | None) -> None:
    """Render a stack offline: manifests, kubernetes-validate, policy pack. No cluster."""
    from infra.render import RenderError
    from infra.render import render as render_stack
    from infra.settings import SettingsError

    out_dir = out_dir or Path("out/render") / stack
    started = time.perf_counter()
    with stages(f"rendering {stack}", 1) as advance:
        advance("running the program under mocks, validating, checking policies")
        try:
            result = render_stack(stack, out_dir, kubernetes_version=kubernetes_version)
        except (RenderError, SettingsError) as exc:
            raise BadInput(str(exc)) from None
    elapsed = time.perf_counter() - started
    counts = result.counts()
    click.echo(
        f"stack {stack}: {sum(counts.values())} Kubernetes objects "
        f"({', '.join(f'{site} {n}' for site, n in counts.items())}), "
        f"{len(result.resources)} resources in all, written to {out_dir}"
    )
    click.echo(f"kubernetes-validate: {'all valid' if not result.validation_errors else 'FAILED'}")
    for line in result.validation_errors:
        click.echo(f"  {line}")
    click.echo(f"policy pack: {'no violations' if not result.policy_violations else 'VIOLATIONS'}")
    for line in result.policy_violations:
        click.echo(f"  {line}")
    click.echo(
        "network reachability: "
        + ("every needed flow allowed, no other" if not result.reachability else "PROBLEMS")
    )
    for line in result.reachability:
        click.echo(f"  {line}")
    click.echo(
        "failover drill: "
        + (
            "every case passes"
            if not result.drill
            else "FAILED (planner drill --stack S shows it all)"
        )
    )
    for line in result.drill:
        click.echo(f"  {line}")
    for line in result.stated_limits:
        click.echo(f"  stated by the plan: {line}")
    click.echo(f"rendered in {elapsed:.2f} s", err=True)
    if not result.ok:
        raise click.exceptions.Exit(1)
