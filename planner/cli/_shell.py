"""What every command shares: error mapping to exit codes, progress on a terminal only."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

EXIT_INFEASIBLE = 1
EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """One-line error for bad input, exit code 2, no traceback."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class Infeasible(click.ClickException):
    exit_code = EXIT_INFEASIBLE

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons

    def show(self, file: Any = None) -> None:
        click.echo("infeasible: no catalogue mix meets the spec:", err=True)
        for reason in self.reasons:
            click.echo(f"  - {reason}", err=True)


def planner_errors(func: F) -> F:
    """Map the library's own errors onto click exceptions with the promised exit codes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from planner.errors import InfeasibleError, InputError, PlannerError, VerificationError

        try:
            return func(*args, **kwargs)
        except InputError as exc:
            raise BadInput(str(exc)) from None
        except InfeasibleError as exc:
            raise Infeasible(exc.reasons) from None
        except VerificationError as exc:
            raise click.ClickException(
                "the plan failed independent verification, nothing written:\n  "
                + "\n  ".join(exc.failures)
            ) from None
        except PlannerError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def interactive() -> bool:
    """Progress only on a terminal, never in CI or when piped."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress(items: Sequence[T], label: str) -> Iterator[T]:
    """Iterate with a progress bar on a terminal; silently when piped or in CI."""
    if not interactive():
        yield from items
        return
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


@contextmanager
def stages(label: str, steps: int) -> Iterator[Callable[[str], None]]:
    """A progress bar over the named steps of a long job, on a terminal only.

    Yields ``advance(message)``: call it as each step starts. Piped or in CI it does
    nothing, so output stays clean for logs and scripts.
    """
    if not interactive():
        yield lambda _message: None
        return
    with click.progressbar(
        length=steps,
        label=label,
        file=sys.stderr,
        show_eta=False,
        item_show_func=lambda message: message,
    ) as bar:
        started = False

        def advance(message: str) -> None:
            nonlocal started
            bar.update(1 if started else 0, message)
            started = True

        yield advance
        bar.update(steps - bar.pos)
