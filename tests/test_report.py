"""The procurement report: HTML in a real headless browser, XLSX totals and formulas."""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

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
        "tender.md",
        "tender.xlsx",
    ]
    html = (out / "report.html").read_text()
    assert '<a href="tender.md">' in html
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
        family_text = page.inner_text("#families + p")
        availability_rows = page.eval_on_selector_all(
            "#availability ~ div table tbody tr",
            "els => els.map(e => Array.from(e.cells).map(c => c.innerText))",
        )
        board = page.inner_text("#board + .summary")
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.alt, e.complete && e.naturalWidth > 0])"
        )
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        headings = page.eval_on_selector_all("h1, h2, h3", "els => els.map(e => e.innerText)")
        page.emulate_media(media="print")
        page.pdf(path=str(ARTIFACTS / "report.pdf"), prefer_css_page_size=True)
        small = browser.new_page(viewport={"width": 414, "height": 900})
        small.goto((out / "report.html").as_uri())
        overflow = small.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        browser.close()
    assert [c for c in console if c.startswith(("error", "pageerror"))] == []
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    assert "Buy the hardware below" in summary
    assert "The old design lost 7.0 hours of clinical work. The new design loses none" in board
    assert "almost certainly with the old one" in board
    assert "What the design does not protect against" in board
    # the incident, survival, costs; per site every constraint family and the battery;
    # availability
    families = ("CPU", "Memory", "Read IOPS", "Write IOPS", "Stored data", "UPS load")
    alts = [alt for alt, _ in images]
    for site in data.sites:
        for family in families:
            assert any(a.startswith(family) and a.endswith(site.name) for a in alts), family
    assert len(images) == 3 + len(families) * len(data.sites) + len(data.sites) + 1
    # the availability figure is the one `simulate availability` gives with the same
    # plan, years and seed (the same run: planner.simulate.runs)
    from planner.simulate import SEED
    from planner.simulate.runs import run_availability
    from tests.test_example import bundled_result

    result = bundled_result()
    same = run_availability(result.spec, result.plan, 20_000, SEED)["sized"].result
    shown = {row[0]: row[1] for row in availability_rows}
    assert shown["sized design"] == f"{same.mean_downtime_min:.4f}"
    assert "ceiling" in family_text
    assert "physical capacity" in family_text
    assert images[0][0] == "The incident as reported, replayed on both designs"
    assert all(loaded for _, loaded in images), images
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
    assert overflow <= 0, f"the page is {overflow} px wider than a 414 px screen"
    check_printed_pdf(ARTIFACTS / "report.pdf", headings)


