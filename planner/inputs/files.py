"""Reading an input file: every way it can fail is one line naming the file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def check_schema(doc: Any, schema: Mapping[str, Any], source: str, note: str = "") -> None:
    """``doc`` against a JSON Schema: the most relevant violation as one InputError naming
    the key (``sites[0].totals``), the message cut to 160 characters, then ``note``."""
    import jsonschema

    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(doc)
    )
    if error is None:
        return
    where = ""
    for part in error.absolute_path:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    raise InputError(source, f"key '{where}'" if where else "", f"{message}{note}")
