"""`planner size`: size servers and flash per site and write the plan (the lock file)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from planner.cli._shell import Duration, Stale, file_path, planner_errors, stages
from planner.inputs.profile_options import FILL_METHODS

if TYPE_CHECKING:
    from planner.jobs.size import SizeInputs, SizeResult

DEFAULT_OUT = Path("out/plan.json")


def input_options(func: Any) -> Any:
    """--profile, --spec, --catalog or --stack (none: the bundled example), and how to read
    a real profile export (--fill-gaps, --fill-method, --strict)."""
    options = [
        click.option(
            "--profile",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Load profile, CSV or Parquet (default: the generated bundled example).",
        ),
        click.option(
            "--spec",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Planning spec YAML (default: the bundled example's spec).",
        ),
        click.option(
            "--catalog",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Hardware catalogue YAML (default: the catalogue shipped with the planner).",
        ),
        click.option(
            "--stack",
            metavar="NAME",
            help="Use the inputs a stack's plan is made from (stacks/NAME/inputs.yaml).",
        ),
        click.option(
            "--fill-gaps",
            type=Duration(maximum_s=7 * 86400),
            metavar="DURATION",
            help="Fill gaps in the profile up to this long (e.g. 15m); longer gaps are "
            "an error naming the series and range (default: the plan's, else none).",
        ),
        click.option(
            "--fill-method",
            type=click.Choice(FILL_METHODS),
            help="How gaps are filled: hold the last value, or linear (default: hold).",
        ),
        click.option(
            "--strict",
            is_flag=True,
            default=None,
            help="Refuse extra columns in the profile instead of ignoring them with a note.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


#: The plan a command reads (default: where `planner size` writes it).
plan_argument = click.argument(
    "plan", type=click.Path(path_type=Path, dir_okay=False), default=str(DEFAULT_OUT)
)


def resolve_inputs(given: dict[str, Any], recorded: dict[str, Any] | None = None) -> SizeInputs:
    """The inputs from the command's options; loader options not given default to those
    ``recorded`` in a plan's ``profile.loader`` (so a check reads the profile the same way)."""
    from planner.inputs.catalog import default_catalog_path
    from planner.inputs.profile_options import ProfileOptions
    from planner.jobs.inputs import SizeInputs, stack_inputs

    recorded = recorded or {}
    options = ProfileOptions(
        fill_gaps_s=float(
            given["fill_gaps"]
            if given.get("fill_gaps") is not None
            else recorded.get("fill_gaps_s", 0.0)
        ),
        fill_method=str(given.get("fill_method") or recorded.get("fill_method", "hold")),
        jitter=float(recorded.get("jitter", ProfileOptions().jitter)),
        strict=bool(given.get("strict")),
    )
    profile, spec, catalog = given.get("profile"), given.get("spec"), given.get("catalog")
    stack = given.get("stack")
    if stack is not None:
        if profile is not None or spec is not None or catalog is not None:
            raise click.UsageError("--stack names the inputs; leave out --profile/--spec/--catalog")
        base = stack_inputs(Path.cwd(), stack)
        return dataclasses.replace(base, profile_options=options)
    if profile is None and spec is None:
        bundled = SizeInputs.bundled()
        return SizeInputs(None, bundled.spec, catalog or bundled.catalog, options)
    if profile is None or spec is None:
        raise click.UsageError("--profile and --spec go together (or give neither for the example)")
    return SizeInputs(profile, spec, catalog or default_catalog_path(), options)


def stale_message(
    plan_path: Path, committed: dict[str, Any], fresh: dict[str, Any], stack: str | None
) -> str:
    """Why a plan does not match these inputs, and what to do about it."""
    from planner.jobs.inputs import stale_inputs

    differ = stale_inputs(committed, fresh)
    if not differ:
        return (
            f"{plan_path} is out of date: same inputs, different result (planner version "
            "or model changed); re-run `planner size` to update it"
        )
    hint = "re-run `planner size` with these inputs to update it"
    parts = plan_path.resolve().parts
    if stack is None and "stacks" in parts:
        name = parts[parts.index("stacks") + 1] if parts.index("stacks") + 1 < len(parts) else ""
        if name and not name.endswith(".json"):
            hint = (
                f"if you meant the stack's own inputs, add --stack {name} "
                f"(stacks/{name}/inputs.yaml); otherwise {hint}"
            )
    return f"{plan_path} is out of date: {'; '.join(differ)}; {hint}"


def print_notes(notes: tuple[str, ...]) -> None:
    for note in notes:
        click.echo(f"note: {note}", err=True)


@click.command(short_help="Size servers, flash and UPS; write the plan.")
@input_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    callback=file_path,
    default=str(DEFAULT_OUT),
    show_default=True,
    help="Where to write the plan JSON.",
)
@click.option(
    "--check",
    "check",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PLAN",
    help="Write nothing; exit 1 if PLAN no longer matches what these inputs give.",
)
@click.option(
    "--robust",
    "robust",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="SWEEP",
    help="The least-cost fleet feasible in every scenario of the sweep in this folder "
    "(made by `planner sweep` from the same spec and catalogue), verified in each.",
)
@click.option(
    "--phases",
    metavar="YEARS",
    help="Buy in these years (e.g. 0,2,4): each purchase carries the load to the next; "
    "prices fall and costs are discounted as the spec's costs section says.",
)
@planner_errors
def size(
    out: Path, check: Path | None, robust: Path | None, phases: str | None, **given: Any
) -> None:
    """Size servers and flash for both sites at least cost; write the plan."""
    from planner.jobs.size import run_size
    from planner.outputs.plan import dumps_plan, read_plan, write_plan

    if check is not None and (robust is not None or phases is not None):
        raise click.UsageError("--check compares with a plain sizing; leave out --robust/--phases")
    if robust is not None and phases is not None:
        raise click.UsageError("--robust and --phases do not combine yet: use one")
    if check is not None:
        committed = read_plan(check, verify_digest=False)
        inputs = resolve_inputs(given, committed.get("profile", {}).get("loader"))
        with stages("checking the plan", 4) as advance:
            result = run_size(inputs, stage=advance)
        print_notes(result.profile.notes)
        fresh = dumps_plan(result.plan)
        if fresh == check.read_text(encoding="utf-8"):
            click.echo(f"{check}: up to date with its inputs")
            return
        raise Stale(stale_message(check, committed, result.plan, given.get("stack")))
    inputs = resolve_inputs(given)
    if phases is not None:
        from planner.jobs.phased import run_phased

        years = _years_list(phases)
        with stages("sizing a purchase schedule", 1) as advance:
            advance("one MILP over every purchase period, then each verified")
            result = run_phased(inputs, years)
    elif robust is not None:
        from planner.jobs.robust import run_robust

        with stages("sizing for every scenario of the sweep", 1) as advance:
            advance("one MILP over all scenarios, then each verified")
            result = run_robust(inputs, robust)
    else:
        with stages("sizing", 4) as advance:
            result = run_size(inputs, stage=advance)
    print_notes(result.profile.notes)
    write_plan(result.plan, out, inputs=inputs.paths())
    click.echo(render_summary(result))
    if "robust" in result.plan:
        r = result.plan["robust"]
        click.echo(
            f"\nRobust over {r['scenarios']} scenarios ({r['distinct_reductions']} distinct "
            f"loads), verified in each; smallest capacity margin {r['smallest_margin_pct']:.1f} %"
        )
    if "purchases" in result.plan:
        click.echo(render_purchases(result.plan))
    click.echo(f"\nPlan written to {out}")
    click.echo(
        f"MILP: {result.solution.variables} variables, {result.solution.constraints} "
        f"constraints, solved in {result.solution.solve_time_s:.3f} s",
        err=True,
    )


#: Purchase years --phases takes at most: each adds a copy of the sizing model, and more
#: than a purchase a year over the longest horizon does not finish in reasonable time.
MAX_PHASES = 10


def _years_list(text: str) -> tuple[float, ...]:
    try:
        years = tuple(float(part) for part in text.split(","))
    except ValueError:
        years = (math.nan,)
    if not all(math.isfinite(y) for y in years):
        raise click.BadParameter(
            f"expected years like 0,2,4 (finite numbers), got '{text}'", param_hint="--phases"
        )
    if len(years) > MAX_PHASES:
        raise click.BadParameter(
            f"at most {MAX_PHASES} purchase years, got {len(years)}", param_hint="--phases"
        )
    return years


def render_purchases(plan: dict[str, Any]) -> str:
    """The purchase schedule and its present value against buying all at the start."""
    p = plan["purchases"]
    currency = plan["assumptions"]["currency"]
    lines = ["", "Purchase schedule (each purchase carries the load to the next):"]
    for step in p["schedule"]:
        bought = "; ".join(
            f"{site}: " + (", ".join(f"{n} x {sku}" for sku, n in counts.items()) or "nothing")
            for site, counts in step["sites"].items()
        )
        lines.append(f"  year {step['year']:g} (to year {step['carries_to_year']:g}): {bought}")
    lines.append(
        f"Present value {_money(p['present_value'])} {currency} against "
        f"{_money(p['present_value_all_at_start'])} {currency} buying everything at the start "
        f"(saves {_money(p['saving'])} {currency}; discount rate "
        f"{100 * p['discount_rate_per_year']:g} %)"
    )
    return "\n".join(lines)


