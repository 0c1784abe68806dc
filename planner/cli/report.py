"""`planner report`: the procurement report (HTML, XLSX, Markdown) from a plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from planner.cli._shell import out_folder_option, planner_errors, stages
from planner.cli.simulate import seed_option, years_option
from planner.cli.size import input_options, plan_argument
from planner.simulate import YEARS


@click.command(short_help="Procurement report: HTML, XLSX and Markdown.")
@plan_argument
@input_options
@out_folder_option("out/report")
@click.option(
    "--sweep",
    "sweep_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="A folder `planner sweep` wrote: adds the tornado chart and the alternatives.",
)
@years_option(YEARS)
@seed_option
@planner_errors
def report(
    plan: Path, out_dir: Path, sweep_dir: Path | None, years: int, seed: int, **given: Any
) -> None:
    """Write report.html (self-contained), bill-of-materials.xlsx and summary.md for PLAN.

    The inputs (default: the bundled example) must be the ones the plan was made from:
    the charts replot their load profile. The availability figures are the very run
    `planner simulate availability` makes with the same --years and --seed.
    """
    from planner.cli.simulate import load_checked
    from planner.fsutil import check_output_folder
    from planner.outputs.report.build import gather, write_report

    check_output_folder(out_dir, "report", (plan, *([sweep_dir] if sweep_dir else [])))
    with stages("writing the report", 4) as advance:
        advance("loading the plan and its inputs")
        plan_doc, spec_obj, catalog_obj, profile_obj, _ = load_checked(
            plan, given, need_power=False
        )
        advance("simulating availability")
        data = gather(plan_doc, spec_obj, catalog_obj, profile_obj, years=years, seed=seed)
        if sweep_dir is not None:
            from planner.jobs.robust import check_sweep_of
            from planner.outputs.report.whatif import read_sweep, what_if

            check_sweep_of(plan_doc, sweep_dir)

            data.what_if = what_if(
                read_sweep(sweep_dir), plan_doc["costs"]["tco"], tuple(spec_obj.site_names)
            )
        written = write_report(data, out_dir, progress=advance, inputs=(plan,))
    for path in written:
        click.echo(f"wrote {path}")
