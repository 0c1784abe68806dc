"""`planner size --robust`: one MILP over every scenario of a sweep, verified in each."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from planner.errors import InputError
from planner.jobs.inputs import SizeInputs
from planner.jobs.robust import run_robust
from planner.jobs.size import run_size
from planner.jobs.sweep import parse_catalog_vary, parse_vary, scenarios, sweep_document
from planner.sizing.robust import Scenario, optimise_robust
from planner.sizing.search import optimise
from tests.conftest import base_spec, catalog, drive, envelope, server


def test_robust_fleet_by_hand() -> None:
    """N+1; big: 100 cores, 100 GiB at 200; small: 40 cores, 1000 GiB at 150.

    Scenario A needs 130 cores: two big and one small (550 a site). Scenario B needs
    1500 GiB: three small (450). Both at once: 5 small keep 160 cores and 4000 GiB after a
    loss (750); 4 small + 1 big (800) and 3 small + 2 big (850) cost more; 4 small keep
    only 120 cores and 3 small + 1 big only 120 after losing the big one. Two sites: 1500.
    """
    spec = base_spec()
    cat = catalog(
        [server("big", 100, 100, 200.0), server("small", 40, 1000, 150.0)], [drive("d1", 1.0)]
    )
    a, b = envelope(cpu_cores=130), envelope(memory_gib=1500)
    assert optimise(spec, cat, a, ()).objective == pytest.approx(1100.0)
    assert optimise(spec, cat, b, ()).objective == pytest.approx(900.0)
    both = optimise_robust((Scenario(spec, a, ()), Scenario(spec, b, ())), cat)
    assert both.objective == pytest.approx(1500.0)
    assert [f.servers for f in both.fleets] == [{"small": 5}, {"small": 5}]


def test_robust_over_redundancy_by_hand() -> None:
    """130 cores with N+1 (scenario A: 2 big + 1 small, 550 a site) or N+2 (scenario B).
    N+2 after losing the two largest: 3 big + 1 small keep 140 (750); 4 big (800),
    6 small (900), 1 big + 5 small (950) cost more; 2 big + 3 small keep only 120.
    The robust fleet is B's: 750 a site, and it holds A's N+1 too."""
    cat = catalog(
        [server("big", 100, 1000, 200.0), server("small", 40, 1000, 150.0)], [drive("d1", 1.0)]
    )
    need = envelope(cpu_cores=130)
    n1, n2 = base_spec(), base_spec(servers_lost=2)
    assert optimise(n2, cat, need, ()).objective == pytest.approx(1500.0)
    both = optimise_robust((Scenario(n1, need, ()), Scenario(n2, need, ())), cat)
    assert both.objective == pytest.approx(1500.0)
    assert [f.servers for f in both.fleets] == [{"big": 3, "small": 1}] * 2


def write_sweep(folder: Path, *vary: str) -> Path:
    inputs = SizeInputs.bundled()
    variations = tuple(parse_vary(v) for v in vary)
    folder.mkdir()
    (folder / "sweep.json").write_text(
        sweep_document(inputs, variations, scenarios(variations)), encoding="utf-8"
    )
    return folder


def test_robust_plan_covers_and_is_verified_in_every_scenario(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "s", "growth_per_year.cpu_cores=0.06,0.12")
    robust = run_robust(SizeInputs.bundled(), sweep)
    assert robust.plan["robust"]["scenarios"] == 2
    assert robust.plan["robust"]["verified"] == 2
    # the higher growth dominates every design value, so its fleet is the robust one
    import dataclasses

    from planner.inputs.yaml_loader import load_yaml_mapping
    from planner.jobs.sweep import apply_spec

    inputs = SizeInputs.bundled()
    high = tmp_path / "high.yaml"
    import yaml

    high.write_text(
        yaml.safe_dump(
            apply_spec(load_yaml_mapping(inputs.spec), {"growth_per_year.cpu_cores": 0.12}, "s")
        )
    )
    alone = run_size(dataclasses.replace(inputs, spec=high))
    servers = [{s["sku"]: s["count"] for s in site["servers"]} for site in robust.plan["sites"]]
    assert servers == [
        {s["sku"]: s["count"] for s in site["servers"]} for site in alone.plan["sites"]
    ]
    base = run_size(inputs)
    assert robust.plan["costs"]["capex"] >= base.plan["costs"]["capex"]


def test_robust_over_redundancy_on_the_example(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "s", "redundancy.servers=1,2")
    robust = run_robust(SizeInputs.bundled(), sweep)
    assert robust.plan["robust"]["distinct_specs"] == 2
    assert robust.plan["robust"]["verified"] == 2
    assert robust.plan["costs"]["capex"] > run_size(SizeInputs.bundled()).plan["costs"]["capex"]


def test_robust_refuses_other_hardware(tmp_path: Path) -> None:
    inputs = SizeInputs.bundled()
    variations = (parse_catalog_vary("pm1743-15t36.capacity_tb=15.36,7.68"),)
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "sweep.json").write_text(
        sweep_document(inputs, variations, scenarios(variations)), encoding="utf-8"
    )
    with pytest.raises(InputError, match="not a different SKU"):
        run_robust(inputs, folder)


def test_robust_refuses_a_sweep_of_another_spec(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "s", "growth_per_year.cpu_cores=0.06,0.12")
    other = tmp_path / "spec.yaml"
    other.write_text(SizeInputs.bundled().spec.read_text() + "\n# edited\n")
    import dataclasses

    with pytest.raises(InputError, match="another spec"):
        run_robust(dataclasses.replace(SizeInputs.bundled(), spec=other), sweep)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"scenarios": "growth"}, "key 'scenarios'"),
        ({"scenarios": [{}, 2]}, "key 'scenarios[1]'"),
        ({"spec": "spec.yaml"}, "key 'spec'"),
        ({"catalog": {"name": "c.yaml"}}, "key 'catalog'"),
    ],
)
def test_a_hand_edited_sweep_is_a_one_line_error_naming_the_key(
    tmp_path: Path, change: dict[str, Any], where: str
) -> None:
    import json

    folder = write_sweep(tmp_path / "s", "growth_per_year.cpu_cores=0.06,0.12")
    doc = json.loads((folder / "sweep.json").read_text())
    doc.update(change)
    (folder / "sweep.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match=rf"sweep\.json: {re.escape(where)}: .*planner sweep"):
        run_robust(SizeInputs.bundled(), folder)


def test_robust_refuses_more_scenarios_than_it_solves_stating_the_limit(tmp_path: Path) -> None:
    """40 scenarios ended in "Time limit reached" (exit 1) after minutes: refused up front,
    before any solve, with the limit named."""
    from planner.jobs.robust import MAX_ROBUST_SCENARIOS

    values = ",".join(f"{0.01 * i:.2f}" for i in range(40))
    sweep = write_sweep(tmp_path / "s", f"growth_per_year.cpu_cores={values}")
    with pytest.raises(InputError, match=f"takes at most {MAX_ROBUST_SCENARIOS}"):
        run_robust(SizeInputs.bundled(), sweep)
