"""`planner size` on the bundled example: this checkout against a baseline revision.

The baseline (default: cee032b, the last revision that sized the aggregate only, before
pod placement, drives in bays and the link) is checked out in a temporary git worktree
and run with its own code; both run alternately, several times, in this one script.
Prints the median wall time of each and the ratio (the target: at most 1.5x).

    .venv/bin/python bench/bench_packing.py [--baseline REV] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(tree: Path, out: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree), CI="1")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "planner", "size", "--out", str(out)],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="cee032b")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), args.baseline],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            times: dict[str, list[float]] = {"baseline": [], "this checkout": []}
            for i in range(args.runs):
                times["baseline"].append(timed(base, Path(tmp) / f"b{i}.json"))
                times["this checkout"].append(timed(ROOT, Path(tmp) / f"n{i}.json"))
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False
            )
    medians = {k: statistics.median(v) for k, v in times.items()}
    for name, value in medians.items():
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"{name:>14}: median {value:.2f} s  ({runs})")
    ratio = medians["this checkout"] / medians["baseline"]
    print(f"ratio: {ratio:.2f}x (target <= 1.5x) {'PASS' if ratio <= 1.5 else 'MISS'}")


if __name__ == "__main__":
    main()
