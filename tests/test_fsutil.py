"""Writing outputs without losing a user's files: folders, files, faults and kills."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.errors import InputError
from planner.fsutil import (
    MARKER,
    STAGING_SENTINEL,
    OutputError,
    atomic_write,
    check_output_folder,
    clean_stale_staging,
    staged_directory,
)
from tests.conftest import run_cli
from tests.test_cli import size_args

REPO = Path(__file__).resolve().parent.parent


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def write_output(out: Path, files: dict[str, str], command: str = "report") -> None:
    with staged_directory(out, command) as staging:
        for name, text in files.items():
            (staging / name).write_text(text)


# --- folders -----------------------------------------------------------------------------


def test_a_new_folder_is_written_with_its_marker(tmp_path: Path) -> None:
    out = tmp_path / "out" / "report"
    write_output(out, {"a.txt": "1", "b.txt": "2"})
    marker = json.loads((out / MARKER).read_text())
    assert marker == {"written_by": "planner report", "entries": ["a.txt", "b.txt"]}
    assert sorted(p.name for p in tmp_path.joinpath("out").iterdir()) == ["report"]


def test_an_earlier_output_of_the_same_command_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "report"
    write_output(out, {"a.txt": "old", "gone.txt": "old"})
    write_output(out, {"a.txt": "new"})
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a.txt"]
    assert (out / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging left


def test_the_fallback_swap_without_renameat2_also_replaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("planner.fsutil._exchange", lambda a, b: False)
    out = tmp_path / "report"
    write_output(out, {"a.txt": "old"})
    write_output(out, {"a.txt": "new"})
    assert (out / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda d: (d / "notes.md").write_text("mine"), "was not written by planner"),
        (
            lambda d: (
                (d / MARKER).write_text(
                    json.dumps({"written_by": "planner report", "entries": []})
                ),
                (d / "notes.md").write_text("mine"),
            ),
            "holds 'notes.md', which planner report did not write",
        ),
        (
            lambda d: (d / MARKER).write_text(
                json.dumps({"written_by": "planner render", "entries": []})
            ),
            "was written by planner render, not planner report",
        ),
        (lambda d: (d / MARKER).write_text("{not json"), "was not written by planner"),
    ],
    ids=["foreign file", "extra file beside a marker", "another command", "broken marker"],
)
def test_a_folder_that_is_not_ours_is_refused_and_kept(
    tmp_path: Path, prepare: object, message: str
) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    prepare(out)  # type: ignore[operator]
    before = tree(tmp_path)
    with pytest.raises(OutputError, match=message):
        write_output(out, {"a.txt": "x"})
    assert tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs"]


def test_the_current_folder_and_its_parents_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = tmp_path / "repo" / "sub"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    for target in (Path("."), Path(".."), tmp_path):
        with pytest.raises(OutputError, match="is the current folder or contains it"):
            check_output_folder(target, "render")


def test_a_folder_holding_an_input_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    plan = tmp_path / "in" / "plan.json"
    plan.write_text("{}")
    with pytest.raises(OutputError, match="holds the input"):
        check_output_folder(tmp_path / "in", "report", (plan,))


def test_a_failure_while_writing_keeps_the_old_output(tmp_path: Path) -> None:
    out = tmp_path / "report"
    write_output(out, {"a.txt": "old"})
    before = tree(out)

    def fail_halfway() -> None:
        with staged_directory(out, "report") as staging:
            (staging / "a.txt").write_text("half")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_halfway()
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_stale_staging_of_a_dead_process_is_removed(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    stale = tmp_path / f".report.planner-staging-{pid}-abc"
    stale.mkdir()
    (stale / STAGING_SENTINEL).write_text(f"{pid}\n")
    (stale / "half.html").write_text("<html>")
    set_aside = tmp_path / f".report.planner-old-{pid}-abc"
    set_aside.mkdir()
    (set_aside / MARKER).write_text(json.dumps({"written_by": "planner report", "entries": []}))
    empty = tmp_path / f".report.planner-staging-{pid}-def"
    empty.mkdir()  # killed between creating the folder and writing the sentinel
    tmp_file = tmp_path / f".report.planner-tmp-{pid}-ghi"
    tmp_file.write_text("half")
    alive = tmp_path / f".report.planner-staging-{os.getpid()}-xyz"
    alive.mkdir()
    other = tmp_path / ".report.user-folder"
    other.mkdir()
    look_alike = tmp_path / f".report.planner-staging-{pid}-user"
    look_alike.mkdir()
    (look_alike / "notes.md").write_text("not the planner's")
    clean_stale_staging(tmp_path, "report")
    assert not stale.exists()
    assert not set_aside.exists()
    assert not empty.exists()
    assert not tmp_file.exists()
    assert alive.exists()  # a writer that still runs keeps its staging
    assert other.exists()  # not a name the planner uses
    assert (look_alike / "notes.md").exists()  # the name alone never deletes anything


# --- files -------------------------------------------------------------------------------


def test_atomic_write_refuses_what_it_did_not_write(tmp_path: Path) -> None:
    target = tmp_path / "notes.md"
    target.write_text("mine")
    with pytest.raises(OutputError, match="exists and is not a plan"):
        atomic_write(target, "x", replaceable=lambda p: False, what="plan")
    assert target.read_text() == "mine"
    with pytest.raises(OutputError, match="is an input of this command"):
        atomic_write(target, "x", replaceable=lambda p: True, inputs=(target,))
    assert target.read_text() == "mine"
    atomic_write(target, "new", replaceable=lambda p: True)
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.md"]


def test_a_writer_that_fails_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "profile.parquet"

    def broken(path: Path) -> None:
        path.write_text("half")
        raise OSError(28, "No space left on device", str(path))

    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, broken)
    assert list(tmp_path.iterdir()) == []


# --- faults through the command line -------------------------------------------------------


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A small real file system (root only); skips where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def assert_one_line_exit_2(done: subprocess.CompletedProcess[str], text: str) -> None:
    assert done.returncode == 2, done.stderr + done.stdout
    lines = (done.stderr + done.stdout).strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in done.stderr
    assert text in lines[0], lines[0]


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "64k") as disk:
        done = run_cli(["example", "--out", str(disk / "ex"), "--days", "30"], tmp_path)
        assert_one_line_exit_2(done, "no space left on the device: free some space")
        assert list(disk.iterdir()) == []  # no staging folder, no .tmp file


def test_a_read_only_folder_is_one_line(tmp_path: Path, small_inputs: dict[str, Path]) -> None:
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as disk:
        done = run_cli(size_args(small_inputs, disk / "plan.json"), tmp_path)
        assert_one_line_exit_2(done, "read-only file system: write somewhere else")


def test_permission_denied_is_one_line(small_inputs: dict[str, Path]) -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as another user")
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="planner-perm-"))
    base.chmod(0o755)
    try:
        _permission_denied(base, small_inputs)
    finally:
        shutil.rmtree(base)


def _permission_denied(tmp_path: Path, small_inputs: dict[str, Path]) -> None:
    inputs = {}
    for kind, path in small_inputs.items():
        inputs[kind] = Path(shutil.copy(path, tmp_path / path.name))
        inputs[kind].chmod(0o644)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    args = size_args(inputs, locked / "plan.json")
    done = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-m",
            "planner",
            *args,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CI": "1", "HOME": str(tmp_path), "MPLCONFIGDIR": str(tmp_path)},
    )
    if (
        "Permission denied" in done.stderr
        and "Traceback" in done.stderr
        and "site-packages" in done.stderr
    ):
        pytest.skip("the environment is not readable by another user")
    assert_one_line_exit_2(done, "permission denied: choose a location you can write to")
    assert list(locked.iterdir()) == []


def test_report_and_render_at_the_repository_root_keep_every_file(tmp_path: Path) -> None:
    """`report --out .` and `render --out .` in a folder with other files: all survive."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "notes.md").write_text("the user's notes\n")
    (scratch / ".git").mkdir()
    (scratch / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    before = tree(scratch)
    for args in (["report", "--out", "."], ["render", "--stack", "prod", "--out", "."]):
        done = run_cli(args, scratch)
        assert done.returncode == 2, done.stderr
        assert "is the current folder or contains it" in done.stderr
        assert tree(scratch) == before


# --- kill -9 at random moments ------------------------------------------------------------


def report_complete(out: Path) -> bool:
    marker = json.loads((out / MARKER).read_text())
    names = sorted(p.name for p in out.iterdir() if p.name != MARKER)
    return (
        names
        == marker["entries"]
        == ["bill-of-materials.xlsx", "report.html", "summary.md", "tender.md", "tender.xlsx"]
        and (out / "report.html").read_text().rstrip().endswith("</html>")
        and zipfile.is_zipfile(out / "bill-of-materials.xlsx")
        and (out / "summary.md").stat().st_size > 0
    )


def render_complete(out: Path) -> bool:
    summary = json.loads((out / "render-summary.json").read_text())
    files = {str(p.relative_to(out)) for p in out.rglob("*.yaml")}
    return files == set(summary["files"]) and all(
        hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
        for name, digest in summary["files"].items()
    )


def kill_at_random(args: list[str], cwd: Path, out: Path, complete: object, tries: int) -> None:
    """Run once to completion and time it; then ``tries`` runs killed with SIGKILL at a
    random moment: each leaves ``out`` complete (the old output or the new one)."""
    started = time.perf_counter()
    first = run_cli(args, cwd)
    assert first.returncode == 0, first.stderr
    full = time.perf_counter() - started
    assert complete(out)  # type: ignore[operator]
    rng = random.Random(20261125)
    killed = 0
    for _ in range(tries):
        process = subprocess.Popen(
            [sys.executable, "-m", "planner", *args],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "CI": "1"},
        )
        time.sleep(rng.uniform(0.1, 0.9) * full)
        process.send_signal(signal.SIGKILL)
        killed += process.wait() == -signal.SIGKILL
        assert out.is_dir()
        assert complete(out)  # type: ignore[operator]
    assert killed >= tries // 4  # a good share of the runs really died mid-way
    # the next run clears the staging folders the killed runs left, and writes afresh
    last = run_cli(args, cwd)
    assert last.returncode == 0, last.stderr
    assert complete(out)  # type: ignore[operator]
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_kill_9_during_report_leaves_a_complete_report(
    tmp_path: Path, small_inputs: dict[str, Path]
) -> None:
    plan = tmp_path / "plan.json"
    assert CliRunner().invoke(main, size_args(small_inputs, plan)).exit_code == 0
    inputs = size_args(small_inputs, plan)[1:-2]
    args = ["report", str(plan), *inputs, "--years", "2000", "--out", str(tmp_path / "o" / "r")]
    kill_at_random(args, tmp_path, tmp_path / "o" / "r", report_complete, tries=20)


def test_kill_9_during_render_leaves_a_complete_render(tmp_path: Path) -> None:
    out = tmp_path / "o" / "prod"
    kill_at_random(["render", "--stack", "dev", "--out", str(out)], REPO, out, render_complete, 20)


def test_an_input_error_is_not_a_file_error() -> None:
    assert issubclass(OutputError, InputError)


def test_a_full_disk_names_the_output_being_written(tmp_path: Path) -> None:
    import errno

    from planner.fsutil import atomic_write, describe_os_error, staged_directory

    def full(_: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "plan.json"
    with pytest.raises(OSError, match="No space left") as caught:
        atomic_write(target, full)
    assert describe_os_error(caught.value).startswith(f"{target}: no space left on the device")
    assert not target.exists()
    out = tmp_path / "report"
    with pytest.raises(OSError, match="No space left") as caught, staged_directory(out, "report"):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert describe_os_error(caught.value).startswith(f"{out}: no space left")
    assert not out.exists()
