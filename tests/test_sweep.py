"""The what-if sweep: scenarios, the spec and catalogue variations, one reduction per
growth scenario, failed scenarios kept, and the same table on any Dask scheduler."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from planner.errors import InputError
from planner.jobs.inputs import SizeInputs, load_inputs
from planner.jobs.sweep import (
    SweepOptions,
    Variation,
    apply_catalog,
    apply_spec,
    build_tasks,
    load_bases,
    parse_catalog_vary,
    parse_vary,
    run_serial,
    scenarios,
    table,
)
from tests.conftest import run_cli

GROWTH = "growth_per_year.cpu_cores=0.06,0.10"
PRICE = "pm1743-15t36.price=-30%,+30%"


@cache
def bundled() -> tuple[dict[str, Any], dict[str, Any], Any]:
    inputs = SizeInputs.bundled()
    spec_base, catalog_base = load_bases(inputs.spec, inputs.catalog)
    _, _, profile, _ = load_inputs(inputs)
    return spec_base, catalog_base, profile


def tasks(*variations: Variation) -> list[Any]:
    spec_base, catalog_base, _ = bundled()
    return list(build_tasks(spec_base, catalog_base, scenarios(variations), "spec", "catalog"))


def test_every_combination_in_order() -> None:
    plan = scenarios((parse_vary("a=1,2,3"), parse_catalog_vary("x.price=-10%,+10%")))
    assert len(plan) == 6
    assert plan[0] == {"a": 1, "catalog:x.price": "-10%"}
    assert plan[-1] == {"a": 3, "catalog:x.price": "+10%"}


def test_latin_hypercube_sample_is_stratified_and_seeded() -> None:
    variations = (parse_vary("a=1,2"), parse_vary("b=x,y,z"))
    sample = scenarios(variations, samples=6, seed=3)
    assert len(sample) == 6
    assert sorted(s["a"] for s in sample) == [1, 1, 1, 2, 2, 2]  # one stratum per value
    assert sorted(s["b"] for s in sample) == ["x", "x", "y", "y", "z", "z"]
    assert scenarios(variations, samples=6, seed=3) == sample


def test_relative_and_absolute_values_and_clear_errors() -> None:
    spec_base, catalog_base, _ = bundled()
    spec = apply_spec(spec_base, {"growth_per_year.cpu_cores": "+50%"}, "spec.yaml")
    assert spec["growth_per_year"]["cpu_cores"] == pytest.approx(0.09)
    assert spec_base["growth_per_year"]["cpu_cores"] == 0.06  # the base is not touched
    spec = apply_spec(spec_base, {"workloads.2.replicas": 5}, "spec.yaml")
    assert spec["workloads"][2]["replicas"] == 5
    catalog = apply_catalog(catalog_base, {"catalog:pm1743-15t36.price": "-30%"}, "c.yaml")
    drive = next(d for d in catalog["drives"] if d["sku"] == "pm1743-15t36")
    assert drive["price"] == pytest.approx(24000 * 0.7)  # the catalogue's 24,000 DKK
    with pytest.raises(InputError, match=r"spec.yaml: key 'growth_per_year.cpu': 'cpu' is not"):
        apply_spec(spec_base, {"growth_per_year.cpu": 0.1}, "spec.yaml")
    with pytest.raises(InputError, match="no such SKU"):
        apply_catalog(catalog_base, {"catalog:nope.price": 1}, "c.yaml")
    with pytest.raises(InputError, match="expected KEY=V1,V2"):
        parse_vary("growth_per_year.cpu_cores")


def test_profile_reduced_once_per_growth_scenario_and_prices_move_costs_only() -> None:
    _, _, profile = bundled()
    result = run_serial(
        tasks(parse_vary(GROWTH), parse_catalog_vary(PRICE)), profile, SweepOptions(years=200)
    )
    assert result.reductions == 2  # two growth rates; the price needs no new reduction
    rows = result.rows
    assert [r["status"] for r in rows] == ["ok"] * 4
    cheap, dear = rows[0], rows[1]  # same growth, drive price -30 % and +30 %
    assert cheap["holstebro:drives"] == dear["holstebro:drives"]
    assert dear["capex"] > cheap["capex"]
    assert rows[2]["holstebro:cores"] >= rows[0]["holstebro:cores"]  # more growth, no fewer


def test_a_failed_scenario_names_its_inputs_and_the_rest_run() -> None:
    _, _, profile = bundled()
    result = run_serial(
        tasks(parse_vary("sites.0.max_rack_units=84,2")), profile, SweepOptions(years=200)
    )
    ok, bad = result.rows
    assert ok["status"] == "ok"
    assert bad["in:sites.0.max_rack_units"] == "2"
    assert bad["status"].startswith("InfeasibleError")


def test_unknown_key_is_a_one_line_error(tmp_path: Path) -> None:
    done = run_cli(["sweep", "--vary", "growth_per_year.cpu=0.1", "--out", "s"], tmp_path)
    assert done.returncode == 2
    assert "key 'growth_per_year.cpu': 'cpu' is not in the spec" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "s").exists()


def test_sweep_on_a_loopback_dask_cluster_equals_the_local_cluster_and_serial(
    tmp_path: Path,
) -> None:
    """A real dask.distributed scheduler and two workers on 127.0.0.1; the table equals
    the one from the default local cluster, and from sizing one after another."""
    dask = Path(sys.executable).parent / "dask"
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "error"}
    procs = [
        subprocess.Popen(
            [
                str(dask),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), "the Dask scheduler did not start"
        procs.append(
            subprocess.Popen(
                [
                    str(dask),
                    "worker",
                    "--scheduler-file",
                    str(scheduler_file),
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd=tmp_path,
            )
        )
        import json

        address = json.loads(scheduler_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout="60s") as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(2, timeout=60)
        args = ["sweep", "--vary", GROWTH, "--catalog-vary", PRICE, "--years", "500"]
        remote = run_cli([*args, "--scheduler", address, "--out", "remote"], tmp_path)
        assert remote.returncode == 0, remote.stderr
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    local = run_cli([*args, "--workers", "2", "--out", "local"], tmp_path)
    assert local.returncode == 0, local.stderr
    remote_csv = (tmp_path / "remote" / "sweep.csv").read_bytes()
    assert remote_csv == (tmp_path / "local" / "sweep.csv").read_bytes()
    import pandas as pd

    _, _, profile = bundled()
    serial = table(
        run_serial(
            tasks(parse_vary(GROWTH), parse_catalog_vary(PRICE)), profile, SweepOptions(years=500)
        )
    )
    parquet = pd.read_parquet(tmp_path / "remote" / "sweep.parquet")
    pd.testing.assert_frame_equal(parquet, serial, check_dtype=False)
    assert "4 scenarios (0 failed)" in remote.stderr


def test_structural_alternatives_as_a_yaml_list() -> None:
    """Erasure coding or three copies: values that are mappings, as one YAML flow list."""
    variation = parse_vary(
        "storage.protection=[{scheme: erasure, data: 4, parity: 2}, {scheme: replicas, copies: 3}]"
    )
    assert variation.values == (
        {"scheme": "erasure", "data": 4, "parity": 2},
        {"scheme": "replicas", "copies": 3},
    )
    _, _, profile = bundled()
    rows = run_serial(tasks(variation), profile, SweepOptions(years=100)).rows
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert rows[0]["in:storage.protection"] == '{"data":4,"parity":2,"scheme":"erasure"}'
    # three copies store 3 bytes per byte against 1.5: more drives
    assert rows[1]["holstebro:drives"] > rows[0]["holstebro:drives"]
    with pytest.raises(InputError, match="YAML list"):
        parse_vary("storage.protection=[{scheme: replicas")


def _sweep_with(scheduler: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner", "sweep", "--vary", "growth_per_year.cpu_cores=0.06,0.1",
         "--scheduler", scheduler, "--out", str(out)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_a_bad_scheduler_is_refused_before_anything_starts(tmp_path: Path) -> None:
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        free = closed.getsockname()[1]
    cases = {
        "http://127.0.0.1:8786": "expected tcp://host:port",
        "not an address": "expected tcp://host:port",
        "tcp://127.0.0.1": "expected tcp://host:port",
        f"tcp://127.0.0.1:{free}": "nothing answers there",
    }
    for address, message in cases.items():
        out = tmp_path / "out"
        started = time.monotonic()
        done = _sweep_with(address, out)
        assert done.returncode == 2, (address, done.stderr)
        assert message in done.stderr, (address, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr
        assert time.monotonic() - started < 20
        assert not out.exists()


def test_a_port_that_accepts_and_never_speaks_dask_is_cut_off(tmp_path: Path) -> None:
    """A listener whose connections are accepted by the kernel and never answered: the
    handshake would wait for minutes; the sweep gives up after its stated time."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        out = tmp_path / "out"
        started = time.monotonic()
        done = _sweep_with(f"tcp://127.0.0.1:{port}", out)
        took = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert "not a Dask scheduler" in done.stderr
    assert took < 60
    assert not out.exists()


def test_vary_values_go_through_the_strict_loader() -> None:
    bomb = "[&a [x, x, x, x, x, x, x, x, x], &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]]"
    with pytest.raises(InputError, match=r"--vary protection.*alias"):
        parse_vary(f"protection={bomb}")
    assert parse_vary("growth_per_year.cpu_cores=0.06,0.1").values == (0.06, 0.1)
    assert parse_vary("storage.protection=[{scheme: replicas, copies: 3}]").values == (
        {"scheme": "replicas", "copies": 3},
    )


def test_the_scenario_count_has_a_stated_limit() -> None:
    many = tuple(parse_vary(f"k{i}=" + ",".join(str(v) for v in range(10))) for i in range(4))
    with pytest.raises(InputError, match=r"10,000 combinations.*at most 1,000 scenarios.*--max"):
        scenarios(many)
    assert len(scenarios(many, limit=10_000)) == 10_000
    with pytest.raises(InputError, match=r"--samples.*5,000.*at most 1,000"):
        scenarios(many, samples=5_000)
