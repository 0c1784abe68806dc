"""`planner tender`: the vendor-neutral tender pack (Markdown and XLSX) from a plan, and
`planner tender evaluate`: the offers returned in its bid form, checked and ranked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from planner.cli._shell import BadInput, out_folder_option, planner_errors, stages
from planner.cli.size import input_options, plan_argument


class _PackByDefault(click.Group):
    """``planner tender PLAN`` writes the pack (the ``pack`` command); a known command
    name (``evaluate``) runs that command instead."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["pack", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_PackByDefault, short_help="Tender pack, and the evaluation of offers.")
def tender() -> None:
    """The tender pack for a plan ('planner tender PLAN', the same as 'planner tender pack
    PLAN'), and 'planner tender evaluate' for the offers returned in its bid form."""


@tender.command(short_help="Tender pack: vendor-neutral requirements per lot.")
@plan_argument
@input_options
@out_folder_option("out/tender")
@planner_errors
def pack(plan: Path, out_dir: Path, **given: Any) -> None:
    """Write tender.md and tender.xlsx for PLAN: per lot (servers and flash; UPS and
    batteries) the functional requirements the plan's figures imply per site (CPU as
    SPECrate throughput, memory, flash, IOPS and endurance after losing servers, the pods
    to place), with "or equivalent" wording; reference quantities, drive options and
    priced spares; the evaluation model (TCO per lot, energy from each offer's own power
    curve); and what is left to the contracting authority. The bid form in tender.xlsx
    computes each offer's TCO. The planning SKUs appear only as the reference
    configuration.

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
        pack = build_tender(plan_doc, spec, catalog, list(stored))
        written = write_tender(pack, out_dir, inputs=(plan,), progress=advance)
    for item in pack.open_items:
        click.echo(f"open before publishing: {item}", err=True)
    for path in written:
        click.echo(f"wrote {path}")


def bid_files(given: tuple[Path, ...]) -> list[Path]:
    """The XLSX files named, and those in the folders named (sorted); none is an error."""
    files: list[Path] = []
    for path in given:
        if path.is_dir():
            files += sorted(p for p in path.glob("*.xlsx") if not p.name.startswith("~$"))
        elif path.is_file():
            files.append(path)
        else:
            raise BadInput(f"{path}: no such bid file or folder")
    if not files:
        raise BadInput(f"{', '.join(map(str, given))}: no .xlsx bid forms found")
    return files


@tender.command(short_help="Check and rank the offers returned in the bid form.")
@click.argument("bids", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--plan",
    "plan",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The plan the tender pack was made from.",
)
@input_options
@out_folder_option("out/tender-evaluation", "Folder for evaluation.md.")
@planner_errors
def evaluate(bids: tuple[Path, ...], plan: Path, out_dir: Path, **given: Any) -> None:
    """Evaluate BIDS (filled-in copies of tender.xlsx, or folders of them): each offer's
    servers, drives, UPS and batteries are run through the same verifier as a plan (pods
    placed after losing any r servers, flash after a loss, the battery at the design load
    with a string lost, every timestep of the profile), then ranked per lot by the
    tender's TCO. Prints the ranking and writes evaluation.md with a section per offer,
    each failed requirement with its shortfall. A lot an offer leaves empty is judged on
    the plan's reference configuration and not ranked.
    """
    from planner.cli.simulate import load_checked
    from planner.fsutil import check_output_folder, staged_directory
    from planner.inputs.bids import read_bid
    from planner.jobs.size import reduce_profile
    from planner.jobs.tender_eval import bid_sites, evaluate_bid
    from planner.outputs.report.families import stored_by_year
    from planner.outputs.tender.evaluation import evaluation_table, render_evaluation
    from planner.outputs.tender.requirements import build_tender

    files = bid_files(bids)
    check_output_folder(out_dir, "tender evaluate", (plan, *files))
    plan_doc, spec, catalog, profile, fleets = load_checked(plan, given, need_power=False)
    sites = bid_sites(plan_doc)
    offers = [read_bid(path, sites) for path in files]
    with stages("evaluating the offers", len(offers) + 1) as advance:
        advance("reducing the profile")
        sizings = reduce_profile(profile, spec).sizings
        _, stored = stored_by_year(profile, spec)
        evaluation = build_tender(plan_doc, spec, catalog, list(stored)).evaluation
        results = []
        for offer in offers:
            advance(f"verifying {offer.name}")
            results.append(
                evaluate_bid(
                    offer, plan_doc, spec, catalog, profile, sizings, fleets, evaluation, str(plan)
                )
            )
    currency = plan_doc["assumptions"]["currency"]
    text = render_evaluation(results, currency, plan_doc.get("digest", ""))
    with staged_directory(out_dir, "tender evaluate", (plan, *files)) as staging:
        (staging / "evaluation.md").write_text(text, encoding="utf-8")
    for line in evaluation_table(results, currency):
        click.echo(line)
    click.echo(f"wrote {out_dir / 'evaluation.md'}")
