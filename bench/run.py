"""`make bench`: every speed and memory figure with its target, PASS or MISS.

Deterministic inputs (the seeded example, scaled and resampled); each figure is the
median of ``--runs`` runs; a table on stdout and JSON in out/bench/bench.json.
``--smoke`` runs every benchmark once on tiny inputs and checks only that they run
(CI runs it so the benchmarks cannot rot); it asserts nothing about time.

    .venv/bin/python bench/run.py [--runs N] [--smoke]
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    Figure,
    head_revision,
    machine,
    planner,
    print_table,
    run_command,
    write_json,
)

from planner.inputs.example import example_spec_path, generate_example_frame
from planner.inputs.profiles import write_profile

#: Two more workloads for the 12-workload profiles: copies of two of the example's.
EXTRA = {"epr-web-b": "epr-web", "identity-b": "identity"}


def twelve_workloads(days: int, step_minutes: int, folder: Path) -> tuple[Path, Path]:
    """A profile of 2 sites x 12 workloads at ``step_minutes`` over ``days``, and its spec."""
    frame = generate_example_frame(days=days, step_minutes=step_minutes, ordered=False)
    parts = [frame]
    for new, old in EXTRA.items():
        extra = frame[frame["workload"] == old].copy()
        extra["workload"] = new
        parts.append(extra)
    names = [*frame["workload"].cat.categories, *EXTRA]
    joined = pd.concat(
        [
            p.assign(workload=pd.Categorical(p["workload"].astype(str), categories=names))
            for p in parts
        ],
        ignore_index=True,
    )  # in (workload, site, timestamp) order: a profile may come in any order
    profile = folder / f"profile-{days}d-{step_minutes}m.parquet"
    write_profile(joined, profile)
    spec = yaml.safe_load(example_spec_path().read_text())
    for new, old in EXTRA.items():
        workload = copy.deepcopy(next(w for w in spec["workloads"] if w["name"] == old))
        workload["name"] = new
        spec["workloads"].append(workload)
    spec_path = folder / "spec-12.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return profile, spec_path


def repeat(figure: Figure, runs: int, measure: Callable[[], float]) -> Figure:
    for _ in range(runs):
        figure.runs.append(measure())
    return figure


def sizing(runs: int, smoke: bool, folder: Path) -> list[Figure]:
    out: list[Figure] = []
    plan = folder / "plan.json"
    other = folder / "plan-12.json"
    bundled = Figure("sizing", "bundled example, 1 year at 5 min, end to end", "s", target=2.0)
    memory = Figure("sizing", "bundled example, peak memory", "MiB")
    for _ in range(runs):
        run = run_command(planner("size", "--out", str(plan)))
        assert run.returncode == 0, run.stderr
        bundled.runs.append(run.wall_s)
        memory.runs.append(run.peak_mib)
    out += [bundled, memory]
    sizes = [(7, 5)] if smoke else [(91, 1), (182, 1), (365, 1), (1095, 1)]
    points: list[tuple[int, float]] = []
    for days, step in sizes:
        # generated in a child, so this process stays small (a child forked from a large
        # process would report the parent's pages in its peak memory)
        made = subprocess.run(
            [sys.executable, __file__, "--make-profile", str(days), str(step), str(folder)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        profile, spec = (Path(p) for p in made.stdout.split())
        label = f"{days} days at {step} min, 2 sites x 12 workloads"
        wall = Figure("sizing", label, "s", target=8.0 if days == 365 and step == 1 else None)
        rss = Figure(
            "sizing", f"{label}, peak memory", "MiB", target=1536.0 if days == 365 else None
        )
        for _ in range(1 if days > 365 else runs):
            run = run_command(
                planner("size", "--profile", str(profile), "--spec", str(spec), "--out", str(other))
            )
            assert run.returncode == 0, run.stderr
            wall.runs.append(run.wall_s)
            rss.runs.append(run.peak_mib)
        out += [wall, rss]
        points.append((days * 24 * 60 // step, wall.value))
        profile.unlink()
    if len(points) >= 2:
        steps, seconds = zip(*points, strict=True)
        exponent = float(np.polyfit(np.log(steps), np.log(seconds), 1)[0])
        out.append(
            Figure(
                "sizing",
                f"cost against timesteps, fitted exponent over {len(points)} sizes",
                "",
                [exponent],
                target=1.0 if not smoke else None,
                note="seconds = a x timesteps^b",
            )
        )
    return out


def hard_sizing(smoke: bool) -> list[Figure]:
    """The sizing loop's worst cases (:mod:`hard_sizing`): each under a minute."""
    from hard_sizing import HARD_SEEDS, time_seed

    out = []
    for seed in HARD_SEEDS[:1] if smoke else HARD_SEEDS:
        seconds, outcome = time_seed(seed)
        out.append(
            Figure(
                "sizing",
                f"3 models, N+2, 24 U: generated case {seed}",
                "s",
                [seconds],
                target=None if smoke else 60.0,
                note=outcome,
            )
        )
    return out


