"""`planner size --robust SWEEP`: the least-cost fleet feasible in every scenario of a sweep.

One MILP over all scenarios (:mod:`planner.sizing.robust`): each scenario's whole
constraint set from its own spec, the purchases shared; then each scenario is verified
on its own spec by the independent verifier. Scenarios may differ in anything the spec
says (growth, percentiles, ceilings, redundancy, protection, power) and in prices;
costs are the base spec's and catalogue's. A variation of the catalogue's hardware
(cores, capacity...) is refused: one fleet cannot be bought from two catalogues.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from planner.errors import InputError
from planner.inputs.files import check_schema
from planner.jobs.inputs import SizeInputs, load_inputs
from planner.jobs.size import Reduction, SizeResult, reduce_profile
from planner.jobs.sweep import PRICE_FIELDS, build_tasks, load_bases, reduction_key
from planner.outputs.plan import build_plan, file_sha256, milp_solver
from planner.sizing.link import check_link
from planner.sizing.model import ModelOptions
from planner.sizing.robust import Scenario, optimise_robust
from planner.sizing.verify import verified

_INPUT_REF = {
    "type": "object",
    "required": ["sha256"],
    "properties": {"name": {"type": "string"}, "sha256": {"type": "string"}},
}
#: sweep.json as `planner sweep` writes it (jobs/sweep.py `sweep_document`)
#: Distinct scenarios one robust sizing takes (each adds a copy of the sizing model)
MAX_ROBUST_SCENARIOS = 12
SWEEP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["spec", "catalog", "scenarios"],
    "properties": {
        "spec": _INPUT_REF,
        "catalog": _INPUT_REF,
        "profile": _INPUT_REF,
        "variations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "values"],
                "properties": {"key": {"type": "string"}, "values": {"type": "array"}},
            },
        },
        "scenarios": {
            "type": "array",
            "items": {"type": "object", "propertyNames": {"type": "string", "minLength": 1}},
        },
    },
}


def read_sweep_document(folder: Path) -> dict[str, Any]:
    path = folder / "sweep.json"
    if not path.is_file():
        raise InputError(str(folder), "sweep.json", "expected a folder `planner sweep` wrote")
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(str(path), "", f"expected JSON ({error})") from None
    check_schema(doc, SWEEP_SCHEMA, str(path), " (a sweep document as `planner sweep` writes it)")
    return doc


def check_sweep_of(plan: dict[str, Any], sweep_dir: Path) -> None:
    """The sweep in ``sweep_dir`` was made from the plan's own inputs (the spec and
    catalogue files, and the profile where the sweep records it), or say which differs:
    its alternatives are only comparable with a plan sized from the same base."""
    doc = read_sweep_document(sweep_dir)
    for kind in ("spec", "catalog", "profile"):
        recorded = (doc.get(kind) or {}).get("sha256")
        if recorded is None and kind == "profile":
            continue  # a sweep written before it recorded the profile
        if recorded != plan["inputs"].get(kind, {}).get("sha256"):
            raise InputError(
                str(sweep_dir / "sweep.json"),
                f"key '{kind}.sha256'",
                f"the sweep was made from another {kind} than the plan: its alternatives "
                "are not comparable with this plan (sweep the plan's own inputs)",
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
    where = str(sweep_dir / "sweep.json")
    for i, assignment in enumerate(doc["scenarios"]):
        for key in assignment:
            if key.startswith("catalog:") and key.rpartition(".")[2] not in PRICE_FIELDS:
                raise InputError(
                    f"scenario {i} of {where}",
                    key,
                    "a robust plan buys one catalogue's hardware; it covers price changes "
                    "but not a different SKU: compare those as alternatives",
                )
    spec_base, catalog_base = load_bases(inputs.spec, inputs.catalog)
    specs = [spec]
    for _, _, other, _ in build_tasks(
        spec_base, catalog_base, doc["scenarios"], str(inputs.spec), str(inputs.catalog)
    ):
        if other not in specs:
            specs.append(other)
    if len(specs) > MAX_ROBUST_SCENARIOS:
        raise InputError(
            where,
            "key 'scenarios'",
            f"{len(specs)} distinct scenarios; a robust plan solves one model over all of them "
            f"and takes at most {MAX_ROBUST_SCENARIOS} (each adds a copy of the sizing model; "
            "40 did not finish within the solver's time limit): sweep fewer values, or size "
            "robustly over the scenarios that decide (the sweep's costliest)",
        )
    reductions: dict[str, Reduction] = {}
    scenarios = []
    for each in specs:
        key = reduction_key(each)
        if key not in reductions:
            reductions[key] = reduce_profile(profile, each)
        reduction = reductions[key]
        scenarios.append(Scenario(each, reduction.envelope, reduction.sizings))
    for reduction in reductions.values():
        check_link(reduction.link)
    solution = optimise_robust(tuple(scenarios), catalog, options)
    checks = [verified(profile, s.spec, catalog, solution.fleets, s.sizings) for s in scenarios]
    base = reductions[reduction_key(spec)]
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
        "distinct_specs": len(specs),
        "verified": len(checks),
        "smallest_margin_pct": min(margins, default=None),
    }
    return SizeResult(
        spec, catalog, profile, base.envelope, base.sizings, solution, checks[0], plan
    )
