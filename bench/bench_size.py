"""Benchmark of `planner size` on the bundled example, stage by stage, in one process.

Reports wall time per stage, the MILP's own solve time, and peak resident memory; also
how long reading the same year takes from CSV and from Parquet. Figures are printed,
never asserted: speed targets live here, not in unit tests.

    .venv/bin/python bench/bench_size.py
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from planner.inputs.catalog import default_catalog_path, read_catalog
from planner.inputs.example import example_spec_path, generate_example_frame
from planner.inputs.profiles import profile_from_frame, read_profile, write_profile
from planner.inputs.spec import read_spec
from planner.sizing.envelope import compute_envelope
from planner.sizing.search import optimise
from planner.sizing.verify import verify_plan
from planner.sizing.workloads import size_workloads


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    timings: list[tuple[str, float]] = []

    def timed(name: str, func):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        value = func()
        timings.append((name, time.perf_counter() - started))
        return value

    spec = read_spec(example_spec_path())
    catalog = read_catalog(default_catalog_path())
    frame = timed("generate the synthetic year", generate_example_frame)
    profile = timed(
        "validate into a cube",
        lambda: profile_from_frame(frame, spec, "bundled", lambda i: f"row {i + 1}"),
    )
    envelope = timed("reduce to the envelope", lambda: compute_envelope(profile, spec))
    sizings = timed("size workloads", lambda: size_workloads(profile, spec))
    solution = timed("build + solve the MILP", lambda: optimise(spec, catalog, envelope, sizings))
    report = timed(
        "verify every timestep",
        lambda: verify_plan(profile, spec, catalog, solution.fleets, sizings),
    )
    assert report.ok
    total = sum(t for _, t in timings)
    print(f"rows: {len(frame):,}  timesteps: {profile.n_steps:,}")
    for name, seconds in timings:
        print(f"  {name:<28} {seconds:7.3f} s")
    print(f"  {'total':<28} {total:7.3f} s")
    print(
        f"MILP solve only (HiGHS): {solution.solve_time_s:.4f} s, "
        f"{solution.variables} variables, {solution.constraints} constraints"
    )
    print(f"peak RSS so far: {peak_mib():,.0f} MiB")

    with tempfile.TemporaryDirectory() as tmp:
        csv_path, parquet_path = Path(tmp) / "year.csv", Path(tmp) / "year.parquet"
        out = frame.copy()
        out["timestamp"] = out["timestamp"].map(lambda t: t.isoformat())
        out.to_csv(csv_path, index=False)
        write_profile(frame, parquet_path)
        for path in (csv_path, parquet_path):
            started = time.perf_counter()
            loaded = read_profile(path, spec)
            seconds = time.perf_counter() - started
            size_mib = path.stat().st_size / 2**20
            same = loaded.content_hash() == profile.content_hash()
            print(
                f"read_profile {path.suffix:<8} {seconds:6.2f} s  ({size_mib:,.0f} MiB on disk, "
                f"same content: {same})"
            )
    print(f"peak RSS at end: {peak_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
