"""`planner diff`: what changed between two plans, as Markdown or JSON."""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli._shell import planner_errors


@click.command(short_help="What changed between two plans.")
@click.argument("old_plan", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("new_plan", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="JSON instead of Markdown.")
@planner_errors
def diff(old_plan: Path, new_plan: Path, as_json: bool) -> None:
    """Quantities, costs, power, battery runtime, margins and Kubernetes sizing that changed."""
    from planner.outputs.diff import diff_plans, render_markdown, to_json
    from planner.outputs.plan import read_plan

    old, new = read_plan(old_plan), read_plan(new_plan)
    changes = diff_plans(old, new)
    click.echo(to_json(changes) if as_json else render_markdown(changes, old, new), nl=False)