def reduction(smoke: bool) -> list[Figure]:
    from naive import compare, fitted_exponent

    days_list = [1, 2] if smoke else [2, 3, 4, 5, 7]
    naive_points: list[tuple[int, float]] = []
    for days in days_list:
        steps, _, naive_s, reduced_opt, naive_opt = compare(days, 600.0)
        assert naive_s is not None, f"naive model did not finish on {days} days"
        assert math.isclose(reduced_opt, naive_opt, rel_tol=1e-9)
        naive_points.append((steps, naive_s))
    quarter_days = 7 if smoke else 91
    q_steps, reduced_q, _, _, _ = compare_reduced_only(quarter_days)
    exponent = fitted_exponent([s for s, _ in naive_points], [t for _, t in naive_points])
    steps0, seconds0 = naive_points[-1]
    naive_quarter = seconds0 * (q_steps / steps0) ** exponent
    return [
        Figure(
            "reduction",
            f"naive per-timestep MILP, {naive_points[-1][0]:,} steps (largest that finishes)",
            "s",
            [naive_points[-1][1]],
            note="same optimum as the reduced model, asserted",
        ),
        Figure("reduction", "naive model's fitted exponent in timesteps", "", [exponent]),
        Figure(
            "reduction",
            f"planner (envelope + MILP), a quarter at 5 min ({q_steps:,} steps)",
            "s",
            [reduced_q],
        ),
        Figure(
            "reduction",
            "naive on a quarter, extrapolated with its exponent",
            "s",
            [naive_quarter],
        ),
        Figure(
            "reduction",
            "planner faster than naive on a quarter at 5 min",
            "x",
            [naive_quarter / reduced_q],
            target=None if smoke else 100.0,
            higher_is_better=True,
        ),
    ]


def compare_reduced_only(days: int) -> tuple[int, float, None, float, float]:
    from naive import load_series, solve_reduced

    spec, catalog, series = load_series(days)
    started = time.perf_counter()
    optimum = solve_reduced(spec, catalog, series)
    return int(series[0].cpu.shape[0]), time.perf_counter() - started, None, optimum, optimum


