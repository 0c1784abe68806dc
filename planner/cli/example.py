"""`planner example`: write the bundled synthetic example's inputs to files."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from planner.cli._shell import FiniteFloat, out_folder_option, planner_errors


@click.command(short_help="Write the synthetic example's input files.")
@out_folder_option("out/example")
@click.option(
    "--days",
    type=click.IntRange(1, 365),
    default=365,
    show_default=True,
    help="Days of load, at 5-minute steps from the example's start.",
)
@click.option(
    "--scale",
    type=FiniteFloat(0, 1000, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiply every load by this (above 0, at most 1000).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv"]),
    default="parquet",
    show_default=True,
    help="File format of the profile.",
)
@planner_errors
def example(out_dir: Path, days: int, scale: float, fmt: str) -> None:
    """Write the synthetic example: profile, spec and catalogue (not measured data)."""
    from planner.fsutil import staged_directory
    from planner.inputs.catalog import default_catalog_path
    from planner.inputs.example import example_spec_path, generate_example_frame
    from planner.inputs.profiles import write_profile

    frame = generate_example_frame(days=days, scale=scale)
    profile = out_dir / f"profile.{fmt}"
    if fmt == "csv":
        frame = frame.assign(timestamp=frame["timestamp"].map(lambda t: t.isoformat()))
    with staged_directory(out_dir, "example") as staging:
        write_profile(frame, staging / profile.name)
        shutil.copyfile(example_spec_path(), staging / "spec.yaml")
        shutil.copyfile(default_catalog_path(), staging / "catalog.yaml")
    click.echo(
        f"wrote {profile}, {out_dir / 'spec.yaml'}, {out_dir / 'catalog.yaml'} "
        f"({len(frame):,} rows, synthetic)"
    )
