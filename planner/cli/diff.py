"""`planner diff`: what changed between two plans, as Markdown or JSON."""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli._shell import planner_errors


@click.command(short_help="What changed between two plans.")
@click.argument("old_plan", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("new_plan", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="JSON instead of Markdown.")
@click.option(
    "--exit-code",
    is_flag=True,
    help="Exit 1 when anything changed, 0 when nothing did (like git diff --exit-code).",
)
@planner_errors
def diff(old_plan: Path, new_plan: Path, as_json: bool, exit_code: bool) -> None:
    """Quantities, costs, power, battery runtime, margins and Kubernetes sizing that changed."""
    from planner.outputs.diff import diff_plans, input_causes, render_markdown, to_json
    from planner.outputs.plan import is_edited, read_plan

    old = read_plan(old_plan, verify_digest=False)
    new = read_plan(new_plan, verify_digest=False)
    for path, doc in ((old_plan, old), (new_plan, new)):
        if is_edited(doc):
            click.echo(
                f"warning: {path}: edited by hand after `planner size` wrote it (its numbers "
                "no longer match its digest)",
                err=True,
            )
    changes = diff_plans(old, new)
    click.echo(
        to_json(changes, old, new) if as_json else render_markdown(changes, old, new), nl=False
    )
    if exit_code and (changes or input_causes(old, new)):
        raise click.exceptions.Exit(1)
