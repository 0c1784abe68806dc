"""The `planner` command line: exit codes, one-line errors, determinism, --check."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from planner.cli import main
from tests.conftest import CATALOG_DOC, POWER_DOC, SPEC_DOC


def run(args: list[str]) -> Any:
    return CliRunner().invoke(main, args, catch_exceptions=False)


def size_args(paths: dict[str, Path], out: Path) -> list[str]:
    return [
        "size",
        "--profile",
        str(paths["profile"]),
        "--spec",
        str(paths["spec"]),
        "--catalog",
        str(paths["catalog"]),
        "--out",
        str(out),
    ]


def test_help_lists_commands_without_heavy_imports() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from planner.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'size' in result.output\n"
        "heavy = [m for m in ('scipy', 'pulumi', 'pandas', 'numpy') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_size_writes_a_deterministic_plan(small_inputs: dict[str, Path], tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "plan.json", tmp_path / "b" / "plan.json"
    assert run(size_args(small_inputs, first)).exit_code == 0
    assert run(size_args(small_inputs, second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    plan = json.loads(first.read_text())
    assert plan["schema"] == "hospital-platform/plan"
    assert {s["name"] for s in plan["sites"]} == {"alpha", "beta"}
    assert all(c["ok"] for c in plan["constraints"])


def test_summary_shows_fleet_costs_and_tightest(
    small_inputs: dict[str, Path], tmp_path: Path
) -> None:
    result = run(size_args(small_inputs, tmp_path / "plan.json"))
    plan = json.loads((tmp_path / "plan.json").read_text())
    for site in plan["sites"]:
        for item in site["servers"]:
            assert f"servers {item['sku']}" in result.output
    assert "battery" in result.output
    assert f"{plan['costs']['tco']:,.0f}" in result.output
    tightest = result.output.split("Tightest capacity constraints")[1].split("Floors")[0]
    assert tightest.count("  - ") == 3


def test_check_passes_then_fails_after_an_input_change(
    small_inputs: dict[str, Path], tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    assert run(size_args(small_inputs, plan)).exit_code == 0
    check = [*size_args(small_inputs, plan)[:-2], "--check", str(plan)]
    ok = run(check)
    assert ok.exit_code == 0
    assert "up to date" in ok.output
    doc = yaml.safe_load(small_inputs["spec"].read_text())
    doc["growth_per_year"]["cpu_cores"] = 0.3
    small_inputs["spec"].write_text(yaml.safe_dump(doc))
    stale = run(check)
    assert stale.exit_code == 1
    assert "is out of date: the spec spec.yaml changed since the plan was made" in stale.output
    # a plan edited by hand is not out of date but unreadable: bad input, as the README says
    edited = json.loads(plan.read_text())
    edited["sites"][0]["servers"][0]["count"] += 1
    plan.write_text(json.dumps(edited))
    hand = run(check)
    assert hand.exit_code == 2, hand.output
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "a plan\nedited by hand" in readme or "a plan edited by hand" in readme.replace(
        "\n", " "
    )


def test_infeasible_exits_1_with_the_reason(small_inputs: dict[str, Path], tmp_path: Path) -> None:
    doc = yaml.safe_load(small_inputs["spec"].read_text())
    doc["sites"][0]["max_rack_units"] = 2
    small_inputs["spec"].write_text(yaml.safe_dump(doc))
    result = run(size_args(small_inputs, tmp_path / "plan.json"))
    assert result.exit_code == 1
    assert "rack space (sites.alpha.max_rack_units)" in result.output
    assert not (tmp_path / "plan.json").exists()


# ---------------------------------------------------------------------------------------
# Bad input: one line naming the file and the row or key, exit code 2, nothing written.


def edit_csv(change: Callable[[list[str]], list[str]]) -> Callable[[dict[str, Path]], str]:
    def apply(paths: dict[str, Path]) -> str:
        lines = paths["profile"].read_text().splitlines()
        paths["profile"].write_text("\n".join(change(lines)) + "\n")
        return str(paths["profile"])

    return apply


def edit_yaml(
    kind: str, change: Callable[[dict[str, Any]], None]
) -> Callable[[dict[str, Path]], str]:
    def apply(paths: dict[str, Path]) -> str:
        doc = yaml.safe_load(paths[kind].read_text())
        change(doc)
        paths[kind].write_text(yaml.safe_dump(doc, sort_keys=False))
        return str(paths[kind])

    return apply


def set_cell(line_no: int, column: str, value: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        header = lines[0].split(",")
        cells = lines[line_no - 1].split(",")
        cells[header.index(column)] = value
        lines[line_no - 1] = ",".join(cells)
        return lines

    return change


def drop_column(column: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        index = lines[0].split(",").index(column)
        return [",".join(c for i, c in enumerate(line.split(",")) if i != index) for line in lines]

    return change


def duplicate_line(n: int) -> Callable[[list[str]], list[str]]:
    return lambda lines: [*lines, lines[n - 1]]


def delete_line(n: int) -> Callable[[list[str]], list[str]]:
    return lambda lines: lines[: n - 1] + lines[n:]


def write_text(kind: str, text: str) -> Callable[[dict[str, Path]], str]:
    def apply(paths: dict[str, Path]) -> str:
        paths[kind].write_text(text)
        return str(paths[kind])

    return apply


def rename_profile(suffix: str) -> Callable[[dict[str, Path]], str]:
    def apply(paths: dict[str, Path]) -> str:
        target = paths["profile"].with_suffix(suffix)
        paths["profile"].rename(target)
        paths["profile"] = target
        return str(target)

    return apply


def first_server(doc: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(doc["servers"][0])


def with_power(*path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Add the power section with one value replaced (path of keys into POWER_DOC)."""

    def change(doc: dict[str, Any]) -> None:
        power = copy.deepcopy(POWER_DOC)
        node = power
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        doc["power"] = power

    return change


