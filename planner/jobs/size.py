"""The `size` job as one function: load, reduce, solve, verify, assemble the plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planner.errors import InfeasibleError
from planner.inputs.catalog import Catalog
from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec
from planner.jobs.inputs import (  # re-exported: the names commands and tests use
    BUNDLED,
    SizeInputs,
    load_inputs,
    stack_inputs,
    stale_inputs,
)
from planner.outputs.plan import build_plan, milp_solver
from planner.sizing.envelope import Envelope, compute_envelope
from planner.sizing.link import size_link
from planner.sizing.model import ModelOptions, Solution, optimise
from planner.sizing.verify import Report, verified
from planner.sizing.workloads import WorkloadSizing, size_workloads


@dataclass(frozen=True)
class SizeResult:
    spec: Spec
    catalog: Catalog
    profile: Profile
    envelope: Envelope
    sizings: tuple[WorkloadSizing, ...]
    solution: Solution
    report: Report
    plan: dict[str, Any]


def run_size(
    inputs: SizeInputs,
    options: ModelOptions | None = None,
    stage: Callable[[str], None] = lambda _: None,
) -> SizeResult:
    """Load and validate, reduce to the envelope, solve, verify independently, build the plan.

    Raises InputError, InfeasibleError or VerificationError; never writes anything.
    """
    stage("loading inputs")
    spec, catalog, profile, refs = load_inputs(inputs)
    assert profile is not None
    stage("reducing the profile to the design envelope")
    envelope = compute_envelope(profile, spec)
    sizings = size_workloads(profile, spec)
    link = size_link(profile, spec)
    if link is not None and not link.latency_ok:
        raise InfeasibleError(
            [
                f"inter-site link: synchronous replication over {link.distance_km:g} km adds "
                f"{link.added_commit_latency_ms:.2f} ms per commit, the budget is "
                f"{link.latency_budget_ms:g} ms (over by "
                f"{link.added_commit_latency_ms - link.latency_budget_ms:.2f} ms)"
            ]
        )
    stage("solving the sizing MILP")
    solution = optimise(spec, catalog, envelope, sizings, options)
    stage("verifying every timestep of every scenario")
    report = verified(profile, spec, catalog, solution.fleets, sizings)
    plan = build_plan(
        inputs=refs,
        profile=profile,
        spec=spec,
        catalog=catalog,
        envelope=envelope,
        fleets=solution.fleets,
        sizings=sizings,
        report=report,
        solver=milp_solver(solution.variables, solution.constraints),
        loader=inputs.profile_options.describe(),
        link=link,
    )
    return SizeResult(spec, catalog, profile, envelope, sizings, solution, report, plan)


__all__ = [
    "BUNDLED",
    "SizeInputs",
    "SizeResult",
    "load_inputs",
    "run_size",
    "stack_inputs",
    "stale_inputs",
]
