"""The planner's own error types. Only the CLI shell turns them into exit codes."""

from __future__ import annotations


class PlannerError(Exception):
    """Base class for every error the planner raises on purpose."""


class InputError(PlannerError):
    """Bad input: names the file, the row or key, and what was expected (exit code 2)."""

    def __init__(self, source: str, where: str, expected: str) -> None:
        self.source = source
        self.where = where
        self.expected = expected
        location = f"{source}: {where}" if where else source
        super().__init__(f"{location}: {expected}")


class InfeasibleError(PlannerError):
    """No catalogue mix meets the spec (exit code 1). ``reasons`` are one line each."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("infeasible: " + "; ".join(reasons))


class VerificationError(PlannerError):
    """The independent replay found a plan that does not meet its requirements."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        super().__init__("verification failed: " + "; ".join(failures))


class SolverError(PlannerError):
    """The solver stopped without a proven answer (time limit, numerical trouble)."""
