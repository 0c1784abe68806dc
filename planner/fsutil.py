"""Writing outputs without ever losing a user's files.

Two rules, for every command that writes:

* A file is written to a temporary file beside its target and renamed over it, so a
  failure or a kill leaves the old file or the new one, never half of one. An existing
  target is only replaced when the caller says it is one of its own outputs.
* A folder of outputs is built in a staging folder beside its target and swapped in. An
  existing folder is only replaced when it is empty or holds a marker file
  (:data:`MARKER`) naming the command that wrote it and every entry it wrote; a folder
  with anything else in it is refused, never deleted. The swap is one atomic
  ``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere the old folder is first renamed
  aside, so a kill at that moment leaves the old complete output under that name.

Staging folders are named ``.<target>.planner-staging-<pid>-<random>`` and hold a
sentinel file until the output marker replaces it; those of processes that no longer run
(a kill -9) are removed by the next write beside them, but only when their content shows
the planner wrote them.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from planner.errors import InputError

#: The marker file in every output folder the planner writes.
MARKER = ".planner-output.json"

#: The file in a staging folder from its creation until its marker is written, so a
#: leftover of a killed run can be recognised as the planner's by its content, not its name.
STAGING_SENTINEL = ".planner-staging"

_STAGING = re.compile(r"^\.(?P<name>.+)\.planner-(?P<kind>staging|old|tmp)-(?P<pid>\d+)-[^/]*$")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class OutputError(InputError):
    """An output path that must not be written (exit code 2, nothing touched)."""


def describe_os_error(exc: OSError) -> str:
    """One line for a file-system fault: the path, what went wrong, and what to do."""
    path = exc.filename if exc.filename is not None else "(no path)"
    fixes = {
        errno.EACCES: "permission denied: choose a location you can write to or fix its "
        "permissions",
        errno.EPERM: "operation not permitted: choose a location you can write to",
        errno.ENOSPC: "no space left on the device: free some space or write elsewhere",
        errno.EDQUOT: "disk quota exceeded: free some space or write elsewhere",
        errno.EROFS: "read-only file system: write somewhere else",
        errno.ENOTDIR: "a part of this path is a file, not a folder: choose another path",
        errno.EISDIR: "is a folder, expected a file",
        errno.ENOENT: "no such file or folder",
        errno.EEXIST: "already exists",
        errno.ENAMETOOLONG: "file name too long",
        errno.EFBIG: "file too large for this file system or limit",
        errno.EIO: "input/output error on the device",
    }
    what = fixes.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return f"{path}: {what}"


def _name_target(exc: OSError, target: Path) -> None:
    """Give an error that names no file (ENOSPC on a write, say) the output's path."""
    if exc.filename is None:
        exc.filename = str(target)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _planner_wrote(folder: Path) -> bool:
    """Empty, or holding the staging sentinel or a planner output marker."""
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    if not names or STAGING_SENTINEL in names:
        return True
    marker = _read_marker(folder)
    return marker is not None and str(marker.get("written_by", "")).startswith("planner ")


