"""`planner simulate`: replay the incident, or simulate many years of grid outages."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from planner.cli._shell import BadInput, FiniteFloat, planner_errors, progress, stages
from planner.cli.size import (
    input_options,
    plan_argument,
    print_notes,
    resolve_inputs,
    stale_message,
)
from planner.simulate import SEED, YEARS

F = TypeVar("F", bound=Callable[..., Any])

#: The most simulated years a run takes (about 1.5 GB at the peak; more would not fit a
#: small machine, and 10^7 years already resolve one-in-a-million-year events).
MAX_YEARS = 20_000_000


def years_option(default: int) -> Callable[[F], F]:
    return click.option(
        "--years",
        type=click.IntRange(min=2, max=MAX_YEARS),
        default=default,
        show_default=True,
        help=f"Simulated years (2 to {MAX_YEARS:,}).",
    )


seed_option = click.option(
    "--seed",
    type=click.IntRange(min=0, max=2**63 - 1),
    default=SEED,
    show_default=True,
    help="Random seed (a non-negative whole number): same seed, same figures.",
)


@click.group(short_help="Incident replay and availability simulation.")
def simulate() -> None:
    """Failure simulations against a plan: incident replay, availability."""


def load_checked(
    plan_path: Path, given: dict[str, Any], *, need_power: bool = True, need_profile: bool = True
) -> Any:
    """The plan (schema, semantics and digest checked), its inputs (checked against the
    plan's hashes) and its fleets. Without ``need_profile`` the profile is neither read
    nor checked (None): a command that works from the plan and the spec alone."""
    from planner.jobs.inputs import load_inputs, stale_inputs
    from planner.outputs.plan import read_plan
    from planner.simulate.plan_fleet import fleets_from_plan

    plan = read_plan(plan_path)
    inputs = resolve_inputs(given, plan["profile"]["loader"])
    spec_obj, catalog_obj, profile_obj, refs = load_inputs(inputs, with_profile=need_profile)
    if profile_obj is not None:
        print_notes(profile_obj.notes)
    given_refs = {"inputs": {r.kind: {"name": r.name, "sha256": r.sha256} for r in refs}}
    if stale_inputs(plan, given_refs):
        raise BadInput(stale_message(plan_path, plan, given_refs, given.get("stack")))
    if need_power and spec_obj.power is None:
        raise BadInput(f"{inputs.spec}: key 'power': the spec has no power section to simulate")
    return plan, spec_obj, catalog_obj, profile_obj, fleets_from_plan(plan, str(plan_path))


@simulate.command(short_help="Replay the incident minute by minute.")
@plan_argument
@input_options
@click.option("--site", help="The site that loses grid power (default: each site in turn).")
@click.option(
    "--at", "at", metavar="TIMESTAMP", help="When (ISO-8601 with offset; default: the design peak)."
)
@click.option(
    "--failover-minutes",
    type=FiniteFloat(0, 10_080),
    help="How long moving the clinical load takes, 0 to 10080 (default: the design quantile).",
)
@click.option("--end-of-life", is_flag=True, help="Battery at end of life (80 % capacity).")
@click.option("--generator-starts", is_flag=True, help="The generator starts after all.")
@click.option(
    "--grid-minutes",
    type=FiniteFloat(1, 525_600),
    help="How long the grid stays down, 1 to 525600 min, for both designs (default: 1440, "
    "or 31 with --as-reported).",
)
@click.option(
    "--as-reported",
    is_flag=True,
    help="The incident's published figures: grid back after 31 min, the old UPS flat after "
    "27, the old standby not starting, the old site's restart taking until 7.5 h.",
)
@planner_errors
def incident(
    plan: Path,
    site: str | None,
    at: str | None,
    failover_minutes: float | None,
    end_of_life: bool,
    generator_starts: bool,
    grid_minutes: float | None,
    as_reported: bool,
    **given: Any,
) -> None:
    """Replay the incident minute by minute: grid lost, generator fails, battery, failover,
    grid back, restart after a hard power loss; the new design and the as-was one."""
    from planner.simulate.incident import replay_as_was, replay_incident

    with stages("loading", 1) as advance:
        advance("the plan and its inputs")
        plan_doc, spec_obj, catalog_obj, profile_obj, fleets = load_checked(plan, given)
    assert spec_obj.power is not None
    reported = spec_obj.power.as_reported  # the published figures unless the spec says
    if grid_minutes is None:
        grid_minutes = reported.grid_minutes if as_reported else 1440.0
    sites = [site] if site else list(spec_obj.site_names)
    for name in sites:
        if name not in spec_obj.site_names:
            raise BadInput(
                f"--site: unknown site '{name}' (the plan has: {', '.join(spec_obj.site_names)})"
            )
    index = _index_at(profile_obj, at) if at else None
    for name in sites:
        outcome = replay_incident(
            profile_obj,
            spec_obj,
            catalog_obj,
            fleets,
            site=name,
            at_index=index,
            failover_minutes=failover_minutes,
            end_of_life=end_of_life,
            generator_starts=generator_starts,
            grid_minutes=grid_minutes,
        )
        click.echo(
            f"Incident at {name}, {outcome.start} "
            f"({'design peak' if index is None else 'given time'}); battery "
            f"{'at end of life' if end_of_life else 'new'}, generator "
            f"{'starts' if generator_starts else 'fails to start'}, grid back after "
            f"{grid_minutes:g} min" + (" (as reported)" if as_reported else "")
        )
        for event in outcome.events:
            click.echo(f"  t+{event.minute:6.1f} min  {event.text}")
        soc = "n/a" if outcome.soc_at_handover is None else f"{100 * outcome.soc_at_handover:.0f} %"
        click.echo(
            f"  outcome: clinical downtime {outcome.clinical_downtime_min:.1f} min; "
            f"{outcome.survivor} peak utilisation CPU "
            f"{100 * outcome.survivor_peak_cpu_utilisation:.0f} %, memory "
            f"{100 * outcome.survivor_peak_memory_utilisation:.0f} %; battery at handover {soc}"
            + ("; UNCLEAN SHUTDOWN" if outcome.unclean_shutdown else "")
        )
    cases = [reported.standby_works] if as_reported else [True, False]
    for works in cases:
        old = replay_as_was(
            spec_obj,
            standby_works=works,
            grid_minutes=grid_minutes,
            ups_minutes=reported.ups_minutes if as_reported else None,
            recovery_minutes=reported.recovery_minutes if as_reported else None,
        )
        label = "standby activated" if works else "standby did not work (as in the incident)"
        if old.battery_flat_at_min is None:
            click.echo(
                f"As-was design (one active site, cold read-only standby), {label}: the grid "
                f"was back at t+{grid_minutes:g} min before its UPS ran flat at "
                f"t+{old.ups_minutes:g}: clinical downtime 0 min"
            )
            continue
        click.echo(
            f"As-was design (one active site, cold read-only standby), {label}: battery flat "
            f"at t+{old.battery_flat_at_min:.0f} min, grid back at t+{grid_minutes:g}, site "
            f"restarted at t+{old.restarted_at_min:.0f}, clinical work back at "
            f"t+{old.clinical_back_at_min:.0f} min: clinical downtime "
            f"{old.clinical_downtime_min:.0f} min ({old.clinical_downtime_min / 60:.1f} h)"
        )
    _ = plan_doc


def _index_at(profile: Any, at: str) -> int:
    import numpy as np
    import pandas as pd

    try:
        stamp = pd.Timestamp(at)
    except pd.errors.OutOfBoundsDatetime:
        raise BadInput(f"--at: '{at}' is outside the supported years 1678 to 2261") from None
    except ValueError:
        raise BadInput(f"--at: not an ISO-8601 timestamp: '{at}'") from None
    if not 1678 <= stamp.year <= 2261:
        raise BadInput(f"--at: '{at}' is outside the supported years 1678 to 2261")
    if stamp.tzinfo is None:
        raise BadInput(f"--at: expected a timestamp with an offset, got '{at}'")
    ns = stamp.tz_convert("UTC").value
    if ns < profile.timestamps_ns[0] or ns > profile.timestamps_ns[-1]:
        raise BadInput(f"--at: {at} is outside the profile")
    return int(np.searchsorted(profile.timestamps_ns, ns, side="right") - 1)


@simulate.command(short_help="Monte Carlo availability over many years.")
@plan_argument
@input_options
@years_option(YEARS)
@seed_option
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON on stdout.")
@planner_errors
def availability(plan: Path, years: int, seed: int, as_json: bool, **given: Any) -> None:
    """Monte Carlo over many years of grid outages (each site's own, and regional ones that
    take both sites at once): downtime, nines, long outages, and the chance of carrying
    clinical work through a grid outage of X hours."""
    import time

    from planner.power.risk import SURVIVAL_HOURS
    from planner.simulate.runs import run_availability

    # the simulation reads the plan's power chain and the spec's power section, not the
    # profile: it is neither read nor checked
    plan_doc, spec_obj, _, _, _ = load_checked(plan, given, need_profile=False)
    power = spec_obj.power
    assert power is not None
    started = time.perf_counter()
    runs = run_availability(spec_obj, plan_doc, years, seed, progress)
    sized, old = runs["sized"].result, runs["as-was"].result
    survival = {name: run.survival for name, run in runs.items()}
    regional = {name: run.regional_survival for name, run in runs.items()}
    elapsed = time.perf_counter() - started
    if as_json:
        doc = {
            "years": years,
            "seed": seed,
            "designs": {
                name: {
                    "expected_downtime_min_per_year": result.mean_downtime_min,
                    "ci99_downtime_min_per_year": [
                        result.ci99_downtime_min[0],
                        None
                        if math.isnan(result.ci99_downtime_min[1])
                        else result.ci99_downtime_min[1],
                    ],
                    "availability": result.availability,
                    "years_with_downtime": result.years_with_downtime,
                    "p_outage_over_hour_per_year": result.p_outage_over_hour,
                    "survival": [
                        {"outage_hours": h, "p_no_clinical_downtime": p}
                        for h, p in zip(SURVIVAL_HOURS, survival[design], strict=True)
                    ],
                    "regional_survival": [
                        {"outage_hours": h, "p_no_clinical_downtime": p}
                        for h, p in zip(SURVIVAL_HOURS, regional[design], strict=True)
                    ],
                }
                for name, design, result in (("sized", "sized", sized), ("as_was", "as-was", old))
            },
            "regional_outages_per_year": power.grid.regional_outages_per_year,
        }
        click.echo(json.dumps(doc, indent=2, sort_keys=True, allow_nan=False))
        click.echo(f"{2 * years:,} simulated site-years in {elapsed:.2f} s, seed {seed}", err=True)
        return
    for label, result in (("sized design (both sites)", sized), ("as-was design", old)):
        low, high = result.ci99_downtime_min
        n_low, n_high = result.nines_ci99
        click.echo(
            f"{label}: expected clinical downtime {result.mean_downtime_min:.4f} min/year "
            f"(99 % CI {low:.4f} to {_fmt(high)}); availability "
            f"{100 * result.availability:.6f} % = {_fmt_nines(result.nines)} nines (99 % CI "
            f"{_fmt_nines(n_low)} to {_fmt_nines(n_high)}); years with any downtime "
            f"{result.years_with_downtime:,} of {result.years:,} (99 % upper bound "
            f"{result.p_downtime_year_upper99:.1e}); P(an outage over 1 h in a year) "
            f"{result.p_outage_over_hour:.2e}"
        )
    for name, label in (("sized", "sized design"), ("as-was", "as-was design")):
        for curve, where in ((survival, "at one site"), (regional, "at both sites at once")):
            shown = ", ".join(
                f"{h:g} h {100 * p:.2f} %" for h, p in zip(SURVIVAL_HOURS, curve[name], strict=True)
            )
            click.echo(
                f"{label}: chance of no clinical downtime in a grid outage {where} of {shown}"
            )
    click.echo(f"{2 * years:,} simulated site-years in {elapsed:.2f} s, seed {seed}", err=True)


def _fmt_nines(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return "inf" if math.isinf(value) else f"{value:.2f}"


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4f}"
