"""The pull-request workflows as an attacker would use them: rules checked on the YAML."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.settings import PROJECT_ROOT

FOLDER = PROJECT_ROOT / ".github" / "workflows"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def workflow(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((FOLDER / name).read_text())
    return doc


def uses_lines() -> list[tuple[str, str]]:
    out = []
    for path in sorted(FOLDER.glob("*.yml")):
        for line in path.read_text().splitlines():
            stripped = line.strip().removeprefix("- ")
            if stripped.startswith("uses:"):
                out.append((path.name, stripped))
    return out


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    lines = uses_lines()
    assert len(lines) >= 11
    for name, line in lines:
        reference, _, comment = line.removeprefix("uses:").strip().partition("#")
        assert SHA_PIN.match(reference.strip()), f"{name}: {line}"
        assert re.match(r"\s*v\d+(\.\d+)*", comment), f"{name}: no version comment: {line}"


def test_the_comment_job_never_takes_the_pull_request_from_the_artifact() -> None:
    comment = workflow("preview-comment.yml")
    job = comment["jobs"]["comment"]
    script = next(s for s in job["steps"] if "github-script" in s.get("uses", ""))
    code = script["with"]["script"]
    assert "pr-number" not in code
    assert "process.env.HEAD_SHA" in code
    assert script["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert "issue_number: pr.number" in code
    assert "slice(0, LIMIT)" in code  # size-limited
    assert "```text" in code  # a fork's Markdown is shown as text
    assert not any("checkout" in s.get("uses", "") for s in job["steps"])
    # and the preview does not even write a pull-request number any more
    assert "pr-number" not in (FOLDER / "preview.yml").read_text()


def test_the_secret_job_has_a_protected_environment_and_a_fork_guard() -> None:
    jobs = workflow("preview.yml")["jobs"]
    with_secrets = [name for name, job in jobs.items() if "secrets." in yaml.safe_dump(job)]
    assert with_secrets == ["pulumi"]
    job = jobs["pulumi"]
    assert job["environment"] == "pulumi-preview"
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert "secrets." not in yaml.safe_dump(jobs["offline"])


def test_permissions_are_empty_by_default_and_minimal_per_job() -> None:
    for name in ("ci.yml", "preview.yml", "preview-comment.yml"):
        doc = workflow(name)
        assert doc["permissions"] == {}, name
        for job_name, job in doc["jobs"].items():
            granted = job.get("permissions", {})
            assert granted, f"{name}:{job_name} states its permissions"
            writes = {k for k, v in granted.items() if v == "write"}
            allowed = {"pull-requests"} if job_name in ("comment", "pulumi") else set()
            assert writes <= allowed, f"{name}:{job_name} writes {writes}"


def test_preview_failures_fail_the_check() -> None:
    steps = workflow("preview.yml")["jobs"]["offline"]["steps"]
    run = next(s for s in steps if s.get("name") == "offline preview")
    assert "||" not in run["run"]
    assert "continue-on-error" not in run
    assert "${{" not in run["run"]  # no expression expanded into the shell script
    upload = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"  # the comment still shows what failed


def test_checkouts_do_not_keep_the_token() -> None:
    for path in sorted(FOLDER.glob("*.yml")):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job["steps"]:
                if "actions/checkout" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False, path.name


def test_zizmor_finds_nothing() -> None:
    zizmor = shutil.which("zizmor") or str(Path(__file__).resolve().parents[1] / ".venv/bin/zizmor")
    if not Path(zizmor).exists():
        if os.environ.get("CI"):
            pytest.fail("zizmor is missing in CI: make test installs it from the lock file")
        pytest.skip("zizmor is not installed (make test installs it)")
    done = subprocess.run(
        [zizmor, "--offline", "--format", "plain", str(FOLDER)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr
