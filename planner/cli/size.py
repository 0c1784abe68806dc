"""`planner size`: size servers and flash per site and write the plan (the lock file)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from planner.cli._shell import planner_errors, stages

if TYPE_CHECKING:
    from planner.jobs.size import SizeInputs, SizeResult

DEFAULT_OUT = Path("out/plan.json")


def input_options(func: Any) -> Any:
    """--profile, --spec and --catalog; none of them means the bundled example."""
    func = click.option(
        "--catalog",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Hardware catalogue YAML (default: the catalogue shipped with the planner).",
    )(func)
    func = click.option(
        "--spec",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Planning spec YAML (default: the bundled example's spec).",
    )(func)
    func = click.option(
        "--profile",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Load profile, CSV or Parquet (default: the generated bundled example).",
    )(func)
    return func


#: The plan a command reads (default: where `planner size` writes it).
plan_argument = click.argument(
    "plan", type=click.Path(path_type=Path, dir_okay=False), default=str(DEFAULT_OUT)
)


def resolve_inputs(profile: Path | None, spec: Path | None, catalog: Path | None) -> SizeInputs:
    from planner.inputs.catalog import default_catalog_path
    from planner.jobs.size import SizeInputs

    if profile is None and spec is None:
        bundled = SizeInputs.bundled()
        return SizeInputs(None, bundled.spec, catalog or bundled.catalog)
    if profile is None or spec is None:
        raise click.UsageError("--profile and --spec go together (or give neither for the example)")
    return SizeInputs(profile, spec, catalog or default_catalog_path())


@click.command(short_help="Size servers, flash and UPS; write the plan.")
@input_options
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_OUT,
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
@planner_errors
def size(
    profile: Path | None, spec: Path | None, catalog: Path | None, out: Path, check: Path | None
) -> None:
    """Size servers and flash for both sites at least cost; write the plan."""
    from planner.jobs.size import run_size
    from planner.outputs.plan import dumps_plan, read_plan, write_plan

    inputs = resolve_inputs(profile, spec, catalog)
    if check is not None:
        committed = read_plan(check)
        with stages("checking the plan", 4) as advance:
            result = run_size(inputs, stage=advance)
        fresh = dumps_plan(result.plan)
        if fresh == check.read_text(encoding="utf-8"):
            click.echo(f"{check}: up to date with its inputs")
            return
        changed = [
            kind
            for kind, ref in result.plan["inputs"].items()
            if committed.get("inputs", {}).get(kind, {}).get("sha256") != ref["sha256"]
        ]
        what = (
            "inputs changed: " + ", ".join(changed)
            if changed
            else "same inputs, different result (planner version or model changed)"
        )
        raise click.ClickException(f"{check} is out of date ({what}); re-run `planner size`")
    with stages("sizing", 4) as advance:
        result = run_size(inputs, stage=advance)
    write_plan(result.plan, out)
    click.echo(render_summary(result))
    click.echo(f"\nPlan written to {out}")
    click.echo(
        f"MILP: {result.solution.variables} variables, {result.solution.constraints} "
        f"constraints, solved in {result.solution.solve_time_s:.3f} s",
        err=True,
    )


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
                "battery runtime min (EOL / required)",
                [
                    f"{s['battery']['runtime_minutes_at_design_load']['end_of_life']:.1f}"
                    f" / {s['battery']['required_runtime_minutes']:.1f}"
                    for s in sites
                ],
            )
        )
        rows.append(("UPS kW", [f"{s['battery']['ups_kw']:g}" for s in sites]))
    rows.append(("power kW mean", [f"{s['power_kw']['mean']:.1f}" for s in sites]))
    for i, site in enumerate(sites):
        other = names[1 - i]
        label = f"power kW design, {other} lost"
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
    lines.append("Tightest constraints (verified on every timestep):")
    for check in result.report.tightest(3):
        flag = " [binding]" if check.binding else ""
        lines.append(f"  - {check.describe()}{flag}")
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
