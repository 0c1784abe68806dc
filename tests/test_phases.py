"""Phased purchasing: a hand-solvable schedule, the single purchase reproduced exactly,
and the command's plan with its schedule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.jobs.inputs import SizeInputs, load_inputs
from planner.jobs.phased import solve_phases
from planner.jobs.size import run_size
from planner.sizing.phases import (
    PeriodInputs,
    discount_sum,
    optimise_phased,
    period_spec,
    periods,
)
from tests.conftest import base_spec, catalog, drive, envelope, run_cli, server


def test_discount_sum_by_hand() -> None:
    assert discount_sum(0, 5, 0.0) == pytest.approx(5.0)
    assert discount_sum(0, 2, 0.1) == pytest.approx(1 + 1 / 1.1)
    assert discount_sum(1, 2.5, 0.1) == pytest.approx(1 / 1.1 + 0.5 / 1.21)


def test_two_phases_are_cheaper_and_found() -> None:
    """One 100-core server model at 100, N+1. Years 0-2 need 100 cores (2 servers), years
    2-4 need 200 (3 servers). Buying all 3 at the start: 300. Buying 2 now and 1 in year 2,
    when the price has fallen 10 % a year and money is discounted at 5 %:
    200 + 100 x 0.9^2 / 1.05^2 = 273.469... The model finds the schedule."""
    spec = base_spec(
        horizon_years=4.0,
        discount_rate_per_year=0.05,
        price_decline_per_year={"servers": 0.1},
        price_decline_source="test",
    )
    cat = catalog([server("s100", 100, 1000, 100.0)], [drive("d1", 1.0)])
    spans = periods((0.0, 2.0), 4.0)
    need = (envelope(cpu_cores=100), envelope(cpu_cores=200))
    inputs = tuple(
        PeriodInputs(p, period_spec(spec, p, last=p is spans[-1]), env, ())
        for p, env in zip(spans, need, strict=True)
    )
    solution = optimise_phased(spec, cat, inputs)
    per_site = 200 + 100 * 0.9**2 / 1.05**2
    assert solution.objective == pytest.approx(2 * per_site, rel=1e-9)
    assert solution.bought[0] == {"alpha": {"s100": 2}, "beta": {"s100": 2}}
    assert solution.bought[1] == {"alpha": {"s100": 1}, "beta": {"s100": 1}}
    once = optimise_phased(spec, cat, (PeriodInputs(periods((0.0,), 4.0)[0],
                                                   period_spec(spec, spans[0], True),
                                                   need[1], ()),))  # fmt: skip
    assert once.objective == pytest.approx(600.0)


def test_one_purchase_without_discount_or_decline_is_the_plain_plan() -> None:
    inputs = SizeInputs.bundled()
    spec, cat, profile, _ = load_inputs(inputs)
    assert profile is not None
    _, phased = solve_phases(profile, spec, cat, (0.0,))
    plain = run_size(inputs)
    assert phased.objective == pytest.approx(plain.solution.objective, rel=1e-12)
    assert phased.installed[-1] == plain.solution.fleets


def test_size_with_phases_writes_the_schedule(tmp_path: Path) -> None:
    done = run_cli(["size", "--phases", "0,2,4", "--out", "p.json"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Purchase schedule" in done.stdout
    from planner.outputs.plan import read_plan

    plan = read_plan(tmp_path / "p.json")  # schema and digest checked
    p = plan["purchases"]
    assert p["years"] == [0, 2, 4]
    assert p["present_value"] <= p["present_value_all_at_start"] + 1e-6
    # what was bought adds up to the fleet at the horizon
    for site in plan["sites"]:
        total: dict[str, int] = {}
        for step in p["schedule"]:
            for sku, n in step["sites"][site["name"]].items():
                total[sku] = total.get(sku, 0) + n
        fleet = {x["sku"]: x["count"] for x in site["servers"] + site["drives"]}
        assert total == fleet
    bad = run_cli(["size", "--phases", "1,3", "--out", "q.json"], tmp_path)
    assert bad.returncode == 2
    assert "first purchase year must be 0" in bad.stderr
    assert not (tmp_path / "q.json").exists()
    assert json.loads((tmp_path / "p.json").read_text())["purchases"]["saving"] >= 0


def test_report_and_tender_show_the_schedule(tmp_path: Path) -> None:
    from planner.jobs.phased import run_phased
    from planner.outputs.report.build import gather, write_report

    result = run_phased(SizeInputs.bundled(), (0.0, 2.0, 4.0))
    data = gather(result.plan, result.spec, result.catalog, result.profile, years=200)
    write_report(data, tmp_path / "r")
    html = (tmp_path / "r" / "report.html").read_text()
    assert 'id="purchases"' in html
    assert f"{result.plan['purchases']['present_value']:,.0f}" in html
    assert data.tender is not None
    schedule = result.plan["purchases"]["schedule"]
    plan = result.plan
    servers = sorted({s["sku"] for site in plan["sites"] for s in site["servers"]})
    drives = sorted({d["sku"] for site in plan["sites"] for d in site["drives"]})
    names = {f"Server type {chr(65 + i)} (reference)": sku for i, sku in enumerate(servers)}
    names |= {f"Flash drive type {chr(65 + i)} (reference)": sku for i, sku in enumerate(drives)}
    for q in data.tender.lots[0].quantities:
        sku = names[q.item]
        assert q.firm == schedule[0]["sites"][q.site].get(sku, 0)
        later = [(round(s["year"]), s["sites"][q.site].get(sku, 0)) for s in schedule[1:]]
        assert q.options == tuple((y, n) for y, n in later if n)
