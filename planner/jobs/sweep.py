"""The `sweep` job: size many variations of one spec and catalogue, as tasks on Dask.

Build, run and write are separate steps:

- :func:`parse_vary` / :func:`parse_catalog_vary` turn ``KEY=V1,V2`` options into
  :class:`Variation` values; :func:`scenarios` makes every combination, or a Latin
  hypercube sample of them (``samples``, scipy's ``qmc.LatinHypercube`` over the levels).
- :func:`run_sweep` reads the load profile once, sends it to every worker once
  (``scatter(broadcast=True)``), reduces it once per distinct reduction (the envelope, the
  workloads' pods and the link depend on growth, percentiles, ceilings and the
  workloads; a price or a battery change does not) and sizes each scenario as one task:
  solve, verify independently, build the plan, simulate availability. A failed task
  becomes a row that names its inputs and the error; the others carry on.
- Rows come back in scenario order whichever scheduler ran them, so the table is the
  same bytes on a local cluster and on a remote one.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import InputError
from planner.inputs.catalog import Catalog, catalog_from_mapping
from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec, spec_from_mapping
from planner.inputs.yaml_loader import load_yaml_mapping, load_yaml_text
from planner.jobs.inputs import usable_catalog
from planner.jobs.size import Reduction, reduce_profile
from planner.outputs.report.whatif import INPUT_PREFIX

MAX_SCENARIOS = 100_000  # what --max-scenarios may raise the limit to
#: Scenarios a sweep sizes unless --max-scenarios says more (each is a full sizing, seconds
#: each: 1,000 is already an hour or so on a few cores).
DEFAULT_MAX_SCENARIOS = 1_000
PRICE_FIELDS = ("price",)


@dataclass(frozen=True)
class Variation:
    """One varied input: a dotted spec key (``growth_per_year.cpu_cores``) or a catalogue
    field (``catalog:<sku>.price``) and its values (relative ones as ``"+30%"``)."""

    key: str
    values: tuple[Any, ...]

    @property
    def is_catalog(self) -> bool:
        return self.key.startswith("catalog:")


@dataclass(frozen=True)
class SweepOptions:
    years: int = 20_000  # availability years per scenario (seeded: the same for every run)
    seed: int = 2025
    samples: int | None = None  # a Latin hypercube sample of this many scenarios
    sample_seed: int = 7


@dataclass
class SweepResult:
    rows: list[dict[str, Any]]
    reductions: int  # how many times the profile was reduced
    variations: tuple[Variation, ...] = field(default=())


def _scalar(text: str, option: str) -> Any:
    text = text.strip()
    if not text:
        raise InputError(option, "", "empty value; expected KEY=V1,V2,...")
    if text.endswith("%") and text[:-1].lstrip("+-").replace(".", "", 1).isdigit():
        return text  # relative, applied to the base value
    try:  # the strict loader: no aliases (an alias bomb), no deep nesting
        return load_yaml_text(text, option)
    except InputError:
        return text  # not YAML: the text itself


def _values(text: str, option: str) -> tuple[Any, ...]:
    """``V1,V2,...`` as YAML scalars (or ``+10%``), or one YAML flow list ``[...]`` for
    values that are themselves mappings: ``[{scheme: replicas, copies: 3}, ...]``."""
    if text.strip().startswith("["):
        try:  # the strict loader: aliases (an alias bomb) and deep nesting are refused
            parsed = load_yaml_text(text, option)
        except InputError as error:
            raise InputError(option, "", f"expected a YAML list ({error.expected})") from None
        if not isinstance(parsed, list) or not parsed:
            raise InputError(option, text, "expected a non-empty YAML list")
        return tuple(parsed)
    return tuple(_scalar(v, option) for v in text.split(","))


def parse_vary(option: str) -> Variation:
    """``growth_per_year.cpu_cores=0.06,0.10`` (values as YAML scalars, or ``+10%``, or a
    YAML flow list of mappings)."""
    key, sep, values = option.partition("=")
    if not sep or not key.strip() or not values.strip():
        raise InputError("--vary", repr(option), "expected KEY=V1,V2,... (a dotted spec key)")
    return Variation(key.strip(), _values(values, f"--vary {key}"))


def parse_catalog_vary(option: str) -> Variation:
    """``SKU.price=-30%,+30%``: a catalogue entry's field, absolute or relative."""
    key, sep, values = option.partition("=")
    sku, dot, name = key.strip().rpartition(".")
    if not sep or not dot or not sku or not name:
        raise InputError("--catalog-vary", repr(option), "expected SKU.FIELD=V1,V2,...")
    return Variation(f"catalog:{sku}.{name}", _values(values, f"--catalog-vary {key}"))


