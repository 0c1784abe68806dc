"""What every benchmark shares: a figure with its target, medians, and timing a command.

A figure's value is the median of its runs; PASS or MISS compares it with the target.
Commands are timed end to end in a fresh interpreter (start-up included), with the child's
own peak resident memory read from ``wait4``'s rusage.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "bench"


@dataclass
class Figure:
    """One measured figure: the runs, their unit, and the target it must meet (or None)."""

    group: str
    name: str
    unit: str
    runs: list[float] = field(default_factory=list)
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def value(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        good = self.value >= self.target if self.higher_is_better else self.value <= self.target
        return "PASS" if good else "MISS"

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'>=' if self.higher_is_better else '<='} {_num(self.target)} {self.unit}"


def _num(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


@dataclass(frozen=True)
class Run:
    wall_s: float
    peak_mib: float
    stdout: str
    stderr: str
    returncode: int


def run_command(args: Sequence[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> Run:
    """Run ``args`` in a child process; its wall time and its own peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(args),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "1", **(env or {})},
    )
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the maximum over all)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stdout = process.stdout.read() if process.stdout else ""
    stderr = process.stderr.read() if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_maxrss / 1024.0, stdout, stderr, process.returncode)


def head_revision() -> str:
    """The short hash of the checked-out commit."""
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def planner(*args: str) -> list[str]:
    return [sys.executable, "-m", "planner", *args]


def print_table(figures: Sequence[Figure]) -> None:
    width = max(len(f"{f.group}: {f.name}") for f in figures)
    print(f"{'figure':<{width}}  {'median':>12}  {'unit':<12} {'target':<18} runs")
    for f in figures:
        label = f"{f.group}: {f.name}"
        runs = ", ".join(_num(r) for r in f.runs)
        print(
            f"{label:<{width}}  {_num(f.value):>12}  {f.unit:<12} {f.target_text():<18} "
            f"[{runs}] {f.verdict}" + (f"  ({f.note})" if f.note else "")
        )


def write_json(figures: Sequence[Figure], machine: dict[str, str], name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    doc = {
        "machine": machine,
        "figures": [{**asdict(f), "value": f.value, "verdict": f.verdict} for f in figures],
    }
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return path


def machine() -> dict[str, str]:
    import platform

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
