"""`planner tender evaluate`: four offers in the pack's own bid form, checked by the
sizing's verifier and ranked by the tender's model; the form's formulas agree."""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from planner.inputs.bids import DRIVE_COLUMNS, POWER_COLUMNS, SERVER_COLUMNS, read_bid
from tests.test_report import report_dir


@cache
def reference() -> dict[str, Any]:
    """The bundled plan's reference configuration, as a tenderer would fill the form."""
    from tests.test_example import bundled_result

    result = bundled_result()
    plan, catalog = result.plan, result.catalog
    sites = [s["name"] for s in plan["sites"]]
    servers: dict[str, dict[str, Any]] = {}
    drives: dict[str, dict[str, Any]] = {}
    power = {}
    for site in plan["sites"]:
        for s in site["servers"]:
            sv = catalog.server(s["sku"])
            row = servers.setdefault(sv.sku, {
                "model": sv.sku, "processor": sv.cpu, "cores": sv.cores,
                "threads_per_core": sv.threads_per_core, "memory_gib": sv.memory_gib,
                "drive_bays": sv.drive_bays, "rack_units": sv.rack_units,
                "int_rate_base": sv.spec_int_rate, "int_rate_result": sv.spec_int_rate_result,
                "idle_w": sv.idle_w, "half_w": sv.half_w, "full_w": sv.full_w,
                "power_result": "test", "price": sv.price, "support": 20000.0,
                "counts": dict.fromkeys(sites, 0)})  # fmt: skip
            row["counts"][site["name"]] = s["count"]
        for d in site["drives"]:
            dv = catalog.drive(d["sku"])
            row = drives.setdefault(dv.sku, {
                "model": dv.sku, "capacity_tb": dv.capacity_tb, "read_iops": dv.read_iops,
                "write_iops": dv.write_iops, "dwpd": dv.dwpd, "watts": dv.watts,
                "price": dv.price, "support": 500.0, "spare_price": dv.price * 1.1,
                "counts": dict.fromkeys(sites, 0)})  # fmt: skip
            row["counts"][site["name"]] = d["count"]
        b = site["battery"]
        module = catalog.battery(b["modules"][0]["sku"])
        frame = catalog.ups_frame(b["ups_frames"][0]["sku"])
        power[site["name"]] = {
            "site": site["name"], "frame": frame.sku, "frame_kw": frame.kw,
            "efficiency": frame.efficiency, "dc_min_v": frame.dc_min_v,
            "dc_max_v": frame.dc_max_v, "frames": b["ups_frames"][0]["count"],
            "frame_price": frame.price, "frame_support": 5000.0, "module": module.sku,
            "chemistry": module.chemistry, "module_kwh": module.kwh, "module_v": module.module_v,
            "module_kw": module.max_kw, "module_life_years": module.service_life_years,
            "modules": b["modules"][0]["count"], "strings": b["strings"],
            "module_price": module.price, "spare_module_price": module.price,
            # the law the planner uses for this module, written out as a table
            "runtime_table": "; ".join(
                f"{f:g}:{module.rated_minutes * (1 / f) ** module.runtime_exponent:.6g}"
                for f in (0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0)),
        }  # fmt: skip
    return {"sites": sites, "servers": list(servers.values()), "drives": list(drives.values()),
            "power": power}  # fmt: skip


def fill(path: Path, offer: dict[str, Any], tenderer: str) -> Path:
    """The pack's tender.xlsx with ``offer`` written into its input cells."""
    book = load_workbook(report_dir()[0] / "tender.xlsx")
    book["Bid"]["B1"] = tenderer
    sites = offer["sites"]
    for sheet, columns, rows in (("Servers", SERVER_COLUMNS, offer["servers"]),
                                 ("Drives", DRIVE_COLUMNS, offer["drives"])):  # fmt: skip
        for r, row in enumerate(rows, start=2):
            for c, (_, key, _) in enumerate(columns, start=1):
                book[sheet].cell(r, c, row[key])
            for j, site in enumerate(sites):
                book[sheet].cell(r, len(columns) + 1 + j, row["counts"][site])
    for r in range(2, 2 + len(sites)):
        site = book["Power"].cell(r, 1).value
        for c, (_, key, _) in enumerate(POWER_COLUMNS[1:], start=2):
            book["Power"].cell(r, c, offer["power"][site][key])
    book.save(path)
    return path


def variant(**changes: Any) -> dict[str, Any]:
    """The reference offer with each server row changed by ``changes``."""
    ref = reference()
    return {**ref, "servers": [{**s, **changes} for s in ref["servers"]]}