# Profile rows: line 1 is the header, the alpha/web series runs on lines 2..289.
BAD_INPUTS: dict[str, tuple[Callable[[dict[str, Path]], str], str]] = {
    "missing metric column": (
        edit_csv(drop_column("cpu_cores")),
        "column 'cpu_cores': required metric column is missing",
    ),
    "missing key column": (edit_csv(drop_column("site")), "column 'site': required column"),
    "unknown site": (
        edit_csv(set_cell(5, "site", "odense")),
        "line 5, column 'site': unknown site 'odense'",
    ),
    "unknown workload": (
        edit_csv(set_cell(7, "workload", "pacs")),
        "line 7, column 'workload': unknown workload 'pacs'",
    ),
    "timestamp off the step grid": (
        edit_csv(set_cell(11, "timestamp", "2025-03-29T03:37:00+01:00")),
        "line 11, column 'timestamp': 420 s off the 900 s step grid",
    ),
    "duplicated timestamp": (
        edit_csv(duplicate_line(12)),
        "column 'timestamp': duplicate (timestamp, site, workload); the same as line 12",
    ),
    "one missed sample without a gap policy": (
        edit_csv(delete_line(20)),
        "series (alpha, web), column 'cpu_cores': no data from 2025-03-29T03:30:00+00:00 to "
        "2025-03-29T03:30:00+00:00 (1 step, 15 min); --fill-gaps fills gaps",
    ),
    "NaN value": (
        edit_csv(set_cell(30, "memory_gib", "NaN")),
        "line 30, column 'memory_gib': expected a finite number, got nan",
    ),
    "negative load": (
        edit_csv(set_cell(31, "read_iops", "-5")),
        "line 31, column 'read_iops': expected a load >= 0, got -5",
    ),
    "text in a metric": (
        edit_csv(set_cell(32, "cpu_cores", "lots")),
        "line 32, column 'cpu_cores': expected a number, got 'lots'",
    ),
    "naive timestamp": (
        edit_csv(set_cell(33, "timestamp", "2025-03-29T08:00:00")),
        "line 33, column 'timestamp': expected a tz-aware ISO-8601 timestamp",
    ),
    "garbage timestamp": (
        edit_csv(set_cell(34, "timestamp", "yesterday+01:00")),
        "line 34, column 'timestamp': not an ISO-8601 timestamp",
    ),
    "empty profile": (write_text("profile", ""), "the file is empty"),
    "unknown profile format": (rename_profile(".xlsx"), "expected a .csv or .parquet"),
    "unknown SKU in spec": (
        edit_yaml("spec", lambda d: d.update(catalog_filter={"servers": ["small", "r750"]})),
        "key 'catalog_filter.servers[1]': unknown server SKU 'r750'",
    ),
    "zero-bay server": (
        edit_yaml("catalog", lambda d: d["servers"][0].update(drive_bays=0)),
        "key 'servers[0].drive_bays': expected a whole number >= 1, got 0",
    ),
    "YAML type error": (
        edit_yaml("spec", lambda d: d.update(horizon_years="five")),
        "key 'horizon_years': expected a number, got a string ('five')",
    ),
    "boolean where a number belongs": (
        edit_yaml("spec", lambda d: d["utilisation_ceiling"].update(cpu=True)),
        "key 'utilisation_ceiling.cpu': expected a number, got a boolean (True)",
    ),
    "unknown spec key": (
        edit_yaml("spec", lambda d: d.update(horizon=5)),
        "key 'horizon': unknown key",
    ),
    "missing spec key": (
        edit_yaml("spec", lambda d: d.pop("redundancy")),
        "key 'redundancy': required key is missing",
    ),
    "ceiling above 1": (
        edit_yaml("spec", lambda d: d["utilisation_ceiling"].update(memory=1.2)),
        "key 'utilisation_ceiling.memory': expected a number <= 1, got 1.2",
    ),
    "fraction on a critical workload": (
        edit_yaml("spec", lambda d: d["workloads"][0].update(failover_fraction=0.5)),
        "key 'workloads[0].failover_fraction': only degradable workloads take a fraction",
    ),
    "unknown criticality": (
        edit_yaml("spec", lambda d: d["workloads"][0].update(criticality="vital")),
        "key 'workloads[0].criticality': expected one of critical, degradable, deferrable",
    ),
    "one site only": (
        edit_yaml("spec", lambda d: d["sites"].pop()),
        "key 'sites': expected exactly two sites (active-active), got 1",
    ),
    "invalid YAML": (write_text("spec", "sites: [alpha\nname: x\n"), "invalid YAML"),
    "concave power curve": (
        edit_yaml("catalog", lambda d: d["servers"][0]["power_w"].update(half=250)),
        "key 'servers[0].power_w.half': expected a convex power curve",
    ),
    "duplicate SKU": (
        edit_yaml("catalog", lambda d: d["servers"].append(first_server(d))),
        "key 'servers[2].sku': duplicate SKU 'small'",
    ),
    "currency mismatch": (
        edit_yaml("catalog", lambda d: d.update(currency="EUR")),
        "key 'currency': expected the spec's currency 'DKK', got 'EUR'",
    ),
    "negative runtime": (
        edit_yaml("spec", with_power("as_was", "ups_runtime_minutes", value=-5)),
        "key 'power.as_was.ups_runtime_minutes': expected a number >= 0, got -5",
    ),
    "probability over 1": (
        edit_yaml("spec", with_power("generator", "fail_to_start", value=1.5)),
        "key 'power.generator.fail_to_start': expected a number <= 1, got 1.5",
    ),
    "unknown chemistry": (
        edit_yaml("spec", with_power("chemistry", value="nicd")),
        "key 'power.chemistry': expected one of lfp, vrla, got 'nicd'",
    ),
    "p95 below p50": (
        edit_yaml("spec", with_power("failover", "p95_minutes", value=2)),
        "key 'power.failover.p95_minutes': expected p95 >= p50 (4), got 2",
    ),
    "battery too cold for IEEE 485": (
        edit_yaml("spec", with_power("temperature_c", value=-20)),
        "key 'power.temperature_c': expected a number >= -3.9, got -20",
    ),
    "accepted risk of zero": (
        edit_yaml("spec", with_power("accepted_risk", value=0)),
        "key 'power.accepted_risk': expected a number > 0, got 0",
    ),
    "unknown duration distribution": (
        edit_yaml("spec", with_power("grid", "duration", "distribution", value="weibull")),
        "key 'power.grid.duration.distribution': expected one of exponential, lognormal",
    ),
    "workload growth for an unknown metric": (
        edit_yaml("spec", lambda d: d["workloads"][0].update(growth_per_year={"cpu": 0.1})),
        "key 'workloads[0].growth_per_year.cpu': unknown key",
    ),
    "power section without battery SKUs": (
        lambda paths: (
            edit_yaml("spec", with_power("chemistry", value="lfp"))(paths),
            str(paths["catalog"]),
        )[1],
        "key 'batteries': no battery module of chemistry 'lfp'",
    ),
    "missing file": (
        lambda paths: str(paths["spec"].unlink() or paths["spec"]),
        "file not found",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS), ids=sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_and_exit_2(
    case: str, small_inputs: dict[str, Path], tmp_path: Path
) -> None:
    mutate, expected = BAD_INPUTS[case]
    source = mutate(small_inputs)
    out = tmp_path / "out" / "plan.json"
    result = CliRunner().invoke(main, size_args(small_inputs, out))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {source}: "), lines[0]
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_there_are_at_least_15_kinds_of_bad_input() -> None:
    assert len(BAD_INPUTS) >= 15


def test_spec_catalogue_and_example_files_are_valid() -> None:
    """The shipped catalogue and example spec load, and the test documents mirror them."""
    from planner.inputs.catalog import default_catalog_path, read_catalog
    from planner.inputs.example import example_spec_path
    from planner.inputs.spec import read_spec

    catalog = read_catalog(default_catalog_path())
    spec = read_spec(example_spec_path())
    assert catalog.currency == spec.currency == SPEC_DOC["currency"] == CATALOG_DOC["currency"]
    assert len(spec.workloads) >= 8
    assert {w.criticality for w in spec.workloads} == {"critical", "degradable", "deferrable"}


def test_a_plan_failing_verification_is_not_written(
    small_inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the optimiser ever returned an undersized fleet, the verifier stops the write."""
    import dataclasses

    import planner.jobs.size
    from planner.sizing.fleet import SiteFleet

    real = planner.jobs.size.optimise

    def undersized(*args: Any, **kwargs: Any) -> Any:
        solution = real(*args, **kwargs)
        fleets = tuple(
            SiteFleet(f.site, {k: n - 1 for k, n in f.servers.items()}, f.drives)
            for f in solution.fleets
        )
        return dataclasses.replace(solution, fleets=fleets)

    monkeypatch.setattr(planner.jobs.size, "optimise", undersized)
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(main, size_args(small_inputs, out))
    assert result.exit_code == 1
    assert "failed independent verification, nothing written" in result.output
    assert "at alpha" in result.output
    assert "(margin -" in result.output
    assert not out.exists()


def test_every_option_of_every_command_has_a_description() -> None:
    """`--help` explains each option: no bare flag in any command or subcommand."""
    import click

    from planner.cli import main

    def commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
        out: list[tuple[str, click.Command]] = []
        for name, command in sorted(group.commands.items()):
            out.append((f"{prefix} {name}", command))
            if isinstance(command, click.Group):
                out += commands(command, f"{prefix} {name}")
        return out

    bare = [
        f"{path} {param.opts[0]}"
        for path, command in commands(main, "planner")
        for param in command.params
        if isinstance(param, click.Option) and not param.help and param.opts[0] != "--help"
    ]
    assert bare == []
