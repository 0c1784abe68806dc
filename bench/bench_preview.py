"""`planner preview` of a one-key spec change on the prod stack: this checkout against a
baseline revision, each with its own code, in one script.

For each revision a clone gets a branch that raises the example spec's stored_tib growth
from 0.15 to 0.16 and commits the plan that revision's `planner size` writes; then
`planner preview --base <revision>` is timed (median of --runs). Target: under 15 s.

    .venv/bin/python bench/bench_preview.py [--baseline REV] [--runs N]
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

from common import ROOT, head_revision

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def prepare(rev: str, folder: Path) -> Path:
    repo = folder / rev
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    subprocess.run(["git", "checkout", "--quiet", "-b", "change", rev], cwd=repo, check=True)
    spec = repo / "planner" / "data" / "example-spec.yaml"
    spec.write_text(spec.read_text().replace("stored_tib: 0.15", "stored_tib: 0.16", 1))
    env = dict(os.environ, PYTHONPATH=str(repo), CI="1")
    subprocess.run(
        [sys.executable, "-m", "planner", "size", "--out", "stacks/prod/plan.json"],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["git", "commit", "--quiet", "-am", "stored_tib growth 0.16"],
        cwd=repo,
        env=dict(os.environ, **GIT_ENV),
        check=True,
    )
    return repo


def timed(repo: Path, rev: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(repo), CI="1")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "planner", "preview", "--base", rev, "--stack", "prod"],
        cwd=repo,
        env=env,
        check=False,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="4240fb4")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    head = head_revision()
    with tempfile.TemporaryDirectory() as tmp:
        repos = {rev: prepare(rev, Path(tmp)) for rev in (args.baseline, head)}
        times: dict[str, list[float]] = {rev: [] for rev in repos}
        for _ in range(args.runs):
            for rev, repo in repos.items():
                times[rev].append(timed(repo, rev))
    medians = {rev: statistics.median(values) for rev, values in times.items()}
    for rev, value in medians.items():
        label = "baseline" if rev == args.baseline else "this checkout"
        runs = ", ".join(f"{t:.1f}" for t in times[rev])
        print(f"{label:>14} ({rev}): median {value:.1f} s ({runs})")
    now = medians[head]
    print(
        f"speed-up {medians[args.baseline] / now:.2f}x; "
        f"{'PASS' if now < 15 else 'MISS'} (target: under 15 s)"
    )


if __name__ == "__main__":
    main()
