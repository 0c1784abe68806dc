"""The `size` job as one function: load, reduce, solve, verify, assemble the plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
from planner.sizing.link import LinkSizing, check_link, size_link
from planner.sizing.model import ModelOptions, Solution
from planner.sizing.search import optimise
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


@dataclass(frozen=True)
class Reduction:
    """The profile reduced for one spec: the design envelope, the workloads' pods and the
    inter-site link."""

    envelope: Envelope
    sizings: tuple[WorkloadSizing, ...]
    link: LinkSizing | None


def reduce_profile(profile: Profile, spec: Spec) -> Reduction:
    return Reduction(
        compute_envelope(profile, spec), size_workloads(profile, spec), size_link(profile, spec)
    )


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
    reduction = reduce_profile(profile, spec)
    envelope, sizings, link = reduction.envelope, reduction.sizings, reduction.link
    check_link(link)
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
    "Reduction",
    "SizeInputs",
    "SizeResult",
    "load_inputs",
    "reduce_profile",
    "run_size",
    "stack_inputs",
    "stale_inputs",
]
