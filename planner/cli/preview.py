"""`planner preview`: the pull-request comment, made without cluster credentials."""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli._shell import BadInput, file_path, planner_errors, stages


@click.command(short_help="Pull-request preview: plan and manifest diffs.")
@click.option("--base", required=True, metavar="GIT_REF", help="What to compare against.")
@click.option("--stack", "stacks", multiple=True, help="Only these stacks (default: all).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    callback=file_path,
    help="Also write the Markdown to this file.",
)
@planner_errors
def preview(base: str, stacks: tuple[str, ...], out: Path | None) -> None:
    """Markdown for a pull-request comment: each stack's plan diff, rendered manifests'
    diff per site, kubernetes-validate and policy results, and `size --check`."""
    from planner.fsutil import atomic_write
    from planner.jobs.preview import build_preview
    from planner.outputs.preview import is_preview_file

    if out is not None and out.exists() and not is_preview_file(out):
        raise BadInput(
            f"{out}: exists and is not a preview the planner wrote; choose another path "
            "(nothing was changed)"
        )

    with stages("previewing", len(stacks) or 2) as advance:
        markdown, previews = build_preview(Path.cwd(), base, list(stacks) or None, progress=advance)
    if out is not None:
        atomic_write(out, markdown, replaceable=is_preview_file, what="preview Markdown")
    click.echo(markdown, nl=False)
    if not all(p.clean for p in previews):
        raise click.exceptions.Exit(1)
