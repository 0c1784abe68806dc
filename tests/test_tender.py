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

    if source.startswith("1/"):
        return 1.0 / resolve(source[2:], plan)
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
    """Per site, by function: throughput, memory, flash, IOPS, endurance after losing
    servers; no fixed server type, no per-server power limit; lot 2 as before."""
    whats = {(r.item.split(",")[0], r.what.split(":")[0]) for r in all_requirements()}
    for item, what in [
        ("Servers and flash", "CPU throughput of the servers left after losing the 1 with the "
         "highest"),
        ("Servers and flash", "memory of the servers left after losing the 1 with the most, less "
         "16 GiB per server"),
        ("Servers and flash", "raw flash on the servers left after losing the 1 holding the most"),
        ("Servers and flash", "4 KiB random read IOPS of the drives left after losing the 1 "
         "servers holding the most"),
        ("Servers and flash", "rated endurance of all drives (TBW = DWPD x TB x 365 x warranty "
         "years)"),
        ("Servers and flash", "height of all servers"),
        ("UPS and battery", "UPS output after losing 1 power module(s)"),
        ("UPS and battery", "independent battery strings"),
    ]:  # fmt: skip
        assert (item, what) in whats, (item, what)
    assert not [r for r in all_requirements() if r.unit == "W" or "wall power" in r.what]
    assert not [r for r in all_requirements() if r.item.startswith("Server type")]
    runtime = [r for r in all_requirements() if r.what.startswith("battery runtime at")]
    assert len(runtime) == 2  # one per site, at the site's design load
    cpu = [r for r in all_requirements() if r.unit == "SPECrate2017_int_base"]
    assert len(cpu) == 2
    assert all("res2018q3/cpu2017-20180820-08531" in r.basis for r in cpu)


def test_the_pack_leaves_nothing_silently_out() -> None:
    text = (report_dir()[0] / "tender.md").read_text()
    left = text.split("## Left to the contracting authority")[1].split("\n## ")[0]
    for needed in ("ESPD", "exclusion", "selection criteria", "CPV", "estimated contract value",
                   "lots per tenderer", "acceptance", "contract term", "CE marking", "RoHS",
                   "2019/424", "2023/1542", "data processing agreement"):  # fmt: skip
        assert needed in left, needed
    assert "120 days" not in text
    assert "fixed for the whole contract term, or indexed" in text
    assert "Lot 2: TCO" in text
    assert "Quantities are the tenderer's" in text
    assert "## Pod table for holstebro (lost-skejby)" in text
    book = load_workbook(report_dir()[0] / "tender.xlsx")
    assert book["Drives"].cell(1, 9).value == "spare unit price"
    assert "spare module price" in [c.value for c in book["Power"][1]]


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
    assert "open before publishing" not in done.stderr  # the example names its hardware
    assert (out / "tender.md").read_text() == (report_dir()[0] / "tender.md").read_text()


def test_without_measured_hardware_cpu_is_in_cores_and_an_open_item() -> None:
    import dataclasses

    from planner.outputs.report.families import stored_by_year
    from planner.outputs.tender.requirements import build_tender
    from tests.test_example import bundled_result

    result = bundled_result()
    plan = {**result.plan, "cpu_normalisation": {"normalised": False, "rule": "test"}}
    spec = dataclasses.replace(result.spec, measured_on=None)
    _, stored = stored_by_year(result.profile, spec)
    pack = build_tender(plan, spec, result.catalog, list(stored))
    cpu = [r for lot in pack.lots for r in lot.requirements if r.what.startswith("physical")]
    assert [r.unit for r in cpu] == ["cores", "cores"]
    assert pack.open_items
    assert "measured_on" in pack.open_items[0]


def test_catalogue_spec_cpu_needs_its_result_id(tmp_path: Path) -> None:
    from planner.errors import InputError
    from planner.inputs.catalog import read_catalog

    text = (
        default_catalog_path()
        .read_text()
        .replace(
            "{int_rate_base: 1310, result: res2025q1/cpu2017-20250310-46876}",
            "{int_rate_base: 1310}",
            1,
        )
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=r"spec_cpu2017.*result"):
        read_catalog(path)


def test_the_bid_form_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    """No creation time in the workbook: the same plan gives the same tender.xlsx."""
    import time

    from planner.outputs.tender.write import write_xlsx

    write_xlsx(tender(), tmp_path / "a.xlsx")
    time.sleep(1.1)  # a clock-stamped workbook would differ by now
    write_xlsx(tender(), tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_the_tender_states_a_per_bay_reservation_for_any_offered_model() -> None:
    from planner.outputs.tender.functional import _reserved

    assert _reserved(16.0, 0.0) == "16"
    assert _reserved(16.0, 4.66) == "(16 + 4.66 x its drive bays)"
