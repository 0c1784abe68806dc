"""The procurement report: HTML in a real headless browser, XLSX totals and formulas."""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path

import pytest
from openpyxl import load_workbook

from planner.outputs.report.build import gather, write_report
from planner.outputs.report.data import ReportData
from tests.test_example import bundled_result

ARTIFACTS = Path(__file__).resolve().parent.parent / "out" / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@cache
def report_dir() -> tuple[Path, ReportData]:
    result = bundled_result()
    data = gather(result.plan, result.spec, result.catalog, result.profile, years=20_000)
    out = ARTIFACTS / "report"
    write_report(data, out)
    return out, data


def test_report_files_are_written() -> None:
    out, _ = report_dir()
    assert sorted(p.name for p in out.iterdir()) == [
        ".planner-output.json",
        "bill-of-materials.xlsx",
        "report.html",
        "summary.md",
    ]
    html = (out / "report.html").read_text()
    for forbidden in ("http://", "https://", "<script"):
        assert forbidden not in html
    summary = (out / "summary.md").read_text()
    plan = bundled_result().plan
    assert f"{plan['costs']['tco']:,.0f}" in summary


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("REQUIRE_BROWSER"),
    reason="Debian's chromium is not installed (.ci/run installs it)",
)
def test_html_report_in_a_headless_browser() -> None:
    """Loads with no console errors and no network requests, shows the summary and every
    chart; a screenshot is kept in out/test-artifacts."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "REQUIRE_BROWSER is set but chromium is missing"
    out, data = report_dir()
    console: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((out / "report.html").as_uri())
        page.wait_for_load_state("networkidle")
        summary = page.inner_text("#summary + .summary")
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.alt, e.complete && e.naturalWidth > 0])"
        )
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert [c for c in console if c.startswith(("error", "pageerror"))] == []
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    assert "Buy the hardware below" in summary
    expected = 1 + 2 * len(data.sites) + 1  # costs, envelope and battery per site, availability
    assert len(images) == expected
    assert all(loaded for _, loaded in images), images
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_xlsx_totals_match_the_plan_and_formulas_evaluate() -> None:
    from pycel import ExcelCompiler

    out, data = report_dir()
    path = out / "bill-of-materials.xlsx"
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Totals", "TCO", "holstebro", "skejby"]
    plan = data.plan
    excel = ExcelCompiler(filename=str(path))
    for i, site in enumerate(plan["sites"]):
        sheet = workbook[site["name"]]
        formulas = [
            c.value for c in sheet["G"] if isinstance(c.value, str) and c.value.startswith("=")
        ]
        assert formulas, "line totals are formulas"
        purchase = excel.evaluate(f"Totals!B{4 + i}")
        assert purchase == pytest.approx(site["costs"]["capex"], rel=1e-9)
        tco = excel.evaluate(f"TCO!E{4 + i}")
        assert tco == pytest.approx(site["costs"]["tco"], rel=1e-6)
        units = excel.evaluate(f"Totals!C{4 + i}")
        assert units == site["totals"]["rack_units"]
    both = excel.evaluate(f"Totals!B{4 + len(plan['sites'])}")
    assert both == pytest.approx(plan["costs"]["capex"], rel=1e-9)
    assert excel.evaluate(f"TCO!E{4 + len(plan['sites'])}") == pytest.approx(
        plan["costs"]["tco"], rel=1e-6
    )
    assert workbook["holstebro"].page_setup.orientation == "landscape"