def availability(runs: int, smoke: bool, folder: Path) -> list[Figure]:
    from simpy_model import simulate as simpy_simulate

    from planner.simulate.availability import OutageModel, SiteChain, simulate_years, summarise

    plan = folder / "plan.json"
    if not plan.exists():
        assert run_command(planner("size", "--out", str(plan))).returncode == 0
    years = 20_000 if smoke else 1_000_000
    command = Figure(
        "availability",
        f"{years:,} years x 2 sites, whole command",
        "s",
        target=None if smoke else 1.0,
    )
    for _ in range(runs):
        run = run_command(
            planner("simulate", "availability", str(plan), "--years", str(years), "--json")
        )
        assert run.returncode == 0, run.stderr
        command.runs.append(run.wall_s)
    # the same stressed two-site system in both models: agreement and speed
    chain = SiteChain(
        generator_fail_to_start=0.3,
        generator_fail_to_run_per_hour=0.05,
        detection_minutes=0.25,
        runtime_new_minutes=20.0,
        peukert_k=1.1,
        end_of_life_capacity=0.8,
        failover_p50_minutes=10.0,
        failover_p95_minutes=40.0,
        failover_failure_probability=0.2,
        recovery_minutes=120.0,
    )
    model = OutageModel(2.0, "lognormal", p50_minutes=30, p95_minutes=240)
    sim_years = 2_000 if smoke else 20_000
    started = time.perf_counter()
    simpy_down = simpy_simulate(np.random.default_rng(1), sim_years, model, (chain, chain))
    simpy_s = time.perf_counter() - started
    mc_years = 20_000 if smoke else 1_000_000
    started = time.perf_counter()
    down, longest = simulate_years(np.random.default_rng(2), mc_years, model, (chain, chain))
    mc_s = time.perf_counter() - started
    mc = summarise(down, longest)
    se = float(simpy_down.std(ddof=1)) / math.sqrt(sim_years)
    simpy_mean = float(simpy_down.mean())
    low, high = simpy_mean - 2.5758 * se, simpy_mean + 2.5758 * se
    overlap = not (high < mc.ci99_downtime_min[0] or mc.ci99_downtime_min[1] < low)
    simpy_rate = 2 * sim_years / simpy_s
    mc_rate = 2 * mc_years / mc_s
    # end to end: the SimPy model run as a command on the bundled design
    e2e_years = 2_000 if smoke else 50_000
    simpy_run = run_command([sys.executable, "bench/simpy_model.py", str(plan), str(e2e_years)])
    assert simpy_run.returncode == 0, simpy_run.stderr
    simpy_doc = json.loads(simpy_run.stdout)
    # the whole SimPy command scaled to the years the planner's command ran
    startup = simpy_run.wall_s - simpy_doc["seconds"]
    simpy_e2e = startup + simpy_doc["seconds"] * years / e2e_years
    # the simulation alone on the bundled design, the system the command runs
    from planner.inputs.example import example_spec_path
    from planner.inputs.spec import read_spec
    from planner.outputs.plan import read_plan
    from planner.simulate.plan_fleet import outage_model, sized_chains

    spec = read_spec(example_spec_path())
    assert spec.power is not None
    chains = sized_chains(spec, read_plan(plan))
    bundled_rates = []
    for i in range(runs + 1):
        started = time.perf_counter()
        simulate_years(np.random.default_rng(i), years, outage_model(spec.power), chains)
        if i:  # the first run warms up
            bundled_rates.append(2 * years / (time.perf_counter() - started))
    bundled_rate = float(np.median(bundled_rates))
    return [
        command,
        Figure(
            "availability",
            "Monte Carlo on the bundled design (simulation alone)",
            "site-years/s",
            bundled_rates,
        ),
        Figure(
            "availability",
            "SimPy model on the bundled design (simulation alone)",
            "site-years/s",
            [simpy_doc["site_years_per_s"]],
        ),
        Figure(
            "availability",
            "simulation alone, Monte Carlo over SimPy (bundled design)",
            "x",
            [bundled_rate / simpy_doc["site_years_per_s"]],
            target=None if smoke else 100.0,
            higher_is_better=True,
        ),
        Figure(
            "availability",
            f"whole command, SimPy over the planner ({years:,} years, bundled design)",
            "x",
            [simpy_e2e / command.value],
            target=None if smoke else 20.0,
            higher_is_better=True,
            note=f"SimPy's whole command {simpy_e2e:.2f} s",
        ),
        Figure("availability", "Monte Carlo, stressed system", "site-years/s", [mc_rate]),
        Figure("availability", "SimPy model, stressed system", "site-years/s", [simpy_rate]),
        Figure(
            "availability",
            "simulation alone, Monte Carlo over SimPy (stressed system: many outages)",
            "x",
            [mc_rate / simpy_rate],
        ),
        Figure(
            "availability",
            "Monte Carlo and SimPy agree (99 % intervals overlap, stressed system)",
            "",
            [1.0 if overlap else 0.0],
            target=1.0,
            higher_is_better=True,
            note=f"MC {mc.mean_downtime_min:.2f} [{mc.ci99_downtime_min[0]:.2f}, "
            f"{mc.ci99_downtime_min[1]:.2f}], SimPy {simpy_mean:.2f} [{low:.2f}, {high:.2f}]"
            " min/year",
        ),
    ]


