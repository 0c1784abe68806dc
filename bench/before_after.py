"""The figures `make bench` missed, before and after their fixes, in one run.

A clone at ``--baseline`` and this checkout each run the same commands on the same
inputs, alternately (median of ``--runs``); the table gives both and their ratio.

    .venv/bin/python bench/before_after.py [--baseline REV] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, run_command


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="92f4ba9")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = folder / "baseline"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(base)], check=True)
        subprocess.run(["git", "checkout", "--quiet", args.baseline], cwd=base, check=True)
        made = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "run.py"), "--make-profile", "365", "1",
             str(folder)],
            check=True, capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        profile, spec = made.stdout.split()
        trees = {"before": base, "after": ROOT}
        cases = {
            "size, bundled example": lambda out: ["size", "--out", out + ".json"],
            "size, 1 year at 1 min, 2 x 12": lambda out: [
                "size", "--profile", profile, "--spec", spec, "--out", out + ".json"
            ],
            "render --stack prod": lambda out: ["render", "--stack", "prod", "--out", out],
        }  # fmt: skip
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for i in range(args.runs):
            for name, make in cases.items():
                for label, tree in trees.items():
                    out = str(folder / f"{label}-{i}-{len(results)}")
                    env = {"PYTHONPATH": str(tree)}
                    run = run_command([sys.executable, "-m", "planner", *make(out)], tree, env)
                    assert run.returncode in (0, 1), run.stderr
                    results.setdefault((name, label), []).append((run.wall_s, run.peak_mib))
        plan = {label: folder / f"{label}-plan.json" for label in trees}
        for label, tree in trees.items():
            run_command(
                [sys.executable, "-m", "planner", "size", "--out", str(plan[label])],
                cwd=tree, env={"PYTHONPATH": str(tree)},
            )  # fmt: skip
        for i in range(args.runs):
            for label, tree in trees.items():
                env = {"PYTHONPATH": str(tree)}
                run = run_command(
                    [sys.executable, "-m", "planner", "report", str(plan[label]), "--out",
                     str(folder / f"rep-{label}-{i}")],
                    cwd=tree, env=env,
                )  # fmt: skip
                results.setdefault(("report", label), []).append((run.wall_s, run.peak_mib))
                run = run_command(
                    [sys.executable, "-m", "planner", "simulate", "availability",
                     str(plan[label]), "--years", "1000000"],
                    cwd=tree, env=env,
                )  # fmt: skip
                results.setdefault(("simulate availability, 10^6 years", label), []).append(
                    (run.wall_s, run.peak_mib)
                )
    print(f"{'command':<40} {'before s':>9} {'after s':>9} {'x':>6} {'before MiB':>11} "
          f"{'after MiB':>10} {'x':>6}")  # fmt: skip
    names = list(dict.fromkeys(name for name, _ in results))
    for name in names:
        before = results[(name, "before")]
        after = results[(name, "after")]
        bt = statistics.median(t for t, _ in before)
        at = statistics.median(t for t, _ in after)
        bm = statistics.median(m for _, m in before)
        am = statistics.median(m for _, m in after)
        print(f"{name:<40} {bt:9.2f} {at:9.2f} {bt / at:6.2f} {bm:11,.0f} {am:10,.0f} "
              f"{bm / am:6.2f}")  # fmt: skip
    print(f"baseline {args.baseline} against this checkout; medians of {args.runs} runs")


if __name__ == "__main__":
    main()
