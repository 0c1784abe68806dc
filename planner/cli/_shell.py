"""What every command shares: error mapping to exit codes, progress on a terminal only."""

from __future__ import annotations

import functools
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
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


class Stale(click.ClickException):
    """A plan out of step with its inputs (exit code 1), one line on stderr."""

    exit_code = EXIT_INFEASIBLE

    def show(self, file: Any = None) -> None:
        click.echo(f"stale: {self.format_message()}", err=True)


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
        except OSError as exc:
            from planner.fsutil import describe_os_error

            raise BadInput(describe_os_error(exc)) from None
        except MemoryError:
            raise BadInput(
                "out of memory: the job is larger than this machine holds (fewer simulated "
                "years, a shorter profile or a longer step)"
            ) from None

    return wrapper  # type: ignore[return-value]


def file_path(ctx: click.Context, param: click.Parameter, value: Any) -> Path | None:
    """Callback for a file option typed ``click.Path(dir_okay=False)`` (a string): ``name/``
    means a folder, so refuse it instead of writing a file called ``name``."""
    if value is None:
        return None
    text = str(value)
    if text.endswith(("/", os.sep)):
        raise click.BadParameter(f"'{text}' is a folder path; give a file name", ctx, param)
    return Path(text)


def quiet_warnings() -> None:
    """Library warnings (numpy, matplotlib, pandas) are not messages for a user: the
    commands say what matters in their own words. PLANNER_WARNINGS=1 shows them."""
    if not os.environ.get("PLANNER_WARNINGS"):
        warnings.simplefilter("ignore")


class FiniteFloat(click.ParamType):  # type: ignore[type-arg]
    """A finite number within [minimum, maximum]: NaN and infinity are refused."""

    name = "number"

    def __init__(
        self, minimum: float | None = None, maximum: float | None = None, *, min_open: bool = False
    ) -> None:
        self.minimum, self.maximum, self.min_open = minimum, maximum, min_open

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            number = value
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"'{value}' is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"expected a finite number, got {value}", param, ctx)
        low, high = self.minimum, self.maximum
        if low is not None and (number < low or (self.min_open and number == low)):
            self.fail(f"{value} is {'not above' if self.min_open else 'below'} {low:g}", param, ctx)
        if high is not None and number > high:
            self.fail(f"{value} is above the upper bound {high:g}", param, ctx)
        return number

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        low = "" if self.minimum is None else f"{self.minimum:g}"
        high = "" if self.maximum is None else f"{self.maximum:g}"
        return f"NUMBER {low}..{high}" if low or high else "NUMBER"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$")


class Duration(click.ParamType):  # type: ignore[type-arg]
    """A duration such as 90s, 15m, 2h or 7d (a bare number is seconds), at most
    ``maximum_s``."""

    name = "duration"

    def __init__(self, maximum_s: float) -> None:
        self.maximum_s = maximum_s

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        match = _DURATION.match(str(value))
        if not match:
            self.fail(f"expected a duration like 90s, 15m, 2h or 7d, got '{value}'", param, ctx)
        unit = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}[match[2] or "s"]
        seconds = float(match[1]) * unit
        if seconds > self.maximum_s:
            self.fail(f"{value} is longer than {self.maximum_s / 3600:g} h", param, ctx)
        return seconds


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


def out_folder_option(default: str, what: str = "Folder to write into.") -> Callable[[F], F]:
    """``--out DIR`` for a command that writes a folder of outputs (as ``out_dir``)."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path(default),
        show_default=True,
        help=what,
    )
