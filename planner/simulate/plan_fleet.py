"""Read the fleet and the battery figures back out of a plan document."""

from __future__ import annotations

import math
from typing import Any

from planner.errors import InputError
from planner.inputs.spec import PowerSpec, Spec
from planner.power.battery import CHEMISTRIES
from planner.simulate.availability import OutageModel, SiteChain
from planner.sizing.fleet import SiteFleet


def fleets_from_plan(plan: dict[str, Any], source: str) -> tuple[SiteFleet, ...]:
    try:
        return tuple(
            SiteFleet(
                site["name"],
                {x["sku"]: int(x["count"]) for x in site["servers"]},
                {x["sku"]: int(x["count"]) for x in site["drives"]},
                {x["sku"]: int(x["count"]) for x in site["battery"].get("modules", [])},
                {x["sku"]: int(x["count"]) for x in site["battery"].get("ups_frames", [])},
                int(site["battery"].get("strings", 0)),
                tuple((site["battery"].get("thermal") or {}).get("cooling_options_on_ups", [])),
            )
            for site in plan["sites"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(source, "key 'sites'", f"malformed fleet in the plan ({exc})") from None


def check_plan_matches(plan: dict[str, Any], refs: dict[str, str], source: str) -> None:
    """The plan was made from these inputs (same hashes), or say which one differs."""
    for kind, sha in refs.items():
        recorded = plan.get("inputs", {}).get(kind, {}).get("sha256")
        if recorded != sha:
            raise InputError(
                source,
                f"key 'inputs.{kind}.sha256'",
                f"the plan was made from another {kind} than the one given; re-run `planner size`",
            )


def outage_model(power: PowerSpec) -> OutageModel:
    grid = power.grid
    return OutageModel(
        grid.outages_per_year,
        grid.distribution,
        grid.mean_minutes,
        grid.p50_minutes,
        grid.p95_minutes,
        grid.regional_outages_per_year,
    )


def sized_chains(spec: Spec, plan: dict[str, Any]) -> tuple[SiteChain, ...]:
    """Each site of the sized design: its ride-through at the worst load (the shorter of
    the battery and the room), new and at end of life, and its restart after a hard loss."""
    assert spec.power is not None
    power = spec.power
    chemistry = CHEMISTRIES[power.chemistry]
    chains = []
    for site in plan["sites"]:
        battery = site["battery"]
        if battery.get("status") != "sized":
            raise InputError("plan", f"site {site['name']}", "the plan has no sized battery")
        runtime = battery["runtime_minutes_at_design_load"]
        thermal = (battery.get("thermal") or {}).get("minutes_to_limit")
        cap = math.inf if thermal is None else float(thermal)
        new = min(float(runtime["new"]), cap)
        old = min(float(runtime["end_of_life"]), cap)
        eol = chemistry.end_of_life_capacity
        # R(c) = R_new c^k through both: k = ln(R_eol / R_new) / ln(c_eol)
        k = math.log(old / new) / math.log(eol) if 0 < old < new else 0.0
        chains.append(
            SiteChain(
                generator_fail_to_start=power.generator_fail_to_start,
                generator_fail_to_run_per_hour=power.generator_fail_to_run_per_hour,
                detection_minutes=(power.generator_start_s + power.generator_transfer_s) / 60.0,
                runtime_new_minutes=new,
                peukert_k=k,
                end_of_life_capacity=eol,
                failover_p50_minutes=power.failover_p50_min,
                failover_p95_minutes=power.failover_p95_min,
                failover_failure_probability=power.failover_failure_probability,
                recovery_minutes=power.recovery.total_min,
            )
        )
    return tuple(chains)


def as_was_chain(power: PowerSpec) -> SiteChain:
    """One active site; a fixed-runtime battery; a cold standby in place of the failover;
    the incident's restart after the room went dark."""
    recovery = power.as_was_recovery or power.recovery
    return SiteChain(
        generator_fail_to_start=power.generator_fail_to_start,
        generator_fail_to_run_per_hour=power.generator_fail_to_run_per_hour,
        detection_minutes=0.0,
        runtime_new_minutes=power.as_was_ups_runtime_min,
        peukert_k=1.0,
        end_of_life_capacity=1.0,
        failover_p50_minutes=max(power.as_was_standby_takeover_min, 1e-9),
        failover_p95_minutes=max(power.as_was_standby_takeover_min, 1e-9),
        failover_failure_probability=power.as_was_standby_failure_probability,
        recovery_minutes=recovery.total_min,
    )
