"""The tender pack: every requirement follows from the plan's figures, no brand or
planning SKU outside the reference configuration, quantities add up to the plan, and the
bid form evaluates."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from planner.inputs.catalog import default_catalog_path
from planner.outputs.tender.requirements import AT_LEAST, Requirement, Tender, phase
from tests.test_report import report_dir

BRANDS = ("Dell", "PowerEdge", "Samsung", "Micron", "Liebert", "Emerson", "Eaton", "Intel",
          "Xeon", "AMD", "EPYC", "Vertiv", "Schneider")  # fmt: skip


@cache
def tender() -> Tender:
    _, data = report_dir()
    assert data.tender is not None
    return data.tender


def resolve(source: str, plan: dict[str, Any]) -> float:
    """A requirement's source: a JSON pointer into the plan, a constraint's demand /
    capacity, or a field of the catalogue entry of the SKU at a plan position."""
    from tests.test_example import bundled_result

    catalog = bundled_result().catalog

    def pointer(path: str) -> Any:
        node: Any = plan
        for part in path.strip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    if m := re.fullmatch(r"plan:(/constraints/\d+)#ratio", source):
        c = pointer(m[1])
        return float(c["demand"]) / float(c["capacity"])
    if m := re.fullmatch(r"catalogue\[plan:(/sites/\d+/(servers|drives)/\d+)\]/(\w+)", source):
        sku = pointer(m[1])["sku"]
        entry = catalog.server(sku) if m[2] == "servers" else catalog.drive(sku)
        return float(getattr(entry, m[3]))
    if m := re.fullmatch(r"plan:(/.+)", source):
        return float(pointer(m[1]))
    raise AssertionError(f"unknown source {source}")


def all_requirements() -> list[Requirement]:
    return [r for lot in tender().lots for r in lot.requirements]


def test_every_requirement_is_the_product_of_plan_figures_rounded_the_safe_way() -> None:
    from tests.test_example import bundled_result

    plan = bundled_result().plan
    requirements = all_requirements()
    assert len(requirements) > 20
    for r in requirements:
        assert r.sources, r
        raw = 1.0
        for source in r.sources:
            raw *= resolve(source, plan)
        if r.bound == AT_LEAST:  # never ask for less than the plan needs
            assert raw <= r.value <= raw * 1.01 + 1e-9, r
        else:  # never allow more than the plan assumed
            assert raw * 0.99 - 1e-9 <= r.value <= raw, r


def test_requirements_cover_what_the_issue_names() -> None:
    whats = {(r.item.split(" type")[0].split(",")[0], r.what) for r in all_requirements()}
    for item, what in [
        ("Server", "physical CPU cores"),
        ("Server", "memory"),
        ("Server", "front NVMe drive bays (2.5-inch U.2/U.3)"),
        ("Server", "wall power at active idle"),
        ("Server", "wall power at 50 % load"),
        ("Server", "wall power at 100 % load"),
        ("Flash drive", "capacity"),
        ("Flash drive", "endurance over the warranty"),
        ("Flash drive", "4 KiB random read"),
        ("Flash drive", "4 KiB random write"),
        ("UPS and battery", "UPS output after losing 1 power module(s)"),
        ("UPS and battery", "independent battery strings"),
    ]:
        assert (item, what) in whats, (item, what)
    runtime = [r for r in all_requirements() if r.what.startswith("battery runtime at")]
    assert len(runtime) == 2  # one per site, at the site's design load


def test_no_brand_or_planning_sku_outside_the_reference_configuration() -> None:
    out, _ = report_dir()
    catalog_text = default_catalog_path().read_text()
    skus = re.findall(r"- sku: (\S+)", catalog_text)
    assert skus
    lines = (out / "tender.md").read_text().splitlines()
    cells = [
        str(c.value)
        for sheet in load_workbook(out / "tender.xlsx")
        for row in sheet.iter_rows()
        for c in row
        if c.value is not None
    ]
    checked = [x for x in lines if not x.startswith("- Reference configuration for ")] + cells
    for text in checked:
        for word in (*BRANDS, *skus):
            assert word not in text, f"{word!r} outside the reference configuration: {text}"
    references = [x for x in lines if x.startswith("- Reference configuration for ")]
    assert any("Dell" in x for x in references)  # the brands are there, and only there
    assert "or equivalent" in "\n".join(lines)


def test_quantities_add_up_to_the_plan_per_site() -> None:
    from tests.test_example import bundled_result

    plan = bundled_result().plan
    lot = tender().lots[0]
    for site in plan["sites"]:
        planned = sum(s["count"] for s in site["servers"]) + sum(d["count"] for d in site["drives"])
        tendered = sum(q.total for q in lot.quantities if q.site == site["name"])
        assert tendered == planned
        drives = [q for q in lot.quantities if q.site == site["name"] and q.spares_of == "drives"]
        assert drives[0].options, "growth should be bought as options"
        assert drives[0].firm < drives[0].total


def test_phasing_by_hand() -> None:
    # 10 drives for data 1, 2, 4, 8, 10 in years 0..4: each call-off carries the next year
    assert phase(10, [1, 2, 4, 8, 10]) == (2, ((1, 2), (2, 4), (3, 2)))
    assert phase(10, [10, 10, 10]) == (10, ())
    assert phase(7, [5.0]) == (7, ())


def test_bid_form_evaluates_to_the_independent_energy_figure() -> None:
    """Fill the bid form with the reference configuration's figures and recalculate:
    the energy of each row is count x P(u) x 8760 h x horizon x PUE x price."""
    from pycel import ExcelCompiler

    from tests.test_example import bundled_result

    out, _ = report_dir()
    plan = bundled_result().plan
    catalog = bundled_result().catalog
    path = out / "tender.xlsx"
    sheet = load_workbook(path)["Evaluation"]
    excel = ExcelCompiler(filename=str(path))
    rows = [r for r in range(7, sheet.max_row) if sheet[f"B{r}"].value]
    a = plan["assumptions"]
    names = {"Server type A": "r740-2x20c-384g", "Server type B": "r740xd-2x28c-768g",
             "Flash drive type A": "pm9a3-7t68"}  # fmt: skip
    total = 0.0
    excel.evaluate(f"Evaluation!M{sheet.max_row}")
    for r in rows:
        sku = names[sheet[f"B{r}"].value]
        count = sheet[f"C{r}"].value
        if sheet[f"B{r}"].value.startswith("Server"):
            server = catalog.server(sku)
            for col, w in zip("EFG", (server.idle_w, server.half_w, server.full_w), strict=True):
                excel.set_value(f"Evaluation!{col}{r}", w)
            u = sheet[f"D{r}"].value
            import numpy as np

            watts = float(np.interp(u, [0, 0.5, 1], [server.idle_w, server.half_w, server.full_w]))
        else:
            watts = catalog.drive(sku).watts
            excel.set_value(f"Evaluation!H{r}", watts)
        excel.set_value(f"Evaluation!I{r}", 1000.0)
        excel.set_value(f"Evaluation!J{r}", 100.0)
        energy = count * watts / 1000 * 8760 * a["horizon_years"] * a["pue"] * a[
            "energy_price_per_kwh"]  # fmt: skip
        assert excel.evaluate(f"Evaluation!L{r}") == pytest.approx(energy, rel=1e-9)
        total += energy + count * 1100.0
    assert excel.evaluate(f"Evaluation!M{sheet.max_row}") == pytest.approx(total, rel=1e-9)


def test_tender_command_writes_the_pack_and_names_open_items(tmp_path: Path) -> None:
    from planner.outputs.plan import write_plan
    from tests.test_example import bundled_result

    plan = tmp_path / "plan.json"
    write_plan(bundled_result().plan, plan)
    out = tmp_path / "tender"
    done = subprocess.run(
        [sys.executable, "-m", "planner", "tender", str(plan), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".planner-output.json",
        "tender.md",
        "tender.xlsx",
    ]
    assert "open before publishing: No SPEC CPU 2017 result" in done.stderr
    assert (out / "tender.md").read_text() == (report_dir()[0] / "tender.md").read_text()


def test_a_published_spec_cpu_result_becomes_a_requirement_and_closes_the_open_item() -> None:
    import dataclasses

    from planner.outputs.report.families import stored_by_year
    from planner.outputs.tender.requirements import build_tender
    from tests.test_example import bundled_result

    result = bundled_result()
    catalog = dataclasses.replace(
        result.catalog,
        servers=tuple(
            dataclasses.replace(s, spec_int_rate=123.4, spec_int_rate_result="CPU2017-test-1")
            for s in result.catalog.servers
        ),
    )
    _, stored = stored_by_year(result.profile, result.spec)
    pack = build_tender(result.plan, catalog, list(stored))
    rates = [r for lot in pack.lots for r in lot.requirements if r.what == "SPECrate2017_int_base"]
    assert [r.value for r in rates] == [124.0, 124.0]  # rounded up, never below the result
    assert all("CPU2017-test-1" in r.basis for r in rates)
    assert pack.open_items == ()


def test_catalogue_spec_cpu_needs_its_result_id(tmp_path: Path) -> None:
    from planner.errors import InputError
    from planner.inputs.catalog import read_catalog

    text = (
        default_catalog_path()
        .read_text()
        .replace(
            "    price: 150000", "    spec_cpu2017: {int_rate_base: 200}\n    price: 150000", 1
        )
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=r"spec_cpu2017.*result"):
        read_catalog(path)