@cache
def offers(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    ref = reference()
    big = {**ref["servers"][0], "model": "big-2x192c-1536g", "cores": 384,
           "memory_gib": 1536.0, "int_rate_base": 2990.0, "price": 900000.0}  # fmt: skip
    small = {**ref["servers"][0], "model": "small-2x64c-256g", "memory_gib": 256.0,
             "price": 150000.0}  # fmt: skip
    sites = ref["sites"]
    placement = {**ref, "servers": [
        {**big, "counts": dict.fromkeys(sites, 3)},
        {**small, "counts": dict.fromkeys(sites, 4)}]}  # fmt: skip
    return {
        "compliant": fill(folder / "a.xlsx", ref, "Compliant A/S"),
        "memory": fill(folder / "b.xlsx", variant(memory_gib=448.0), "Short Memory ApS"),
        "placement": fill(folder / "c.xlsx", placement, "Big Boxes Ltd"),
        "energy": fill(
            folder / "d.xlsx",
            variant(
                price=ref["servers"][0]["price"] * 0.95, idle_w=400.0, half_w=900.0, full_w=1600.0
            ),
            "Cheap Hot GmbH",
        ),
    }


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    from planner.outputs.plan import write_plan
    from tests.test_example import bundled_result

    folder = tmp_path_factory.mktemp("bids")
    offers(folder / "in")
    plan = folder / "plan.json"
    write_plan(bundled_result().plan, plan)
    out = folder / "out"
    done = subprocess.run(
        [sys.executable, "-m", "planner", "tender", "evaluate", str(folder / "in"),
         "--plan", str(plan), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout, (out / "evaluation.md").read_text()


def test_the_four_offers_rank_and_fail_as_they_should(evaluated: tuple[str, str]) -> None:
    table, report = evaluated
    lot1 = table.split("Lot 2")[0].splitlines()
    assert lot1[1].split()[:2] == ["1", "Compliant"]  # the reference configuration wins
    assert lot1[2].split()[:2] == ["2", "Cheap"]  # cheaper to buy, dearer to run
    failing = [line for line in lot1 if line.strip().startswith("-")]
    assert len(failing) == 2
    memory = report.split("## Offer: Short Memory ApS")[1].split("## Offer:")[0]
    assert "memory_gib N+1 at holstebro/lost-skejby" in memory
    assert "short by" in memory
    # 448 GiB less the node reservation (16 GiB) hosts one 396 GiB database pod
    assert "placement epr-db (servers able to host a pod, N+1)" not in memory
    boxes = report.split("## Offer: Big Boxes Ltd")[1].split("## Offer:")[0]
    assert "placement epr-db (servers able to host a pod, N+1) at holstebro: 3.0 servers" in boxes
    assert "pods placed after losing any 1 server(s) (FAILS after losing" in boxes
    assert "memory_gib N+1" not in boxes  # enough memory in all, in the wrong boxes
    compliant = report.split("## Offer: Compliant A/S")[1].split("## Offer:")[0]
    assert compliant.count("Meets every requirement.") == 2  # both lots


def test_the_cheaper_offer_loses_on_its_own_energy_curve(evaluated: tuple[str, str]) -> None:
    _, report = evaluated

    def terms(name: str) -> dict[str, float]:
        section = report.split(f"## Offer: {name}")[1].split("### Lot 2")[0]
        inside = section.split("(", 1)[1].split(")", 1)[0]
        return {k: float(v.replace(",", "")) for k, v in (t.rsplit(" ", 1) for t in
                                                          inside.split(", "))}  # fmt: skip

    cheap, good = terms("Cheap Hot GmbH"), terms("Compliant A/S")
    assert cheap["purchase"] < good["purchase"]
    assert cheap["energy"] - good["energy"] > good["purchase"] - cheap["purchase"]


def test_the_bid_form_computes_the_same_tco(tmp_path: Path) -> None:
    """pycel recalculates the filled form: both lots' TCO equal the evaluation's."""
    from pycel import ExcelCompiler

    from planner.jobs.tender_eval import lot1_costs, lot2_costs, offer_catalog
    from tests.test_example import bundled_result

    result = bundled_result()
    path = offers(tmp_path)["energy"]
    tender = report_dir()[1].tender
    assert tender is not None
    sites = reference()["sites"]
    bid = read_bid(path, sites)
    from planner.simulate.plan_fleet import fleets_from_plan

    fleets = fleets_from_plan(result.plan, "plan")
    catalog, offered = offer_catalog(bid, result.spec, result.catalog, fleets, "plan")
    lot1, _ = lot1_costs(bid, catalog, offered, result.plan, tender.evaluation)
    lot2 = lot2_costs(bid, tender.evaluation)
    excel = ExcelCompiler(filename=str(path))
    sheet = load_workbook(path)["Evaluation"]
    rows = {sheet.cell(r, 1).value: r for r in range(1, sheet.max_row + 1)}
    lot1_row = next(r for k, r in rows.items() if str(k).startswith("Lot 1 TCO"))
    lot2_row = next(r for k, r in rows.items() if str(k).startswith("Lot 2 TCO"))
    assert excel.evaluate(f"Evaluation!B{lot1_row}") == pytest.approx(sum(lot1.values()), rel=1e-9)
    assert excel.evaluate(f"Evaluation!B{lot2_row}") == pytest.approx(sum(lot2.values()), rel=1e-9)


def test_a_form_with_a_bad_cell_names_it(tmp_path: Path) -> None:
    path = offers(tmp_path)["compliant"]
    book = load_workbook(path)
    book["Servers"]["E2"] = "lots"
    book.save(path)
    with pytest.raises(Exception, match=r"sheet 'Servers' row 2 column 'memory GiB': expected a"):
        read_bid(path, reference()["sites"])
    not_a_form = tmp_path / "notes.xlsx"
    not_a_form.write_text("not a workbook")
    with pytest.raises(Exception, match=r"notes.xlsx: file: not a readable XLSX bid form"):
        read_bid(not_a_form, reference()["sites"])


@pytest.mark.parametrize("make", ["missing", "empty-folder", "not-a-form"])
def test_bad_bids_are_one_line_errors_and_write_nothing(tmp_path: Path, make: str) -> None:
    from planner.outputs.plan import write_plan
    from tests.test_example import bundled_result

    plan = tmp_path / "plan.json"
    write_plan(bundled_result().plan, plan)
    bids = tmp_path / "bids"
    if make == "empty-folder":
        bids.mkdir()
    elif make == "not-a-form":
        bids.mkdir()
        (bids / "offer.xlsx").write_bytes(b"PK\x03\x04 truncated")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "planner", "tender", "evaluate", str(bids), "--plan", str(plan),
         "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