def scenarios(
    variations: tuple[Variation, ...],
    samples: int | None = None,
    seed: int = 7,
    limit: int = DEFAULT_MAX_SCENARIOS,
) -> list[dict[str, Any]]:
    """Every combination of the variations' values, or ``samples`` of them drawn by a Latin
    hypercube over the value lists (each value's share of the sample within one of even)."""
    if not variations:
        return [{}]
    keys = [v.key for v in variations]
    if samples is None:
        total = 1
        for v in variations:
            total *= len(v.values)
        if total > limit:
            raise InputError(
                "--vary",
                f"{total:,} combinations",
                f"at most {limit:,} scenarios (each is a sizing: use --samples N, or raise "
                "--max-scenarios)",
            )
        return [
            dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(v.values for v in variations))
        ]
    from scipy.stats import qmc

    if samples < 1:
        raise InputError("--samples", str(samples), "expected at least 1")
    if samples > limit:
        raise InputError(
            "--samples", f"{samples:,}", f"at most {limit:,} scenarios (raise --max-scenarios)"
        )
    unit = qmc.LatinHypercube(d=len(variations), seed=seed).random(samples)
    out = []
    for point in unit:
        out.append(
            {
                v.key: v.values[min(int(u * len(v.values)), len(v.values) - 1)]
                for v, u in zip(variations, point, strict=True)
            }
        )
    return out


def _relative(base: Any, value: Any, where: str) -> Any:
    if isinstance(value, str) and value.endswith("%"):
        if not isinstance(base, int | float) or isinstance(base, bool):
            raise InputError(where, value, "relative, but the base value is not a number")
        return float(base) * (1.0 + float(value[:-1]) / 100.0)
    return value


def apply_spec(base: dict[str, Any], assignment: dict[str, Any], source: str) -> dict[str, Any]:
    """A copy of the spec mapping with the dotted keys set (the key must exist, so a typo
    is an error, not a silent no-op; list items by index: ``workloads.3.replicas``)."""
    data = copy.deepcopy(base)
    for key, value in assignment.items():
        if key.startswith("catalog:"):
            continue
        node: Any = data
        parts = key.split(".")
        for part in parts[:-1]:
            node = _child(node, part, key, source)
        last = parts[-1]
        current = _child(node, last, key, source)
        new = _relative(current, value, f"{source}: key '{key}'")
        if isinstance(node, list):
            node[int(last)] = new
        else:
            node[last] = new
    return data


