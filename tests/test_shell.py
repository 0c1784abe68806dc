"""CI workflow files, and progress output only on a terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infra.settings import PROJECT_ROOT
from planner.cli import _shell

WORKFLOWS = sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.yml"))


def check_workflows(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_workflow_files_pass_the_schema_check() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "preview-comment.yml", "preview.yml"]
    done = check_workflows(WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    assert check_workflows([broken]).returncode != 0


def test_progress_only_on_an_interactive_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert _shell.interactive()
    assert list(_shell.progress([1, 2, 3], "counting")) == [1, 2, 3]
    assert "counting" in capsys.readouterr().err
    with _shell.stages("a job", 2) as advance:
        advance("first step")
        advance("second step")
    shown = capsys.readouterr().err
    assert "a job" in shown
    assert "second step" in shown
    monkeypatch.setenv("CI", "true")
    assert not _shell.interactive()
    assert list(_shell.progress([1, 2, 3], "counting")) == [1, 2, 3]
    with _shell.stages("a job", 2) as advance:
        advance("first step")
        advance("second step")
    assert capsys.readouterr().err == ""
    monkeypatch.delenv("CI")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)  # piped
    assert not _shell.interactive()


def test_a_duration_in_days_up_to_the_limit() -> None:
    import click

    from planner.cli._shell import Duration

    week = Duration(maximum_s=7 * 86400)
    assert week.convert("7d", None, None) == 7 * 86400
    assert week.convert("168h", None, None) == 7 * 86400
    with pytest.raises(click.BadParameter, match="8d is longer than 168 h"):
        week.convert("8d", None, None)
