"""The report's what-if section: main effects and alternatives by hand, and the tornado
chart and the alternatives table in a real browser."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pandas as pd
import pytest

from planner.errors import InputError
from planner.outputs.report.whatif import read_sweep, what_if
from tests.test_report import ARTIFACTS, CHROMIUM, report_dir


def hand_table() -> pd.DataFrame:
    # growth a in {1, 2} x price p in {lo, hi}; TCO = 10 a + (1 if hi); one infeasible
    return pd.DataFrame(
        {
            "scenario": [0, 1, 2, 3, 4],
            "in:a": ["1", "1", "2", "2", "3"],
            "in:p": ["lo", "hi", "lo", "hi", "lo"],
            "status": ["ok", "ok", "ok", "ok", "InfeasibleError: too big"],
            "tco": [10.0, 11.0, 20.0, 21.0, None],
            "downtime_min_per_year": [0.5, 0.5, 0.1, 0.1, None],
            "x:servers": [4, 4, 6, 6, None],
        }
    )


def test_main_effects_and_alternatives_by_hand() -> None:
    w = what_if(hand_table(), chosen_tco=11.0, sites=("x",))
    assert (w.scenarios, w.failed) == (5, 1)
    a, p = w.tco  # sorted by the width of the bar: a moves TCO by 10, p by 1
    assert (a.key, a.low, a.high, a.low_at, a.high_at) == ("a", 10.5, 20.5, "1", "2")
    assert (p.key, p.low, p.high, p.low_at, p.high_at) == ("p", 15.0, 16.0, "lo", "hi")
    assert [(e.key, e.low, e.high) for e in w.downtime] == [("a", 0.1, 0.5), ("p", 0.3, 0.3)]
    cheapest = {(x.key, x.value): x for x in w.alternatives}
    assert cheapest[("a", "2")].tco == 20.0
    assert cheapest[("a", "2")].difference == 9.0
    assert cheapest[("a", "2")].fleet == "x 6 servers"
    assert cheapest[("a", "3")].tco is None  # no feasible scenario with a = 3
    assert cheapest[("p", "hi")].scenarios == 2


def test_read_sweep_needs_the_sweep_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"sweep\.parquet"):
        read_sweep(tmp_path)


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("REQUIRE_BROWSER"),
    reason="Debian's chromium is not installed (.ci/run installs it)",
)
def test_tornado_and_alternatives_in_the_browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from planner.outputs.report.build import write_report

    _, data = report_dir()
    frame = hand_table()
    frame["holstebro:servers"] = [22, 22, 26, 26, None]
    frame["skejby:servers"] = [25, 25, 29, 29, None]
    frame["tco"] = frame["tco"] * 1e6
    chosen = data.plan["costs"]["tco"]
    with_sweep = dataclasses.replace(data, what_if=what_if(frame, chosen, ("holstebro", "skejby")))
    out = tmp_path / "report"
    write_report(with_sweep, out)
    assert CHROMIUM is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto((out / "report.html").as_uri())
        tornado = page.eval_on_selector(
            "img[alt^='What moves the answer']", "e => e.complete && e.naturalWidth > 0"
        )
        rows = page.eval_on_selector_all(
            "#alternatives table tbody tr",
            "els => els.map(e => Array.from(e.cells).map(c => c.innerText))",
        )
        page.screenshot(path=str(ARTIFACTS / "report-whatif.png"), full_page=True)
        browser.close()
    assert tornado
    by_value = {(r[0], r[1]): r for r in rows if len(r) == 6}
    assert by_value[("a", "2")][3] == "20,000,000"
    assert by_value[("a", "2")][4] == f"{20e6 - chosen:+,.0f}"
    assert by_value[("a", "3")][3] == "-"
    assert by_value[("a", "1")][5] == "holstebro 22 servers, skejby 25 servers"


@pytest.mark.parametrize("fault", ["truncated", "not-parquet", "text-tco"])
def test_a_broken_sweep_table_is_named(tmp_path: Path, fault: str) -> None:
    path = tmp_path / "sweep.parquet"
    if fault == "text-tco":
        hand_table().assign(tco=["a", "b", "c", "d", "e"]).to_parquet(path)
        match = r"sweep\.parquet: column 'tco': expected numbers"
    else:
        hand_table().to_parquet(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if fault == "truncated" else b"tco,status\n1,ok\n")
        match = r"sweep\.parquet: not a readable Parquet sweep table"
    with pytest.raises(InputError, match=match):
        read_sweep(tmp_path)


def test_a_sweep_of_other_inputs_is_refused_for_the_report(tmp_path: Path) -> None:
    """`planner report --sweep` only compares a plan with alternatives sized from the same
    spec, catalogue and profile (sweep.json records their hashes)."""
    import json

    from planner.jobs.robust import check_sweep_of
    from tests.test_example import bundled_result

    plan = bundled_result().plan
    folder = tmp_path / "sweep"
    folder.mkdir()
    doc = {kind: dict(plan["inputs"][kind]) for kind in ("spec", "catalog", "profile")}
    doc["scenarios"] = []
    (folder / "sweep.json").write_text(json.dumps(doc))
    check_sweep_of(plan, folder)  # its own inputs: fine
    for kind in ("spec", "catalog", "profile"):
        other = {**doc, kind: {"sha256": "0" * 64}}
        (folder / "sweep.json").write_text(json.dumps(other))
        with pytest.raises(InputError, match=rf"key '{kind}\.sha256'.*another {kind}"):
            check_sweep_of(plan, folder)