def _child(node: Any, part: str, key: str, source: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise InputError(source, f"key '{key}'", f"'{part}' is not in the spec")


def apply_catalog(base: dict[str, Any], assignment: dict[str, Any], source: str) -> dict[str, Any]:
    """A copy of the catalogue mapping with ``catalog:<sku>.<field>`` values applied."""
    data = copy.deepcopy(base)
    for key, value in assignment.items():
        if not key.startswith("catalog:"):
            continue
        sku, _, name = key[len("catalog:") :].rpartition(".")
        entries = [
            e
            for kind in ("servers", "drives", "batteries", "ups_frames")
            for e in data.get(kind, [])
            if e.get("sku") == sku
        ]
        if not entries:
            raise InputError(source, f"--catalog-vary {sku}", "no such SKU in the catalogue")
        entry = entries[0]
        if name not in entry:
            raise InputError(source, f"--catalog-vary {sku}", f"the SKU has no field '{name}'")
        entry[name] = _relative(entry[name], value, f"{source}: {sku}.{name}")
    return data


def reduction_key(spec: Spec) -> str:
    """What the profile's reduction depends on (envelope, workload pods, link): scenarios
    with the same key share one reduction."""
    return repr(
        (
            spec.site_names,
            spec.workloads,
            spec.horizon_years,
            spec.growth_per_year,
            spec.percentile,
            spec.overload,
            spec.link,
            spec.cpu_ceiling,
            spec.memory_ceiling,
            spec.fill_ceiling,
            spec.hot_failover,
            spec.service_life_years,
        )
    )


def size_scenario(
    index: int,
    assignment: dict[str, Any],
    spec: Spec,
    catalog: Catalog,
    profile: Profile,
    reduction: Reduction,
    options: SweepOptions,
) -> dict[str, Any]:
    """One scenario: solve, verify, plan, availability; errors become the row's status."""
    row: dict[str, Any] = {"scenario": index, **_input_columns(assignment)}
    try:
        row.update(_size(spec, catalog, profile, reduction, options))
        row["status"] = "ok"
    except Exception as error:  # a failed scenario must not lose the rest
        row["status"] = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
    return row


def _input_columns(assignment: dict[str, Any]) -> dict[str, Any]:
    """The scenario's values as text (a mapping as compact JSON, keys sorted)."""
    import json

    return {
        f"{INPUT_PREFIX}{k}": v
        if isinstance(v, str)
        else json.dumps(v, sort_keys=True, separators=(",", ":"))
        for k, v in assignment.items()
    }


def _size(
    spec: Spec, catalog: Catalog, profile: Profile, reduction: Reduction, options: SweepOptions
) -> dict[str, Any]:
    from planner.outputs.plan import build_plan, milp_solver
    from planner.simulate.runs import run_availability
    from planner.sizing.link import check_link
    from planner.sizing.search import optimise
    from planner.sizing.verify import verified

    check_link(reduction.link)
    solution = optimise(spec, catalog, reduction.envelope, reduction.sizings)
    report = verified(profile, spec, catalog, solution.fleets, reduction.sizings)
    plan = build_plan(
        inputs=(),
        profile=profile,
        spec=spec,
        catalog=catalog,
        envelope=reduction.envelope,
        fleets=solution.fleets,
        sizings=reduction.sizings,
        report=report,
        solver=milp_solver(),
        link=reduction.link,
    )
    out: dict[str, Any] = {
        "capex": plan["costs"]["capex"],
        "tco": plan["costs"]["tco"],
        "energy": plan["costs"]["energy"],
        "maintenance": plan["costs"]["maintenance"],
    }
    margins = [
        c["margin_pct"]
        for c in plan["constraints"]
        if c["kind"] == "capacity" and c.get("margin_pct") is not None
    ]
    out["min_margin_pct"] = min(margins) if margins else None
    for site in plan["sites"]:
        name = site["name"]
        out[f"{name}:servers"] = site["totals"]["servers"]
        out[f"{name}:cores"] = site["totals"]["cores"]
        out[f"{name}:drives"] = site["totals"]["drives"]
        out[f"{name}:battery_kwh"] = float(site["battery"].get("kwh_installed", 0.0))
        for s in site["servers"]:
            out[f"{name}:{s['sku']}"] = s["count"]
    if spec.power is not None and all(s["battery"].get("status") == "sized" for s in plan["sites"]):
        runs = run_availability(spec, plan, options.years, options.seed)
        result = runs["sized"].result
        out["downtime_min_per_year"] = result.mean_downtime_min
        out["downtime_ci99_high"] = result.ci99_downtime_min[1]
        out["years_with_downtime"] = int(result.years_with_downtime)
    return out


def load_bases(spec_path: Path, catalog_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    return load_yaml_mapping(spec_path), load_yaml_mapping(catalog_path)


def build_tasks(
    spec_base: dict[str, Any],
    catalog_base: dict[str, Any],
    plan: list[dict[str, Any]],
    spec_source: str,
    catalog_source: str,
) -> Iterator[tuple[int, dict[str, Any], Spec, Catalog]]:
    """Each scenario's validated spec and catalogue (a bad value stops the sweep before
    anything runs, with the key and the value named)."""
    for index, assignment in enumerate(plan):
        where = ", ".join(f"{k}={v}" for k, v in assignment.items()) or "base"
        spec = spec_from_mapping(
            apply_spec(spec_base, assignment, spec_source), f"{spec_source} [{where}]"
        )
        catalog = usable_catalog(
            spec,
            catalog_from_mapping(
                apply_catalog(catalog_base, assignment, catalog_source),
                f"{catalog_source} [{where}]",
            ),
            spec_source,
            catalog_source,
        )
        yield index, assignment, spec, catalog


def run_sweep(
    tasks: list[tuple[int, dict[str, Any], Spec, Catalog]],
    profile: Profile,
    client: Any,
    options: SweepOptions,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> SweepResult:
    """Run every task on the Dask ``client``; rows in scenario order."""
    from distributed import as_completed

    profile_future = client.scatter(profile, broadcast=True, hash=False)
    reductions: dict[str, Any] = {}
    futures = []
    for index, assignment, spec, catalog in tasks:
        key = reduction_key(spec)
        if key not in reductions:
            reductions[key] = client.submit(
                reduce_profile, profile_future, spec, pure=False, key=f"reduce-{len(reductions)}"
            )
        futures.append(
            client.submit(
                size_scenario,
                index,
                assignment,
                spec,
                catalog,
                profile_future,
                reductions[key],
                options,
                pure=False,
                key=f"scenario-{index}",
            )
        )
    rows: dict[int, dict[str, Any]] = {}
    finished = as_completed(futures)  # type: ignore[no-untyped-call]
    for done, future in enumerate(finished, start=1):
        index = int(str(future.key).rsplit("-", 1)[1])
        if future.status == "error":
            assignment = tasks[index][1]
            rows[index] = {
                "scenario": index,
                **_input_columns(assignment),
                "status": f"task failed: {future.exception()!r}"[:300],
            }
        else:
            rows[index] = future.result()
        progress(done, len(futures))
    return SweepResult([rows[i] for i in sorted(rows)], len(reductions))


def run_serial(
    tasks: list[tuple[int, dict[str, Any], Spec, Catalog]],
    profile: Profile,
    options: SweepOptions,
) -> SweepResult:
    """The same sweep in this process, one scenario after another (the baseline)."""
    reductions: dict[str, Reduction] = {}
    rows = []
    for index, assignment, spec, catalog in tasks:
        key = reduction_key(spec)
        if key not in reductions:
            reductions[key] = reduce_profile(profile, spec)
        rows.append(
            size_scenario(index, assignment, spec, catalog, profile, reductions[key], options)
        )
    return SweepResult(rows, len(reductions))


def table(result: SweepResult) -> Any:
    """The rows as a pandas DataFrame with a fixed column order."""
    import pandas as pd

    columns: list[str] = []
    for row in result.rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    first = ["scenario", *[c for c in columns if c.startswith(INPUT_PREFIX)], "status"]
    rest = sorted(c for c in columns if c not in first)
    return pd.DataFrame(result.rows, columns=[*first, *rest])


def sweep_document(
    inputs: Any,
    variations: tuple[Variation, ...],
    assignments: list[dict[str, Any]],
    profile_sha256: str = "",
) -> str:
    """sweep.json: the base inputs (names and hashes, the profile's as a plan records it),
    the variations and every scenario's values, so that `planner size --robust` rebuilds
    exactly these scenarios and `planner report --sweep` can tell whose sweep it is."""
    import json

    from planner.outputs.plan import file_sha256

    doc: dict[str, Any] = {
        "spec": {"name": inputs.spec.name, "sha256": file_sha256(inputs.spec)},
        "catalog": {"name": inputs.catalog.name, "sha256": file_sha256(inputs.catalog)},
        "variations": [{"key": v.key, "values": list(v.values)} for v in variations],
        "scenarios": assignments,
    }
    if profile_sha256:
        doc["profile"] = {"sha256": profile_sha256}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
