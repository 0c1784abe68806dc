"""`planner size --phases 0,2,4`: buy in the named years, at least present cost.

Each period's load is reduced from the profile with the spec's horizon set to the
period's end (design values grown to it) and its mean CPU load averaged over the period;
the joint MILP (:mod:`planner.sizing.phases`) chooses what to buy when; each period's
installed fleet is verified on every timestep against its own load; the plan is the
fleet at the horizon with a purchase schedule, and the schedule's present value against
buying everything at the start (the same model with one purchase year).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from planner.errors import InputError
from planner.inputs.catalog import Catalog
from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec
from planner.jobs.inputs import SizeInputs, load_inputs
from planner.jobs.size import SizeResult
from planner.outputs.plan import build_plan, milp_solver
from planner.sizing.envelope import Envelope, compute_envelope, period_mean_busy_cores
from planner.sizing.link import check_link, size_link
from planner.sizing.model import ModelOptions, Solution
from planner.sizing.phases import (
    PeriodInputs,
    PhasedSolution,
    optimise_phased,
    period_spec,
    periods,
)
from planner.sizing.verify import verified
from planner.sizing.workloads import size_workloads


def period_inputs(
    profile: Profile, spec: Spec, phases: tuple[float, ...]
) -> tuple[PeriodInputs, ...]:
    try:
        spans = periods(phases, spec.horizon_years)
    except ValueError as error:
        raise InputError("--phases", ",".join(f"{p:g}" for p in phases), str(error)) from None
    out = []
    for period in spans:
        own = period_spec(spec, period, last=period is spans[-1])
        env = compute_envelope(profile, own)
        env = Envelope(
            tuple(
                dataclasses.replace(
                    site,
                    mean_busy_cores=period_mean_busy_cores(
                        profile, spec, site.site, period.start, period.end
                    ),
                )
                for site in env.sites
            )
        )
        out.append(PeriodInputs(period, own, env, size_workloads(profile, own)))
    return tuple(out)


def solve_phases(
    profile: Profile,
    spec: Spec,
    catalog: Catalog,
    phases: tuple[float, ...],
    options: ModelOptions | None = None,
) -> tuple[tuple[PeriodInputs, ...], PhasedSolution]:
    inputs = period_inputs(profile, spec, phases)
    return inputs, optimise_phased(spec, catalog, inputs, options)


def run_phased(
    inputs: SizeInputs, phases: tuple[float, ...], options: ModelOptions | None = None
) -> SizeResult:
    spec, catalog, profile, refs = load_inputs(inputs)
    assert profile is not None
    link = size_link(profile, spec)
    check_link(link)
    periods_in, phased = solve_phases(profile, spec, catalog, phases, options)
    # buying everything at the start: one period over the whole horizon, which is the
    # plain sizing's own envelope and pods, so the plan reuses them
    whole = period_inputs(profile, spec, (0.0,))
    at_start = optimise_phased(spec, catalog, whole, options)
    envelope, sizings = whole[0].envelope, whole[0].sizings
    reports = [
        verified(profile, item.spec, catalog, fleets, item.sizings)
        for item, fleets in zip(periods_in, phased.installed, strict=True)
    ]
    final = phased.installed[-1]
    plan = build_plan(
        inputs=refs,
        profile=profile,
        spec=spec,
        catalog=catalog,
        envelope=envelope,
        fleets=final,
        sizings=sizings,
        report=reports[-1],
        solver=milp_solver(phased.variables, phased.constraints),
        loader=inputs.profile_options.describe(),
        link=link,
    )
    plan["purchases"] = purchase_schedule(spec, periods_in, phased, at_start)
    solution = Solution(
        fleets=final,
        objective=phased.objective,
        solve_time_s=phased.solve_time_s,
        mip_gap=0.0,
        variables=phased.variables,
        constraints=phased.constraints,
    )
    return SizeResult(spec, catalog, profile, envelope, sizings, solution, reports[-1], plan)


def purchase_schedule(
    spec: Spec,
    periods_in: tuple[PeriodInputs, ...],
    phased: PhasedSolution,
    at_start: PhasedSolution,
) -> dict[str, Any]:
    """The plan's purchase schedule: what each purchase year buys per site, and the
    present value of the schedule against buying everything at the start."""
    return {
        "years": [item.period.start for item in periods_in],
        "discount_rate_per_year": spec.discount_rate_per_year,
        "price_decline_per_year": dict(sorted(spec.price_decline_per_year.items())),
        "price_decline_source": spec.price_decline_source,
        "schedule": [
            {
                "year": item.period.start,
                "carries_to_year": item.period.end,
                "sites": {site: dict(sorted(counts.items())) for site, counts in bought.items()},
            }
            for item, bought in zip(periods_in, phased.bought, strict=True)
        ],
        "present_value": phased.objective,
        "present_value_all_at_start": at_start.objective,
        "saving": at_start.objective - phased.objective,
    }