def clean_stale_staging(parent: Path, name: str) -> None:
    """Remove the leftovers for ``name`` in ``parent`` of writers that no longer run: a
    temporary file, or a staging or set-aside folder whose content shows the planner
    wrote it. Anything else with a look-alike name is left alone."""
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        match = _STAGING.match(entry.name)
        if not match or match["name"] != name or _pid_alive(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            if match["kind"] == "tmp":
                if entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
            elif entry.is_dir(follow_symlinks=False) and _planner_wrote(Path(entry.path)):
                shutil.rmtree(entry.path)


def _same_or_inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _read_marker(folder: Path) -> dict[str, object] | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_output_folder(out_dir: Path, command: str, inputs: Iterable[Path] = ()) -> None:
    """Refuse (``OutputError``) to replace a folder that is not empty and not ours.

    Ours means: its marker names ``planner <command>`` and lists every entry in it.
    Also refused: a path that is a file, the current folder or one of its parents, and a
    folder that holds one of the command's inputs.
    """
    where = str(out_dir)
    _refuse_file_in_the_way(out_dir)
    resolved = out_dir.resolve()
    cwd = Path.cwd().resolve()
    if _same_or_inside(cwd, resolved):
        raise OutputError(
            where,
            "",
            "is the current folder or contains it: choose a new subfolder, e.g. out/" + command,
        )
    for source in inputs:
        if _same_or_inside(source.resolve(), resolved):
            raise OutputError(
                where, "", f"holds the input {source}: choose an output folder of its own"
            )
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if out_dir.is_symlink() or not out_dir.is_dir():
        raise OutputError(where, "", "exists and is not a folder: choose a folder path")
    entries = sorted(os.listdir(out_dir))
    if not entries:
        return
    marker = _read_marker(out_dir)
    if marker is None:
        raise OutputError(
            where,
            "",
            f"folder is not empty and was not written by planner (no {MARKER}); "
            "choose a new or empty folder; nothing was changed",
        )
    writer = marker.get("written_by")
    if writer != f"planner {command}":
        raise OutputError(
            where,
            "",
            f"folder was written by {writer}, not planner {command}; choose another folder",
        )
    listed = marker.get("entries")
    known = set(listed) if isinstance(listed, list) else set()
    extra = [e for e in entries if e not in known and e != MARKER]
    if extra:
        raise OutputError(
            where,
            "",
            f"holds '{extra[0]}', which planner {command} did not write; move it out or "
            "choose another folder; nothing was changed",
        )


def _refuse_file_in_the_way(path: Path) -> None:
    """A file where one of ``path``'s folders belongs is a one-line OutputError."""
    for ancestor in reversed(path.parents):
        if ancestor.exists() and not ancestor.is_dir():
            raise OutputError(
                str(path), "", f"{ancestor} is a file, not a folder: choose another path"
            )


def make_parent(path: Path) -> None:
    """Create ``path``'s parent folders; a file in the way is a one-line OutputError."""
    _refuse_file_in_the_way(path)
    path.parent.mkdir(parents=True, exist_ok=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the OS cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextmanager
def staged_directory(out_dir: Path, command: str, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield an empty staging folder beside ``out_dir``; on success swap it in.

    ``out_dir`` must be new, empty or an earlier output of the same command (see
    :func:`check_output_folder`); it is checked before anything is written and again
    just before the swap. On failure the staging folder is removed and ``out_dir`` kept.
    """
    inputs = tuple(inputs)
    check_output_folder(out_dir, command, inputs)
    parent = out_dir.parent
    make_parent(out_dir)
    clean_stale_staging(parent, out_dir.name)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{out_dir.name}.planner-staging-{os.getpid()}-", dir=parent)
    )
    try:
        (staging / STAGING_SENTINEL).write_text(f"{os.getpid()}\n", encoding="utf-8")
        try:
            yield staging
        except OSError as exc:  # a full disk says no path: name the output being written
            _name_target(exc, out_dir)
            raise
        entries = sorted(e for e in os.listdir(staging) if e != STAGING_SENTINEL)
        marker = {"written_by": f"planner {command}", "entries": entries}
        (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        (staging / STAGING_SENTINEL).unlink()  # the marker now says whose it is
        staging.chmod(0o755)
        check_output_folder(out_dir, command, inputs)
        if not out_dir.exists():
            os.rename(staging, out_dir)
        elif not _exchange(staging, out_dir):
            aside = parent / staging.name.replace(".planner-staging-", ".planner-old-", 1)
            os.rename(out_dir, aside)
            os.rename(staging, out_dir)
            shutil.rmtree(aside, ignore_errors=True)
        # after an exchange the staging path holds the old output: the finally removes it
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def atomic_write(
    path: Path,
    data: str | bytes | Callable[[Path], None],
    *,
    replaceable: Callable[[Path], bool] | None = None,
    what: str = "file",
    inputs: Iterable[Path] = (),
) -> None:
    """Write ``path`` through a temporary file beside it and a rename.

    ``data`` is the content, or a function that writes the temporary file it is given.
    An existing ``path`` is only replaced when ``replaceable(path)`` says it is one of the
    caller's outputs; a path equal to one of ``inputs`` is always refused.
    """
    where = str(path)
    if str(path).endswith(("/", os.sep)) or path.is_dir():
        raise OutputError(where, "", f"is a folder, expected a {what} path")
    for source in inputs:
        with contextlib.suppress(OSError):
            if path.exists() and source.exists() and path.samefile(source):
                raise OutputError(where, "", f"is an input of this command; choose another {what}")
    if path.exists() and (replaceable is None or not replaceable(path)):
        raise OutputError(
            where,
            "",
            f"exists and is not a {what} the planner wrote; choose another path "
            "(nothing was changed)",
        )
    make_parent(path)
    clean_stale_staging(path.parent, path.name)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.planner-tmp-{os.getpid()}-", dir=path.parent
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, str):
                handle.write(data.encode("utf-8"))
            elif isinstance(data, bytes):
                handle.write(data)
        if callable(data):
            data(tmp)
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except OSError as exc:
        _name_target(exc, path)
        raise
    finally:
        tmp.unlink(missing_ok=True)