def render_summary(result: SizeResult) -> str:
    """Plain-text summary table: fleet, battery, power, costs, tightest constraints."""
    plan = result.plan
    currency = plan["assumptions"]["currency"]
    sites = plan["sites"]
    names = [s["name"] for s in sites]
    rows: list[tuple[str, list[str]]] = []
    server_skus = sorted({x["sku"] for s in sites for x in s["servers"]})
    drive_skus = sorted({x["sku"] for s in sites for x in s["drives"]})
    for sku in server_skus:
        rows.append((f"servers {sku}", [_count(s["servers"], sku) for s in sites]))
    for sku in drive_skus:
        rows.append((f"drives  {sku}", [_count(s["drives"], sku) for s in sites]))
    rows.append(("rack units", [str(s["totals"]["rack_units"]) for s in sites]))
    rows.append(("battery", [_battery_cell(s["battery"]) for s in sites]))
    if all(s["battery"].get("status") == "sized" for s in sites):
        rows.append(
            (
                "ride-through min (decided by) / required",
                [
                    f"{s['battery']['ride_through_minutes']:.1f} "
                    f"({s['battery']['ride_through_decided_by']})"
                    f" / {s['battery']['required_runtime_minutes']:.1f}"
                    for s in sites
                ],
            )
        )
        rows.append(("UPS frames kW installed", [f"{s['battery']['ups_kw']:g}" for s in sites]))
        rows.append(
            (
                "UPS design load kW (all on the UPS, worst)",
                [f"{s['battery']['design_load_kw']:.1f}" for s in sites],
            )
        )
    rows.append(("IT kW (servers, drives), mean", [f"{s['power_kw']['mean']:.1f}" for s in sites]))
    for i, site in enumerate(sites):
        other = names[1 - i]
        label = f"IT kW (servers, drives) at the sized demand, {other} lost"
        cells = ["" for _ in sites]
        cells[i] = f"{site['power_kw'][f'lost-{other}']:.1f}"
        rows.append((label, cells))
    rows.append((f"capex {currency}", [_money(s["costs"]["capex"]) for s in sites]))
    rows.append((f"TCO {currency} ({_years(plan)})", [_money(s["costs"]["tco"]) for s in sites]))
    width = max(len(label) for label, _ in rows)
    col = max(14, *(len(n) for n in names))
    lines = [
        f"{plan['assumptions']['name']}: N+{plan['assumptions']['redundancy_servers_lost']} "
        f"in each site, horizon {_years(plan)}",
        "",
        " " * width + "".join(f"  {n:>{col}}" for n in names),
    ]
    for label, cells in rows:
        lines.append(f"{label:<{width}}" + "".join(f"  {c:>{col}}" for c in cells))
    lines.append("")
    lines.append(
        f"Total: capex {_money(plan['costs']['capex'])} {currency}, "
        f"TCO {_money(plan['costs']['tco'])} {currency}"
    )
    lines.append("Tightest capacity constraints (verified on every timestep):")
    for check in result.report.tightest(3):
        flag = " [binding]" if check.binding else ""
        lines.append(f"  - {check.describe()}{flag}")
    deciding = sorted(
        {
            c.name.split(" (FAILS")[0]
            for c in result.report.checks
            if c.kind == "capacity" and c.binding and c.ok and c.unit not in ("U", "ms")
        }
    )
    if deciding:
        lines.append(f"Decided by (one unit less breaks it): {'; '.join(deciding)}")
    floors = result.report.tightest(len(result.report.checks), kind="floor")
    exact = sorted({c.name for c in floors if c.binding})
    if exact:
        lines.append(f"Floors met exactly (minimum counts, by design): {'; '.join(exact)}")
    if plan["cpu_normalisation"]["normalised"]:  # the report's own lines for it
        from planner.outputs.report.text import normalisation_rows

        factors = normalisation_rows(plan["cpu_normalisation"])
        lines += [f"{name}: {value} ({source})" for name, value, source in factors]
    lines.append("What the percentile leaves out (real peak against the sized capacity):")
    for check in result.report.checks:
        if check.name.startswith("cpu_cores") and check.peak is not None:
            physical = (
                f", {check.peak_pct_of_physical:.0f} % of physical"
                if check.peak_pct_of_physical is not None
                else ""
            )
            lines.append(
                f"  - CPU at {check.site}/{check.scenario}: peak {check.peak:,.1f} cores = "
                f"{check.overshoot_pct:.1f} % above{physical}; {check.overload_min:,.0f} min "
                f"above in all, longest run {check.longest_overload_min:,.0f} min"
            )
    return "\n".join(lines)


def _battery_cell(battery: dict[str, Any]) -> str:
    if battery.get("status") != "sized":
        return "not sized"
    return f"{battery['kwh_installed']:.1f} kWh {battery['chemistry'].upper()}"


def _count(items: list[dict[str, Any]], sku: str) -> str:
    return str(next((x["count"] for x in items if x["sku"] == sku), 0))


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _years(plan: dict[str, Any]) -> str:
    return f"{plan['assumptions']['horizon_years']:g} years"