def check_printed_pdf(path: Path, headings: list[str]) -> None:
    """Every page is A4 (595 x 842 pt); no heading sits in the bottom fifth of a page with
    nothing under it (an image under a heading has no text, so position decides, not the
    order of the text); the footer names the plan and the page."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    assert len(reader.pages) > 3
    titles = {h.strip() for h in headings}
    for number, page in enumerate(reader.pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595.3) < 2
        assert abs(height - 841.9) < 2
        placed: list[tuple[float, str]] = []

        def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
            if text.strip():
                placed.append((float(tm[5]) * float(cm[3]) + float(cm[5]), text.strip()))  # noqa: B023

        page.extract_text(visitor_text=visit)
        footer = [t for _, t in placed if t.startswith("plan ") and "page" in t]
        assert footer, f"page {number} has no footer"
        bottom_margin = 20 / 25.4 * 72  # 20 mm: the footer lives below it
        content = [(y, t) for y, t in placed if y > bottom_margin]
        if number == len(reader.pages) or not content:
            continue
        lowest_y, lowest = min(content)
        assert not (lowest in titles and lowest_y < height / 5), (
            f"page {number} ends with the heading {lowest}"
        )


def test_xlsx_totals_match_the_plan_and_formulas_evaluate() -> None:
    from pycel import ExcelCompiler

    out, data = report_dir()
    path = out / "bill-of-materials.xlsx"
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Totals", "TCO", "Inputs", "holstebro", "skejby", "Cash flow"]
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


def test_report_prints_the_same_availability_figure_as_the_command(tmp_path: Path) -> None:
    """One run, two outputs: `report` and `simulate availability` with the same plan, years
    and seed print the same expected downtime."""
    import re

    from click.testing import CliRunner

    from planner.cli import main

    plan = Path(__file__).resolve().parent.parent / "stacks" / "prod" / "plan.json"
    args = ["--years", "20000", "--seed", "11"]
    command = CliRunner().invoke(main, ["simulate", "availability", str(plan), *args])
    assert command.exit_code == 0, command.output
    report = CliRunner().invoke(main, ["report", str(plan), *args, "--out", str(tmp_path / "r")])
    assert report.exit_code == 0, report.output
    shown = re.search(
        r"sized design \(both sites\): expected clinical downtime ([0-9.]+)", command.output
    )
    assert shown is not None
    summary = (tmp_path / "r" / "summary.md").read_text()
    assert f"expected clinical downtime {shown[1]} minutes a year" in summary
    assert "simulated over 20,000 years, seed 11" in summary


def test_xlsx_recalculates_to_what_the_planner_gives_for_a_changed_price(tmp_path: Path) -> None:
    """Raise the drive price by 1 % in the workbook's bill of materials and recalculate
    (pycel): maintenance, energy, TCO and NPV (at a discount rate of 0) equal what
    `planner size` gives with that price in the catalogue (the same fleet)."""
    import yaml
    from pycel import ExcelCompiler

    from planner.inputs.catalog import default_catalog_path
    from planner.jobs.size import SizeInputs, run_size

    out, data = report_dir()
    path = out / "bill-of-materials.xlsx"
    workbook = load_workbook(path)
    site = data.plan["sites"][0]
    drive = site["drives"][0]["sku"]
    sheet = workbook[site["name"]]
    row = next(c.row for c in sheet["B"] if c.value == drive)
    old_price = sheet[f"E{row}"].value
    new_price = round(old_price * 1.01, 2)

    catalog = yaml.safe_load(default_catalog_path().read_text())
    for item in catalog["drives"]:
        if item["sku"] == drive:
            item["price"] = new_price
    changed = tmp_path / "catalog.yaml"
    changed.write_text(yaml.safe_dump(catalog, sort_keys=False))
    fresh = run_size(SizeInputs(None, SizeInputs.bundled().spec, changed)).plan

    def counts(plan: dict[str, Any]) -> list[dict[str, int]]:
        return [{d["sku"]: d["count"] for d in s["drives"] + s["servers"]} for s in plan["sites"]]

    assert counts(fresh) == counts(data.plan)
    assert fresh["costs"]["tco"] > data.plan["costs"]["tco"]  # the change shows in the TCO

    excel = ExcelCompiler(filename=str(path))
    last = workbook["Cash flow"].max_row
    excel.evaluate(f"'Cash flow'!G{last}")  # places every cell it depends on in the map
    for s in data.plan["sites"]:
        excel.set_value(f"'{s['name']}'!E{row}", new_price)  # the same line on each sheet
    for i, s in enumerate(fresh["sites"]):
        assert excel.evaluate(f"TCO!C{4 + i}") == pytest.approx(s["costs"]["maintenance"], rel=1e-6)
        assert excel.evaluate(f"TCO!D{4 + i}") == pytest.approx(s["costs"]["energy"], rel=1e-6)
        assert excel.evaluate(f"TCO!E{4 + i}") == pytest.approx(s["costs"]["tco"], rel=1e-6)
    assert excel.evaluate(f"'Cash flow'!G{last}") == pytest.approx(fresh["costs"]["tco"], rel=1e-6)
    assert workbook["Inputs"]["B7"].value == 0  # the discount rate: 0 reproduces the TCO
