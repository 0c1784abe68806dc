"""`planner tender`: the vendor-neutral tender pack (Markdown and XLSX) from a plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from planner.cli._shell import out_folder_option, planner_errors, stages
from planner.cli.size import input_options, plan_argument


@click.command(short_help="Tender pack: vendor-neutral requirements per lot.")
@plan_argument
@input_options
@out_folder_option("out/tender")
@planner_errors
def tender(plan: Path, out_dir: Path, **given: Any) -> None:
    """Write tender.md and tender.xlsx for PLAN: per lot (servers and flash; UPS and
    batteries) the functional requirements the plan's figures imply, with "or
    equivalent" wording, quantities with delivery options for growth, spares, support,
    and the evaluation model (TCO with the plan's energy price and PUE). The planning
    SKUs appear only as the reference configuration.

    The inputs (default: the bundled example) must be the ones the plan was made from:
    the drive options follow the stored data's growth in the load profile.
    """
    from planner.cli.simulate import load_checked
    from planner.fsutil import check_output_folder
    from planner.outputs.report.families import stored_by_year
    from planner.outputs.tender.requirements import build_tender
    from planner.outputs.tender.write import write_tender

    check_output_folder(out_dir, "tender", (plan,))
    with stages("writing the tender pack", 3) as advance:
        advance("loading the plan and its inputs")
        plan_doc, spec, catalog, profile, _ = load_checked(plan, given, need_power=False)
        advance("deriving the requirements")
        _, stored = stored_by_year(profile, spec)
        pack = build_tender(plan_doc, catalog, list(stored))
        written = write_tender(pack, out_dir, inputs=(plan,), progress=advance)
    for item in pack.open_items:
        click.echo(f"open before publishing: {item}", err=True)
    for path in written:
        click.echo(f"wrote {path}")
