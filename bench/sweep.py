"""The sweep benchmark: 200 scenarios on the bundled example, on the default local Dask
cluster, on a loopback dask.distributed cluster (a scheduler and two workers started as
processes) and one after another in one process; the three tables must be identical."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import Figure

from planner.cli.sweep import DaskClient
from planner.jobs.inputs import SizeInputs, load_inputs
from planner.jobs.sweep import (
    SweepOptions,
    build_tasks,
    load_bases,
    parse_catalog_vary,
    parse_vary,
    run_serial,
    run_sweep,
    scenarios,
    table,
)

FULL = (
    "growth_per_year.cpu_cores=0.04,0.06,0.08,0.10,0.12",
    "growth_per_year.stored_tib=0.15,0.20",
    "redundancy.servers=1,2",
)
FULL_CATALOG = ("pm1743-15t36.price=-30%,-15%,+0%,+15%,+30%", "ups-frame-20kw.price=-20%,+20%")
SMOKE = ("growth_per_year.cpu_cores=0.06,0.10",)
SMOKE_CATALOG = ("pm1743-15t36.price=-30%,+30%",)


def _loopback(folder: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    dask = str(Path(sys.executable).parent / "dask")
    file = folder / "scheduler.json"
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(file)], **quiet,
        )
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while not file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    procs.append(
        subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(file), "--nworkers", "2", "--nthreads",
             "1", "--no-dashboard", "--host", "127.0.0.1"], cwd=folder, **quiet,
        )
    )  # fmt: skip
    return json.loads(file.read_text())["address"], procs


def sweep(smoke: bool) -> list[Figure]:
    inputs = SizeInputs.bundled()
    spec_base, catalog_base = load_bases(inputs.spec, inputs.catalog)
    _, _, profile, _ = load_inputs(inputs)
    assert profile is not None
    variations = (
        *map(parse_vary, SMOKE if smoke else FULL),
        *map(parse_catalog_vary, SMOKE_CATALOG if smoke else FULL_CATALOG),
    )
    tasks = list(build_tasks(spec_base, catalog_base, scenarios(variations), "spec", "catalog"))
    options = SweepOptions(years=2_000)
    n = len(tasks)
    figures = []

    started = time.perf_counter()
    with DaskClient(None, None) as client:
        local = run_sweep(tasks, profile, client, options)
    local_s = time.perf_counter() - started
    figures.append(Figure("sweep", f"{n} scenarios, local cluster ({os.cpu_count()} "
                          "processes), per scenario", "s", [local_s / n]))  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        address, procs = _loopback(Path(tmp))
        try:
            started = time.perf_counter()
            with DaskClient(address, None) as client:
                client.wait_for_workers(2, timeout=60)
                remote = run_sweep(tasks, profile, client, options)
            remote_s = time.perf_counter() - started
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
    figures.append(Figure("sweep", f"{n} scenarios, loopback dask.distributed (2 workers), "
                          "per scenario", "s", [remote_s / n]))  # fmt: skip

    started = time.perf_counter()
    serial = run_serial(tasks, profile, options)
    serial_s = time.perf_counter() - started
    figures.append(Figure("sweep", f"{n} scenarios one after another in one process, per "
                          "scenario", "s", [serial_s / n]))  # fmt: skip
    same = table(local).equals(table(remote)) and table(local).equals(table(serial))
    figures.append(
        Figure("sweep", "speed-up of the local cluster over one process", "x",
               [serial_s / local_s], target=None if smoke else 1.5, higher_is_better=True,
               note=f"tables identical: {same}; profile reduced {local.reductions} times")
    )  # fmt: skip
    if not same:
        raise SystemExit("the sweep's tables differ between schedulers")
    return figures
