"""Print the run's timings at the end (tool builds are printed by `make e2e-tools`)."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from e2e.test_e2e import TIMINGS

    if TIMINGS:
        terminalreporter.section("e2e timings")
        for step, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{step}: {seconds:.1f} s")
