"""Reading an input file: every way it can fail is one line naming the file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from planner.errors import InputError


@contextmanager
def reading(path: Path, kind: str) -> Iterator[None]:
    """Map the errors of reading ``path`` (a ``kind`` file, e.g. "YAML") to InputError."""
    try:
        yield
    except FileNotFoundError:
        raise InputError(str(path), "", "file not found") from None
    except IsADirectoryError:
        raise InputError(str(path), "", f"is a folder, expected a {kind} file") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "", "cannot read file: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read file ({exc.strerror})") from None