def commands(runs: int, smoke: bool, folder: Path) -> list[Figure]:
    plan = folder / "plan.json"
    if not plan.exists():
        assert run_command(planner("size", "--out", str(plan))).returncode == 0
    render = Figure("commands", "render --stack prod", "s", target=None if smoke else 3.0)
    for i in range(runs):
        run = run_command(planner("render", "--stack", "prod", "--out", str(folder / f"r{i}")))
        assert run.returncode in (0, 1), run.stderr
        render.runs.append(run.wall_s)
    report = Figure("commands", "report", "s", target=None if smoke else 3.0)
    report_rss = Figure("commands", "report, peak memory", "MiB", target=None if smoke else 400.0)
    for i in range(runs):
        args = ["report", str(plan), "--out", str(folder / f"rep{i}")]
        if smoke:
            args += ["--years", "2000"]
        run = run_command(planner(*args))
        assert run.returncode == 0, run.stderr
        report.runs.append(run.wall_s)
        report_rss.runs.append(run.peak_mib)
    help_figure = Figure("commands", "planner --help", "s", target=0.3)
    for _ in range(max(runs, 3)):
        run = run_command(planner("--help"))
        help_figure.runs.append(run.wall_s)
    out = [render, report, report_rss, help_figure]
    out += import_costs()
    if not smoke:
        out.append(preview(runs, folder))
    return out


#: What each subcommand imports when it runs (its CLI module defers these).
WORKING_MODULES = {
    "diff": "planner.outputs.diff",
    "drill": "infra.drill",
    "example": "planner.inputs.example",
    "preview": "planner.jobs.preview",
    "profile": "planner.inputs.prometheus",
    "render": "infra.render",
    "report": "planner.outputs.report.build",
    "simulate": "planner.simulate.availability",
    "size": "planner.jobs.size",
}


def import_costs() -> list[Figure]:
    """Each subcommand's import cost in a fresh interpreter: its CLI module (what
    `planner --help` pays) and the modules it imports when it runs."""
    from planner.cli import main as cli

    out = []
    for name in sorted(cli.commands):
        callback = cli.commands[name].callback
        module = getattr(callback, "__module__", "planner.cli")
        for what, target in (("CLI module", module), ("when it runs", WORKING_MODULES.get(name))):
            if target is None:
                continue
            code = (
                "import time,importlib;t=time.perf_counter();"
                f"importlib.import_module('{target}');print(time.perf_counter()-t)"
            )
            done = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
            )
            out.append(
                Figure(
                    "imports",
                    f"planner {name}: {what} ({target})",
                    "s",
                    [float(done.stdout.strip())],
                )
            )
    return out


def preview(runs: int, folder: Path) -> Figure:
    import bench_preview

    head = head_revision()
    repo = bench_preview.prepare(head, folder / "preview")
    figure = Figure("commands", "preview, one-key spec change (prod)", "s", target=15.0)
    for _ in range(runs):
        figure.runs.append(bench_preview.timed(repo, head))
    return figure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument(
        "--only",
        choices=("sizing", "reduction", "availability", "commands", "sweep"),
        action="append",
    )
    parser.add_argument("--make-profile", nargs=3, metavar=("DAYS", "STEP", "FOLDER"))
    args = parser.parse_args()
    if args.make_profile:
        days, step, where = args.make_profile
        profile, spec = twelve_workloads(int(days), int(step), Path(where))
        print(profile, spec)
        return
    runs = 1 if args.smoke else args.runs
    groups = args.only or ["sizing", "reduction", "availability", "commands", "sweep"]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.setdefault("CI", "1")
        # the groups that run commands first, while this process is small; the ones that
        # compute in this process last
        if "sizing" in groups:
            figures += sizing(runs, args.smoke, folder)
            figures += hard_sizing(args.smoke)
        if "commands" in groups:
            figures += commands(runs, args.smoke, folder)
        if "availability" in groups:
            figures += availability(runs, args.smoke, folder)
        if "reduction" in groups:
            figures += reduction(args.smoke)
        if "sweep" in groups:
            from sweep import sweep

            figures += sweep(args.smoke)
    print_table(figures)
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}")
    path = write_json(figures, info, "bench-smoke" if args.smoke else "bench")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
