"""Finished requests of a Prometheus pull, kept so that a rerun resumes.

Each finished (series, chunk) request is one small JSON file in a hidden folder beside
the output (``.<out name>.pull/``), named by a hash of what was asked: the URL (any
password removed), the query, the range and the step. A rerun of the same command reads
those instead of asking again; a changed query or range simply misses. The folder holds a
marker file; the pull removes only the files it finds its own (the marker's folder, and
files named like its entries), and the folder once it is empty.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

MARKER = "PLANNER-PULL-CACHE"


def cache_dir_for(out: Path) -> Path:
    return out.parent / f".{out.name}.pull"


class PullCache:
    """Finished answers keyed by request; written atomically (a crash leaves no half file)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.kept = 0  # answers read back from an earlier run
        self._lock = threading.Lock()  # requests finish on several threads

    def _path(self, key: dict[str, Any]) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        return self.folder / f"{digest[:32]}.json"

    def _ours(self) -> bool:
        return (self.folder / MARKER).is_file()

    def get(self, key: dict[str, Any]) -> list[Any] | None:
        if not self._ours():
            return None
        path = self._path(key)
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if (
            not isinstance(doc, dict)
            or doc.get("key") != key
            or not isinstance(doc.get("points"), list)
        ):
            return None
        self.kept += 1
        return list(doc["points"])

    def put(self, key: dict[str, Any], points: list[Any]) -> None:
        with self._lock:
            if not self.folder.exists():
                self.folder.mkdir(parents=True)
                (self.folder / MARKER).write_text(
                    "Finished requests of `planner profile pull`, kept so that a rerun of the "
                    "same command resumes. Removed when the pull completes.\n"
                )
            elif not self._ours():
                return  # someone else's folder: never write into it
        path = self._path(key)
        temporary = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps({"key": key, "points": points}))
        temporary.replace(path)

    def count(self) -> int:
        if not self._ours():
            return 0
        return sum(1 for p in self.folder.glob("*.json") if len(p.stem) == 32)

    def remove(self) -> None:
        """Delete the entries and the marker, then the folder if nothing else is in it."""
        if not self._ours():
            return
        for path in self.folder.glob("*.json"):
            if len(path.stem) == 32:
                path.unlink(missing_ok=True)
        (self.folder / MARKER).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # something not ours is in it: leave it
            self.folder.rmdir()
