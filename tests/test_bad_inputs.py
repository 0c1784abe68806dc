"""Bad input across every command: exit code 2, one line, no traceback, nothing written.

Each case starts from a workspace that holds valid inputs, a valid plan and earlier
outputs of every command (a plan, a report folder, a render folder, an example folder).
The case breaks one thing and runs one command; afterwards every file of the workspace
must be byte-for-byte what it was before the command ran: nothing written, nothing
replaced, no temporary file left. (`tests/test_cli.py` holds the profile, spec and
catalogue validation cases for `planner size`; both suites count towards the total.)
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from infra.settings import PROJECT_ROOT
from planner.cli import main
from planner.outputs.plan import SCHEMA_VERSION, dumps_plan
from tests.conftest import BATTERY_DOCS, CATALOG_DOC, POWER_DOC, SPEC_DOC, profile_frame

INPUTS = ["--profile", "profile.csv", "--spec", "spec.yaml", "--catalog", "catalog.yaml"]
PLAN_AND_INPUTS = ["plan.json", *INPUTS]

Setup = Callable[[Path], list[str]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Valid inputs, a plan made from them, and earlier outputs of every command."""
    root = tmp_path_factory.mktemp("workspace")
    spec = copy.deepcopy(SPEC_DOC)
    spec["power"] = copy.deepcopy(POWER_DOC)
    catalog = copy.deepcopy(CATALOG_DOC)
    catalog.update(copy.deepcopy(BATTERY_DOCS))
    (root / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (root / "catalog.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    frame = profile_frame()
    frame["timestamp"] = frame["timestamp"].map(lambda t: t.isoformat())
    (root / "profile.csv").write_text(frame.to_csv(index=False))
    old = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["size", *INPUTS, "--out", "plan.json"])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    for command in ("report", "render", "example"):
        folder = root / "out" / command
        folder.mkdir(parents=True)
        (folder / "old.txt").write_text(f"an earlier {command}\n")
        marker = {"written_by": f"planner {command}", "entries": ["old.txt"]}
        (folder / ".planner-output.json").write_text(json.dumps(marker))
    (root / "docs").mkdir()
    (root / "docs" / "notes.md").write_text("the user's own notes\n")
    # a project folder for render: stack files that the cases may break
    project = root / "project"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    shutil.copytree(PROJECT_ROOT / "stacks", project / "stacks")
    (project / "infra").symlink_to(PROJECT_ROOT / "infra")
    return root


def snapshot(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or path.is_dir():
            out[str(path.relative_to(root))] = "dir" if path.is_dir() else "link"
            continue
        out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# --- helpers that break one thing ------------------------------------------------------


def args(*argv: str) -> Setup:
    return lambda ws: list(argv)


def with_file(name: str, text: str | bytes, *argv: str) -> Setup:
    def setup(ws: Path) -> list[str]:
        path = ws / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return list(argv)

    return setup


def edit_yaml_text(name: str, change: Callable[[str], str], *argv: str) -> Setup:
    def setup(ws: Path) -> list[str]:
        path = ws / name
        path.write_text(change(path.read_text()))
        return list(argv)

    return setup


def edit_plan(
    change: Callable[[dict[str, Any]], None], *argv: str, redigest: bool = False
) -> Setup:
    """Hand-edit plan.json (``redigest``: as if re-written by a planner, with its digest)."""

    def setup(ws: Path) -> list[str]:
        doc = json.loads((ws / "plan.json").read_text())
        change(doc)
        text = dumps_plan(doc) if redigest else json.dumps(doc, indent=1)
        (ws / "plan.json").write_text(text)
        return list(argv)

    return setup


def plan_text(change: Callable[[str], str], *argv: str) -> Setup:
    def setup(ws: Path) -> list[str]:
        path = ws / "plan.json"
        path.write_text(change(path.read_text()))
        return list(argv)

    return setup


def edit_csv(change: Callable[[pd.DataFrame], pd.DataFrame], *argv: str, sep: str = ",") -> Setup:
    def setup(ws: Path) -> list[str]:
        frame = pd.read_csv(ws / "profile.csv", dtype=str, keep_default_na=False)
        change(frame).to_csv(ws / "profile.csv", index=False, sep=sep)
        return list(argv)

    return setup


def edit_stack(change: Callable[[str], str], *argv: str) -> Setup:
    def setup(ws: Path) -> list[str]:
        path = ws / "project" / "stacks" / "Pulumi.prod.yaml"
        path.write_text(change(path.read_text()))
        return list(argv)

    return setup


def parquet_with_two(column: str) -> Setup:
    def setup(ws: Path) -> list[str]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame = profile_frame()
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.append_column(column, table.column(column))
        pq.write_table(table, ws / "profile.parquet")
        return ["size", "--profile", "profile.parquet", "--spec", "spec.yaml", "--out", "p.json"]

    return setup


def drop_rows(site: str, workload: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda f: f[~((f.site == site) & (f.workload == workload))]


def blank_rows(rows: range, column: str = "cpu_cores") -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[list(rows), column] = ""
        return frame

    return change


def set_value(row: int, column: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame

    return change


def first_site(doc: dict[str, Any]) -> dict[str, Any]:
    site: dict[str, Any] = doc["sites"][0]
    return site


def zero_battery(doc: dict[str, Any]) -> None:
    battery = first_site(doc)["battery"]
    for module in battery["modules"]:
        module["count"] = 0
    battery["kwh_installed"] = 0.0


def nested(depth: int) -> str:
    return "sites: " + "[" * depth + "]" * depth + "\n"


ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
)

SIZE = ["size", *INPUTS, "--out", "plan.json"]
REPORT = ["report", *PLAN_AND_INPUTS]
INCIDENT = ["simulate", "incident", *PLAN_AND_INPUTS]
AVAILABILITY = ["simulate", "availability", *PLAN_AND_INPUTS]

# name -> (setup returning argv, text the one line must hold, "error" | "usage")
CASES: dict[str, tuple[Setup, str, str]] = {
    # ---- size: outputs that must not be written ----
    "size --out over the profile": (
        args("size", *INPUTS, "--out", "profile.csv"),
        "profile.csv: is an input of this command; choose another plan",
        "error",
    ),
    "size --out over the spec": (
        args("size", *INPUTS, "--out", "spec.yaml"),
        "spec.yaml: is an input of this command; choose another plan",
        "error",
    ),
    "size --out over a user's file": (
        args("size", *INPUTS, "--out", "docs/notes.md"),
        "docs/notes.md: exists and is not a plan",
        "error",
    ),
    "size --out with a trailing slash": (
        args("size", *INPUTS, "--out", "newdir/"),
        "'newdir/' is a folder path",
        "usage",
    ),
    "size --out below a file": (
        args("size", *INPUTS, "--out", "spec.yaml/plan.json"),
        "spec.yaml is a file, not a folder",
        "error",
    ),
    "size --out is a folder": (args("size", *INPUTS, "--out", "docs"), "docs", "usage"),
    "size --phases with nan": (
        args("size", *INPUTS, "--phases", "0,nan", "--out", "plan.json"),
        "expected years like 0,2,4 (finite numbers), got '0,nan'",
        "usage",
    ),
    "size --phases with too many years": (
        args("size", *INPUTS, "--phases", ",".join(str(y) for y in range(11)), "--out", "p.json"),
        "at most 10 purchase years, got 11",
        "usage",
    ),
    # ---- size: YAML that silently changes meaning or exhausts memory ----
    "duplicate key in the spec": (
        edit_yaml_text("spec.yaml", lambda t: t + "horizon_years: 9\n", *SIZE),
        "duplicate key 'horizon_years'",
        "error",
    ),
    "nested duplicate key in the spec": (
        edit_yaml_text(
            "spec.yaml",
            lambda t: t.replace("utilisation_ceiling:\n", "utilisation_ceiling:\n  cpu: 0.5\n", 1),
            *SIZE,
        ),
        "duplicate key 'cpu'",
        "error",
    ),
    "alias bomb in the spec": (
        with_file("spec.yaml", ALIAS_BOMB, *SIZE),
        "YAML aliases are not accepted",
        "error",
    ),
    "3000-deep nesting in the spec": (
        with_file("spec.yaml", nested(3000), *SIZE),
        "nested deeper than 64 levels",
        "error",
    ),
    "duplicate key in the catalogue": (
        edit_yaml_text("catalog.yaml", lambda t: t + "currency: EUR\n", *SIZE),
        "duplicate key 'currency'",
        "error",
    ),
    "alias in the catalogue": (
        edit_yaml_text(
            "catalog.yaml", lambda t: t.replace("servers:", "x: &s 1\ny: *s\nservers:", 1), *SIZE
        ),
        "alias '*s'",
        "error",
    ),
    "spec is not UTF-8": (
        with_file("spec.yaml", b"name: \xff\xfe\n", *SIZE),
        "not UTF-8",
        "error",
    ),
    "spec is a folder": (
        args("size", "--profile", "profile.csv", "--spec", "docs", "--out", "plan.json"),
        "docs",
        "usage",
    ),
    # ---- size: real exports that cannot be read safely ----
    "timestamp in the year 2300": (
        edit_csv(set_value(40, "timestamp", "2300-01-01T00:00:00+00:00"), *SIZE),
        "is outside the supported years 1678 to 2261",
        "error",
    ),
    "parquet with two cpu_cores columns": (
        parquet_with_two("cpu_cores"),
        "column 'cpu_cores': appears twice",
        "error",
    ),
    "CSV header with a column twice": (
        edit_yaml_text(
            "profile.csv",
            lambda t: t.replace("stored_tib", "cpu_cores", 1),
            *SIZE,
        ),
        "column 'cpu_cores': appears twice in the header",
        "error",
    ),
    "CSV with a trailing comma on every row": (
        edit_yaml_text(
            "profile.csv",
            lambda t: "".join(line + ",\n" for line in t.splitlines()),
            *SIZE,
        ),
        "has no name: a ',' at the end of every row?",
        "error",
    ),
    "as-reported incident with standby_works not a boolean": (
        edit_yaml_text(
            "spec.yaml",
            lambda t: t.replace(
                "  as_was:\n", "  as_was:\n    as_reported: {standby_works: maybe}\n", 1
            ),
            *SIZE,
        ),
        "standby_works",
        "error",
    ),
    "extra column with --strict": (
        edit_csv(lambda f: f.assign(pod_count="3"), *SIZE, "--strict"),
        "column 'pod_count': unknown column",
        "error",
    ),
    "a site/workload pair with no rows": (
        edit_csv(drop_rows("beta", "db"), *SIZE),
        "no rows for site, workload (beta, db)",
        "error",
    ),
    "gap longer than --fill-gaps": (
        edit_csv(blank_rows(range(10, 16)), *SIZE, "--fill-gaps", "30m"),
        "series (alpha, web), column 'cpu_cores': no data from",
        "error",
    ),
    "gap at the start of a series": (
        edit_csv(blank_rows(range(0, 2)), *SIZE, "--fill-gaps", "1h"),
        "at the start",
        "error",
    ),
    "empty cell without a gap policy": (
        edit_csv(blank_rows(range(7, 8), "memory_gib"), *SIZE),
        "line 9, column 'memory_gib': expected a finite number, got nan (a missing value",
        "error",
    ),
    "infinite value": (
        edit_csv(set_value(7, "read_iops", "inf"), *SIZE),
        "line 9, column 'read_iops': expected a finite number, got inf",
        "error",
    ),
    "--fill-gaps that is not a duration": (
        args(*SIZE, "--fill-gaps", "5 parsecs"),
        "expected a duration like 90s, 15m, 2h or 7d",
        "usage",
    ),
    "--fill-gaps over a week": (args(*SIZE, "--fill-gaps", "30d"), "--fill-gaps", "usage"),
    "--fill-method unknown": (args(*SIZE, "--fill-method", "spline"), "spline", "usage"),
    "semicolon CSV with text in a metric": (
        edit_csv(set_value(3, "write_iops", "lots"), *SIZE, sep=";"),
        "column 'write_iops': expected a number, got 'lots'",
        "error",
    ),
    # ---- size: stacks, --check and plans ----
    "--stack that does not exist": (
        args("size", "--stack", "nosuch", "--out", "plan.json"),
        "no inputs file for stack 'nosuch'",
        "error",
    ),
    "--stack with --profile": (
        args("size", "--stack", "prod", "--profile", "profile.csv", "--out", "plan.json"),
        "--stack names the inputs",
        "usage",
    ),
    "stack inputs file with an unknown key": (
        with_file(
            "stacks/lab/inputs.yaml",
            "profile: profile.csv\nspec: spec.yaml\nsppec: x\n",
            *["size", "--stack", "lab", "--out", "plan.json"],
        ),
        "key 'sppec': unknown key",
        "error",
    ),
    "--check on a missing plan": (
        args("size", *INPUTS, "--check", "missing.json"),
        "plan file not found: run `planner size` first",
        "error",
    ),
    "--check on a plan with NaN": (
        plan_text(
            lambda t: t.replace('"tco": ', '"tco": NaN, "x": ', 1),
            *SIZE[:-2],
            "--check",
            "plan.json",
        ),
        "NaN is not a number in strict JSON",
        "error",
    ),
    # ---- report ----
    "report --out .": (args(*REPORT, "--out", "."), "is the current folder", "error"),
    "report --out a user's folder": (
        args(*REPORT, "--out", "docs"),
        "docs: folder is not empty and was not written by planner",
        "error",
    ),
    "report --out the render folder": (
        args(*REPORT, "--out", "out/render"),
        "was written by planner render, not planner report",
        "error",
    ),
    "report --out an earlier report with a user's file in it": (
        with_file("out/report/mine.txt", "keep me\n", *REPORT, "--out", "out/report"),
        "holds 'mine.txt', which planner report did not write",
        "error",
    ),
    "report --out a file": (args(*REPORT, "--out", "spec.yaml"), "spec.yaml", "usage"),
    "report --out below a file": (
        args(*REPORT, "--out", "spec.yaml/report"),
        "spec.yaml is a file, not a folder",
        "error",
    ),
    "report on a plan without assumptions": (
        edit_plan(lambda d: d.pop("assumptions"), *REPORT),
        "'assumptions' is a required property",
        "error",
    ),
    "report on a plan whose numbers no longer match its digest": (
        edit_plan(lambda d: d["assumptions"].update(pue=1.2), *REPORT),
        "key 'digest': the plan's content no longer matches the digest",
        "error",
    ),
    "report on a plan with a count in words": (
        edit_plan(lambda d: first_site(d)["servers"][0].update(count="six"), *REPORT),
        "key 'sites[0].servers[0].count': 'six' is not of type 'integer'",
        "error",
    ),
    "report --years 0": (args(*REPORT, "--years", "0"), "--years", "usage"),
    "report --years 1e12": (args(*REPORT, "--years", "1e12"), "--years", "usage"),
    "report on a plan from other inputs": (
        edit_yaml_text("spec.yaml", lambda t: t + "# edited\n", *REPORT),
        "is out of date: the spec spec.yaml changed since the plan was made",
        "error",
    ),
    "report on something that is not JSON": (
        with_file("plan.json", "<html>not a plan</html>\n", *REPORT),
        "not a valid JSON plan",
        "error",
    ),
    "report on a plan of an old schema version": (
        edit_plan(lambda d: d.update(schema_version=1), *REPORT),
        f"key 'schema_version': expected {SCHEMA_VERSION}, got 1",
        "error",
    ),
    # ---- simulate ----
    "incident with no battery modules": (
        edit_plan(zero_battery, *INCIDENT),
        "a sized battery needs at least one module",
        "error",
    ),
    "incident with battery kWh that its modules do not give": (
        edit_plan(lambda d: first_site(d)["battery"].update(kwh_installed=99.0), *INCIDENT),
        "key 'sites[0].battery.kwh_installed': 99 kWh, but its modules give",
        "error",
    ),
    "incident --failover-minutes nan": (
        args(*INCIDENT, "--failover-minutes", "nan"),
        "expected a finite number, got nan",
        "usage",
    ),
    "incident --failover-minutes inf": (
        args(*INCIDENT, "--failover-minutes", "inf"),
        "expected a finite number, got inf",
        "usage",
    ),
    "incident --failover-minutes -1": (
        args(*INCIDENT, "--failover-minutes", "-1"),
        "--failover-minutes",
        "usage",
    ),
    "incident --grid-minutes nan": (
        args(*INCIDENT, "--grid-minutes", "nan"),
        "expected a finite number, got nan",
        "usage",
    ),
    "incident --at the year 2300": (
        args(*INCIDENT, "--at", "2300-01-01T00:00:00+00:00"),
        "--at: '2300-01-01T00:00:00+00:00' is outside the supported years",
        "error",
    ),
    "incident --at garbage": (
        args(*INCIDENT, "--at", "tomorrow"),
        "--at: not an ISO-8601 timestamp",
        "error",
    ),
    "incident --at without an offset": (
        args(*INCIDENT, "--at", "2025-03-29T10:00:00"),
        "--at: expected a timestamp with an offset",
        "error",
    ),
    "incident --site unknown": (
        args(*INCIDENT, "--site", "odense"),
        "--site: unknown site 'odense'",
        "error",
    ),
    "availability --years 1e12": (args(*AVAILABILITY, "--years", "1e12"), "--years", "usage"),
    "availability --years above the memory bound": (
        args(*AVAILABILITY, "--years", "100000000"),
        "--years",
        "usage",
    ),
    "availability --seed -1": (args(*AVAILABILITY, "--seed", "-1"), "--seed", "usage"),
    "availability --seed abc": (args(*AVAILABILITY, "--seed", "abc"), "--seed", "usage"),
    "availability on a plan with -Infinity": (
        plan_text(lambda t: t.replace('"tco": ', '"tco": -Infinity, "x": ', 1), *AVAILABILITY),
        "-Infinity is not a number in strict JSON",
        "error",
    ),
    "availability on a plan without sites": (
        edit_plan(lambda d: d.pop("sites"), *AVAILABILITY),
        "'sites' is a required property",
        "error",
    ),
    # ---- diff ----
    "diff on a plan without sites": (
        edit_plan(lambda d: d.pop("sites"), "diff", "plan.json", "plan.json"),
        "'sites' is a required property",
        "error",
    ),
    "diff on a plan with a count in words": (
        edit_plan(
            lambda d: first_site(d)["drives"][0].update(count="six"),
            "diff",
            "plan.json",
            "plan.json",
        ),
        "'six' is not of type 'integer'",
        "error",
    ),
    "diff on a plan with tco NaN": (
        plan_text(
            lambda t: t.replace('"tco": ', '"tco": NaN, "y": ', 1), "diff", "plan.json", "plan.json"
        ),
        "NaN is not a number",
        "error",
    ),
    "diff on a missing plan": (
        args("diff", "plan.json", "nosuch.json"),
        "nosuch.json: plan file not found: run `planner size` first",
        "error",
    ),
    "diff on a plan whose workload lacks a site": (
        edit_plan(
            lambda d: d["workloads"][0]["sites"].pop("beta"),
            "diff",
            "plan.json",
            "plan.json",
            redigest=True,
        ),
        "key 'workloads[0].sites': expected an entry for every site (alpha, beta); missing: beta",
        "error",
    ),
    "diff on a plan whose totals do not add up": (
        edit_plan(
            lambda d: first_site(d)["totals"].update(servers=999),
            "diff",
            "plan.json",
            "plan.json",
        ),
        "key 'sites[0].totals.servers': 999, but the list counts",
        "error",
    ),
    "diff on a plan whose costs do not add up": (
        edit_plan(
            lambda d: d["costs"].update(tco=1.0),
            "diff",
            "plan.json",
            "plan.json",
        ),
        "key 'costs.tco': 1, but capex + maintenance + energy",
        "error",
    ),
    "diff on a plan with a negative price": (
        edit_plan(
            lambda d: first_site(d)["servers"][0].update(unit_price=-5),
            "diff",
            "plan.json",
            "plan.json",
        ),
        "key 'sites[0].servers[0].unit_price': -5 is less than the minimum of 0",
        "error",
    ),
    # ---- render ----
    "render --out .": (
        args("render", "--stack", "prod", "--out", "."),
        "is the current folder",
        "error",
    ),
    "render --out a user's folder": (
        args("render", "--stack", "prod", "--out", "docs"),
        "docs: folder is not empty and was not written by planner",
        "error",
    ),
    "render --out the report folder": (
        args("render", "--stack", "prod", "--out", "out/report"),
        "was written by planner report, not planner render",
        "error",
    ),
    "render --kubernetes-version 9.99.0": (
        args("render", "--stack", "prod", "--out", "out/render", "--kubernetes-version", "9.99.0"),
        "'9.99.0' has no schemas in kubernetes-validate",
        "error",
    ),
    "render an unknown stack": (
        args("render", "--stack", "nosuch", "--out", "out/render"),
        "Pulumi.nosuch.yaml: no such stack file",
        "error",
    ),
    "render a stack file with an alias bomb": (
        edit_stack(lambda t: t + ALIAS_BOMB, "render", "--stack", "prod", "--out", "out/render"),
        "YAML aliases are not accepted",
        "error",
    ),
    "render a stack file with a duplicate key": (
        edit_stack(
            lambda t: t.replace("config:\n", "config:\n  hospital-platform:namespace: x\n", 1),
            "render",
            "--stack",
            "prod",
            "--out",
            "out/render",
        ),
        "duplicate key 'hospital-platform:namespace'",
        "error",
    ),
    "render a stack file with a kubeconfig in clear text": (
        edit_stack(
            lambda t: (
                t
                + "  hospital-platform:kubeconfigs:\n"
                + "    holstebro: 'apiVersion: v1\\nkind: Config'\n"
            ),
            "render",
            "--stack",
            "prod",
            "--out",
            "out/render",
        ),
        "key 'hospital-platform:kubeconfigs.holstebro': a credential in clear text",
        "error",
    ),
    # ---- example ----
    "example --out .": (
        args("example", "--out", ".", "--days", "1"),
        "is the current folder",
        "error",
    ),
    "example --out a user's folder": (
        args("example", "--out", "docs", "--days", "1"),
        "docs: folder is not empty and was not written by planner",
        "error",
    ),
    "example --scale nan": (args("example", "--scale", "nan"), "got nan", "usage"),
    "example --scale inf": (args("example", "--scale", "inf"), "got inf", "usage"),
    "example --scale 0": (args("example", "--scale", "0"), "--scale", "usage"),
    "example --days 0": (args("example", "--days", "0"), "--days", "usage"),
    "example --format xls": (args("example", "--format", "xls"), "--format", "usage"),
    # ---- preview ----
    "preview --out over a user's file": (
        args("preview", "--base", "HEAD", "--out", "docs/notes.md"),
        "docs/notes.md: exists and is not a preview the planner wrote",
        "error",
    ),
    "preview --out with a trailing slash": (
        args("preview", "--base", "HEAD", "--out", "comments/"),
        "'comments/' is a folder path",
        "usage",
    ),
    "preview outside a git repository": (
        args("preview", "--base", "HEAD"),
        "error: git: rev-parse",
        "error",
    ),
    # ---- drill ----
    "drill --lost without --live": (
        args("drill", "--stack", "prod", "--lost", "holstebro"),
        "--lost: only with --live",
        "error",
    ),
    "drill --live without --lost": (
        args("drill", "--stack", "prod", "--live", "docs"),
        "name the lost site with --lost",
        "error",
    ),
    "drill --live of a folder without kubeconfigs": (
        args("drill", "--stack", "prod", "--live", "docs", "--lost", "holstebro"),
        "docs: no <location>.kubeconfig files",
        "error",
    ),
    "drill --hardware that is not a plan": (
        args("drill", "--stack", "prod", "--hardware", "spec.yaml"),
        "spec.yaml: not a plan with sites[].servers",
        "error",
    ),
    "drill --timeout 0": (
        args("drill", "--stack", "prod", "--live", "docs", "--lost", "x", "--timeout", "0"),
        "--timeout",
        "usage",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES), ids=sorted(CASES))
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    name: str, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, expected, kind = CASES[name]
    ws = tmp_path / "ws"
    shutil.copytree(template, ws, symlinks=True)
    monkeypatch.chdir(ws)
    monkeypatch.setattr("infra.settings.PROJECT_ROOT", ws / "project")
    argv = setup(ws)
    before = snapshot(ws)
    result = CliRunner().invoke(main, argv)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    if kind == "error":
        assert len(lines) == 1, result.output
        assert lines[0].startswith("error: "), lines[0]
        assert expected in lines[0], lines[0]
    else:  # click's own usage format: Usage, Try, Error
        assert lines[-1].startswith("Error: "), result.output
        assert expected in lines[-1], lines[-1]
    assert snapshot(ws) == before, "the command wrote or changed files"


def test_the_bad_input_suites_hold_at_least_80_kinds_across_every_command(
    template: Path, tmp_path: Path
) -> None:
    from tests.test_cli import BAD_INPUTS

    assert len(CASES) + len(BAD_INPUTS) >= 80
    commands = set()
    for i, (setup, _, _) in enumerate(CASES.values()):
        ws = tmp_path / str(i)
        shutil.copytree(template, ws, symlinks=True)
        commands.add(setup(ws)[0])
    assert commands == {
        "size",
        "report",
        "simulate",
        "diff",
        "render",
        "example",
        "preview",
        "drill",
    }
