"""`planner sweep`: size every variation of the spec and catalogue on Dask."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import click

from planner.cli._shell import interactive, out_folder_option, planner_errors
from planner.cli.simulate import seed_option, years_option
from planner.cli.size import input_options, resolve_inputs


@click.command(short_help="What-if sweep: size many variations, on Dask.")
@input_options
@click.option(
    "--vary",
    "vary",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="A dotted spec key and its values (YAML scalars, or +10%/-10% of the base value); "
    "repeat for more keys. Example: --vary growth_per_year.cpu_cores=0.06,0.10",
)
@click.option(
    "--catalog-vary",
    "catalog_vary",
    multiple=True,
    metavar="SKU.FIELD=V1,V2,...",
    help="A catalogue entry's field and its values, e.g. pm9a3-7t68.price=-30%,+30%.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1, max=100_000),
    help="Size a Latin hypercube sample of this many scenarios instead of every combination.",
)
@click.option(
    "--max-scenarios",
    type=click.IntRange(min=1, max=100_000),
    default=1_000,
    show_default=True,
    help="Refuse a sweep of more scenarios than this (each is a full sizing).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="A running Dask scheduler (tcp://host:8786); default: a local cluster of "
    "processes, one per core.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=512),
    help="Processes of the local cluster (default: the machine's cores).",
)
@years_option(20_000)
@seed_option
@out_folder_option("out/sweep")
@planner_errors
def sweep(
    vary: tuple[str, ...],
    catalog_vary: tuple[str, ...],
    samples: int | None,
    max_scenarios: int,
    scheduler: str | None,
    workers: int | None,
    years: int,
    seed: int,
    out_dir: Path,
    **given: Any,
) -> None:
    """Size every combination of the varied inputs (or a Latin hypercube sample of them)
    and write sweep.parquet and sweep.csv: the inputs, the fleet per site, the costs, the
    smallest capacity margin and the availability of each scenario. A scenario that fails
    (infeasible, or any error) is a row naming its inputs and the error; the rest run on.
    The table is the same whichever scheduler ran it."""
    from planner.fsutil import check_output_folder, staged_directory
    from planner.jobs.inputs import load_inputs
    from planner.jobs.sweep import (
        SweepOptions,
        build_tasks,
        load_bases,
        parse_catalog_vary,
        parse_vary,
        run_sweep,
        scenarios,
        sweep_document,
        table,
    )

    if scheduler is not None:
        check_scheduler(scheduler)
    inputs = resolve_inputs(given)
    check_output_folder(out_dir, "sweep", inputs.paths())
    variations = (*map(parse_vary, vary), *map(parse_catalog_vary, catalog_vary))
    if not variations:
        raise click.UsageError("nothing to sweep: give at least one --vary or --catalog-vary")
    options = SweepOptions(years=years, seed=seed, samples=samples)
    assignments = scenarios(variations, samples, options.sample_seed, max_scenarios)
    spec_base, catalog_base = load_bases(inputs.spec, inputs.catalog)
    tasks = list(build_tasks(spec_base, catalog_base, assignments, str(inputs.spec),
                             str(inputs.catalog)))  # fmt: skip
    _, _, profile, _ = load_inputs(inputs)
    assert profile is not None
    started = time.perf_counter()
    with DaskClient(scheduler, workers) as client:
        bar = _bar(len(tasks))
        result = run_sweep(tasks, profile, client, options, bar)
    elapsed = time.perf_counter() - started
    frame = table(result)
    with staged_directory(out_dir, "sweep", inputs.paths()) as staging:
        frame.to_parquet(staging / "sweep.parquet", index=False)
        frame.to_csv(staging / "sweep.csv", index=False, lineterminator="\n")
        (staging / "sweep.json").write_text(
            sweep_document(inputs, variations, assignments, profile.content_hash()),
            encoding="utf-8",
        )
    failed = int((frame["status"] != "ok").sum())
    click.echo(
        f"{len(tasks)} scenarios ({failed} failed) in {elapsed:.1f} s, "
        f"{elapsed / len(tasks):.2f} s each; the profile reduced {result.reductions} time(s)",
        err=True,
    )
    for name in ("sweep.parquet", "sweep.csv", "sweep.json"):
        click.echo(f"wrote {out_dir / name}")


class DaskClient:
    """A Dask client on ``address``, or on a local cluster of processes it starts and
    stops (quiet: no dashboard, warnings only)."""

    def __init__(self, address: str | None, workers: int | None) -> None:
        self.address, self.workers = address, workers
        self.cluster: Any = None
        self.client: Any = None

    def __enter__(self) -> Any:
        import logging

        from distributed import Client, LocalCluster

        for name in ("distributed", "tornado", "bokeh"):
            logging.getLogger(name).setLevel(logging.ERROR)
        if self.address:
            self.client = _connect(Client, self.address)
            return self.client
        self.cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=self.workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        self.client = Client(self.cluster)  # type: ignore[no-untyped-call]
        return self.client

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


#: How long a Dask scheduler has to answer, in all (a port that accepts and never speaks
#: Dask must not hold the sweep).
CONNECT_TIMEOUT_S = 15.0
_ADDRESS = re.compile(r"^(tcp|tls)://([^:/\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$")


def check_scheduler(address: str) -> None:
    """Before anything starts: ``address`` is tcp:// or tls:// host:port, and something
    listens there (a TCP connection within a few seconds)."""
    import socket

    from planner.errors import InputError

    match = _ADDRESS.match(address)
    if not match or not 0 < int(match[3]) < 65536:
        raise InputError("--scheduler", repr(address), "expected tcp://host:port (or tls://)")
    host = match[2].strip("[]")
    try:
        with socket.create_connection((host, int(match[3])), timeout=5):
            pass
    except OSError as error:
        raise InputError(
            "--scheduler", address, f"nothing answers there ({error.strerror or error})"
        ) from None


def _connect(client_type: Any, address: str) -> Any:
    """A client of the scheduler at ``address`` within :data:`CONNECT_TIMEOUT_S` in all;
    a thread keeps a hanging handshake from holding the command."""
    import threading

    from planner.errors import InputError

    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = client_type(address, timeout=f"{CONNECT_TIMEOUT_S / 2:g}s")
        except Exception as error:  # any failure is reported the same way
            box["error"] = error

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT_S)
    if "client" in box:
        return box["client"]
    why = box.get("error") or f"no Dask handshake within {CONNECT_TIMEOUT_S:g} s"
    raise InputError("--scheduler", address, f"not a Dask scheduler ({why})")


def _bar(total: int) -> Any:
    if not interactive():
        return lambda done, total: None
    bar = click.progressbar(length=total, label="sizing scenarios", file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.update(done - bar.pos)
        if done == total:
            bar.render_finish()

    return update
