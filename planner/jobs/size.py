"""The `size` job as one function: load, reduce, solve, verify, assemble the plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import InfeasibleError, InputError, VerificationError
from planner.inputs.catalog import Catalog, default_catalog_path, filter_catalog, read_catalog
from planner.inputs.profile_options import ProfileOptions
from planner.inputs.profiles import Profile, profile_from_frame, read_profile
from planner.inputs.spec import Spec, read_spec
from planner.inputs.yaml_loader import Node, load_yaml_mapping
from planner.outputs.plan import InputRef, build_plan, file_sha256
from planner.sizing.envelope import Envelope, compute_envelope
from planner.sizing.link import size_link
from planner.sizing.model import ModelOptions, Solution, optimise
from planner.sizing.verify import Report, verify_plan
from planner.sizing.workloads import WorkloadSizing, size_workloads

BUNDLED = "bundled-example"


@dataclass(frozen=True)
class SizeInputs:
    """Paths of the three inputs; ``profile=None`` means the generated bundled example."""

    profile: Path | None
    spec: Path
    catalog: Path
    profile_options: ProfileOptions = field(default_factory=ProfileOptions)

    def paths(self) -> tuple[Path, ...]:
        """The input files (for refusing to write over one of them)."""
        return tuple(p for p in (self.profile, self.spec, self.catalog) if p is not None)

    @classmethod
    def bundled(cls) -> SizeInputs:
        from planner.inputs.example import example_spec_path

        return cls(profile=None, spec=example_spec_path(), catalog=default_catalog_path())


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


def load_inputs(inputs: SizeInputs) -> tuple[Spec, Catalog, Profile, tuple[InputRef, ...]]:
    spec = read_spec(inputs.spec)
    catalog = read_catalog(inputs.catalog)
    if catalog.currency != spec.currency:
        raise InputError(
            str(inputs.catalog),
            "key 'currency'",
            f"expected the spec's currency '{spec.currency}', got '{catalog.currency}'",
        )
    catalog = filter_catalog(catalog, spec.allowed_servers, spec.allowed_drives, str(inputs.spec))
    if spec.power is not None:
        if not any(b.chemistry == spec.power.chemistry for b in catalog.batteries):
            raise InputError(
                str(inputs.catalog),
                "key 'batteries'",
                f"no battery module of chemistry '{spec.power.chemistry}' (the spec's power "
                "section asks for it)",
            )
        if not catalog.ups_frames:
            raise InputError(
                str(inputs.catalog),
                "key 'ups_frames'",
                "no UPS frame (the spec's power section needs one)",
            )
    if inputs.profile is None:
        from planner.inputs.example import generate_example_frame

        profile = profile_from_frame(
            generate_example_frame(), spec, BUNDLED, lambda i: f"row {i + 1}"
        )
        profile_name = BUNDLED
    else:
        profile = read_profile(inputs.profile, spec, inputs.profile_options)
        profile_name = inputs.profile.name
    refs = (
        InputRef("profile", profile_name, profile.content_hash()),
        InputRef("spec", inputs.spec.name, file_sha256(inputs.spec)),
        InputRef("catalog", inputs.catalog.name, file_sha256(inputs.catalog)),
    )
    return spec, catalog, profile, refs


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
    report = verify_plan(profile, spec, catalog, solution.fleets, sizings)
    if not report.ok:
        raise VerificationError([c.describe() for c in report.failures()])
    plan = build_plan(
        inputs=refs,
        profile=profile,
        spec=spec,
        catalog=catalog,
        envelope=envelope,
        fleets=solution.fleets,
        sizings=sizings,
        report=report,
        solver={
            "name": "HiGHS via scipy.optimize.milp",
            "status": "optimal",
            "variables": solution.variables,
            "constraints": solution.constraints,
        },
        loader=inputs.profile_options.describe(),
        link=link,
    )
    return SizeResult(spec, catalog, profile, envelope, sizings, solution, report, plan)


def stack_inputs(root: Path, stack: str) -> SizeInputs:
    """The inputs a stack's plan is made from, as ``stacks/<stack>/inputs.yaml`` names them
    (paths relative to ``root``; no profile and spec means the bundled example)."""
    path = root / "stacks" / stack / "inputs.yaml"
    if not path.is_file():
        known = sorted(p.parent.name for p in (root / "stacks").glob("*/inputs.yaml"))
        raise InputError(
            str(path),
            "",
            f"no inputs file for stack '{stack}' (stacks with one: {', '.join(known) or 'none'})",
        )
    node = Node(str(path), load_yaml_mapping(path))
    node.reject_unknown({"profile", "spec", "catalog"})
    if node.has("profile") != node.has("spec"):
        raise node.error(
            "spec" if node.has("profile") else "profile", "profile and spec go together"
        )
    bundled = SizeInputs.bundled()
    return SizeInputs(
        profile=root / node.string("profile") if node.has("profile") else None,
        spec=root / node.string("spec") if node.has("spec") else bundled.spec,
        catalog=root / node.string("catalog") if node.has("catalog") else bundled.catalog,
    )


def stale_inputs(committed: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """Which inputs differ between a committed plan and a fresh one, one phrase each."""
    out = []
    for kind, ref in fresh.get("inputs", {}).items():
        old = committed.get("inputs", {}).get(kind, {})
        if not isinstance(old, dict) or old.get("sha256") != ref["sha256"]:
            old_name = old.get("name", "?") if isinstance(old, dict) else "?"
            if old_name == ref["name"]:
                out.append(f"the {kind} {ref['name']} changed since the plan was made")
            else:
                out.append(f"the {kind} given is {ref['name']}, the plan was made from {old_name}")
    return out
