"""`planner size --robust SWEEP`: the least-cost fleet feasible in every scenario of a sweep.

One MILP over all scenarios: their envelopes merged into one (every capacity row is
monotone in demand, so the largest design value of each site, scenario and metric
stands for all of them) and every scenario's pods placed; then each scenario is
verified on its own spec by the independent verifier. Scenarios may differ in what the
load profile is reduced with (growth, percentiles, overload bounds, workload growth) and
in prices; a variation that changes the model itself (redundancy, protection, the
catalogue's hardware) is refused: size each value and compare them in the report's
alternatives instead. Costs are the base spec's and catalogue's.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from planner.errors import InputError
from planner.inputs.spec import OverloadBounds, Spec, spec_from_mapping
from planner.inputs.yaml_loader import load_yaml_mapping
from planner.jobs.inputs import SizeInputs, load_inputs
from planner.jobs.size import SizeResult
from planner.jobs.sweep import apply_spec, reduce_profile, reduction_key
from planner.outputs.plan import build_plan, file_sha256, milp_solver
from planner.sizing.envelope import robust_envelope
from planner.sizing.model import ModelOptions, optimise
from planner.sizing.verify import verified

#: Spec fields a robust plan may vary: the profile's reduction and nothing else.
DEMAND_FIELDS = ("growth_per_year", "percentile", "overload")


def read_sweep_document(folder: Path) -> dict[str, Any]:
    path = folder / "sweep.json"
    if not path.is_file():
        raise InputError(str(folder), "sweep.json", "expected a folder `planner sweep` wrote")
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(str(path), "", f"expected JSON ({error})") from None
    for key in ("spec", "catalog", "scenarios"):
        if key not in doc:
            raise InputError(str(path), f"key '{key}'", "expected a sweep document")
    return doc


def _structure(spec: Spec) -> Spec:
    """The spec with its demand-side fields blanked: equal for every scenario a robust
    plan can cover."""
    return dataclasses.replace(
        spec,
        growth_per_year={},
        percentile={},
        overload=OverloadBounds(),
        workloads=tuple(dataclasses.replace(w, growth_per_year=None) for w in spec.workloads),
    )


def run_robust(
    inputs: SizeInputs, sweep_dir: Path, options: ModelOptions | None = None
) -> SizeResult:
    doc = read_sweep_document(sweep_dir)
    for kind, path in (("spec", inputs.spec), ("catalog", inputs.catalog)):
        if doc[kind].get("sha256") != file_sha256(path):
            raise InputError(
                str(sweep_dir / "sweep.json"),
                f"key '{kind}'",
                f"the sweep was made from another {kind} than {path}: give the same --{kind}",
            )
    spec, catalog, profile, refs = load_inputs(inputs)
    assert profile is not None
    base_map = load_yaml_mapping(inputs.spec)
    specs = []
    for i, assignment in enumerate(doc["scenarios"]):
        where = f"scenario {i} of {sweep_dir / 'sweep.json'}"
        spec_keys = {k: v for k, v in assignment.items() if not k.startswith("catalog:")}
        other = spec_from_mapping(apply_spec(base_map, spec_keys, str(inputs.spec)), where)
        if _structure(other) != _structure(spec):
            changed = ", ".join(sorted(spec_keys)) or "?"
            raise InputError(
                where,
                changed,
                "a robust plan covers growth, percentiles, overload bounds and prices; this "
                "changes the model itself: size each value and compare the alternatives",
            )
        specs.append(other)
    reductions = {reduction_key(spec): reduce_profile(profile, spec)}
    scenario_specs: dict[str, Spec] = {reduction_key(spec): spec}
    for other in specs:
        key = reduction_key(other)
        if key not in reductions:
            reductions[key] = reduce_profile(profile, other)
            scenario_specs[key] = other
    base = reductions[reduction_key(spec)]
    others = [r for k, r in reductions.items() if k != reduction_key(spec)]
    envelope = robust_envelope(base.envelope, [r.envelope for r in others])
    solution = optimise(
        spec, catalog, envelope, base.sizings, options, tuple(r.sizings for r in others)
    )
    checks = []
    for key, reduction in reductions.items():
        report = verified(profile, scenario_specs[key], catalog, solution.fleets, reduction.sizings)
        checks.append(report)
    plan = build_plan(
        inputs=refs,
        profile=profile,
        spec=spec,
        catalog=catalog,
        envelope=base.envelope,
        fleets=solution.fleets,
        sizings=base.sizings,
        report=checks[0],
        solver=milp_solver(solution.variables, solution.constraints),
        loader=inputs.profile_options.describe(),
        link=base.link,
    )
    margins = [
        100 * c.margin_ratio
        for report in checks
        for c in report.checks
        if c.kind == "capacity" and c.capacity > 0
    ]
    plan["robust"] = {
        "sweep": {"name": sweep_dir.name, "sha256": file_sha256(sweep_dir / "sweep.json")},
        "scenarios": len(doc["scenarios"]),
        "distinct_reductions": len(reductions),
        "verified": len(checks),
        "smallest_margin_pct": min(margins, default=None),
    }
    return SizeResult(spec, catalog, profile, envelope, base.sizings, solution, checks[0], plan)
