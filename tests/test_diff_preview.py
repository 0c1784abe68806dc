"""`planner diff` on crafted plans, and `planner preview` on a branch in a clone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from infra.settings import PROJECT_ROOT
from planner.cli import main
from planner.outputs.diff import diff_plans

PROD_PLAN = PROJECT_ROOT / "stacks" / "prod" / "plan.json"


def test_diff_reports_exactly_one_sku_change_and_its_cost(tmp_path: Path) -> None:
    plan = json.loads(PROD_PLAN.read_text())
    drive = plan["sites"][1]["drives"][0]
    drive["count"] += 3
    plan["sites"][1]["totals"]["drives"] += 3
    edited = tmp_path / "new.json"
    edited.write_text(json.dumps(plan))
    changes = diff_plans(json.loads(PROD_PLAN.read_text()), plan)
    assert len(changes) == 1
    change = changes[0]
    assert (change.section, change.site, change.item) == (
        "fleet",
        "skejby",
        f"drive {drive['sku']}",
    )
    assert change.delta == 3
    assert change.cost_delta == pytest.approx(3 * drive["unit_price"])
    markdown = CliRunner().invoke(main, ["diff", str(PROD_PLAN), str(edited)]).output
    assert (
        f"| skejby | drive {drive['sku']} | {drive['count'] - 3} | {drive['count']} | +3 |"
        in markdown
    )
    as_json = json.loads(
        CliRunner().invoke(main, ["diff", str(PROD_PLAN), str(edited), "--json"]).stdout
    )
    assert as_json["changes"] == [
        {
            "section": "fleet",
            "site": "skejby",
            "item": f"drive {drive['sku']}",
            "old": drive["count"] - 3,
            "new": drive["count"],
            "delta": 3,
            "cost_delta": 3 * drive["unit_price"],
        }
    ]


def test_diff_of_a_plan_with_itself_is_empty() -> None:
    result = CliRunner().invoke(main, ["diff", str(PROD_PLAN), str(PROD_PLAN)])
    assert result.output == "No change to the plan.\n"


def commit(repo: Path, message: str) -> None:
    identity = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example",
    }
    subprocess.run(
        ["git", "commit", "--quiet", "-am", message],
        cwd=repo,
        check=True,
        env=dict(os.environ, **identity),
    )


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(cwd), CI="1")
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository's committed state, on a new branch."""
    repo = tmp_path_factory.mktemp("repo") / "hospital-platform"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(repo)], check=True)
    branch = subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(["git", "checkout", "--quiet", "-b", "change"], cwd=repo, check=True)
    (repo / ".base").write_text(branch)
    return repo


def test_preview_of_an_unchanged_branch_is_one_line(clone: Path) -> None:
    base = (clone / ".base").read_text()
    done = run(
        [sys.executable, "-m", "planner", "preview", "--base", base, "--stack", "dev"], clone
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1
    assert done.stdout.startswith(f"No changes to plans or rendered manifests against `{base}`")


def test_preview_of_a_growth_change_shows_replicas_requests_and_cost(clone: Path) -> None:
    base = (clone / ".base").read_text()
    spec = clone / "stacks" / "dev" / "spec.yaml"
    text = spec.read_text()
    for name in ("epr-web", "epr-db"):  # a horizontal and a vertical workload grow faster
        marker = f"  - name: {name}\n"
        assert marker in text
        text = text.replace(marker, marker + "    growth_per_year: {cpu_cores: 0.45}\n", 1)
    spec.write_text(text)
    sized = run(
        [
            sys.executable,
            "-m",
            "planner",
            "size",
            "--profile",
            "stacks/dev/profile.parquet",
            "--spec",
            "stacks/dev/spec.yaml",
            "--out",
            "stacks/dev/plan.json",
        ],
        clone,
    )
    assert sized.returncode == 0, sized.stderr
    commit(clone, "grow CPU faster")
    done = run(
        [
            sys.executable,
            "-m",
            "planner",
            "preview",
            "--base",
            base,
            "--stack",
            "dev",
            "--out",
            "comment.md",
        ],
        clone,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    text = done.stdout
    assert (clone / "comment.md").read_text() == text
    assert "Checks: plan in step with its inputs" in text
    assert "Caused by: spec `workloads.epr-db.growth_per_year.cpu_cores`: (none) -> 0.45" in text
    assert "spec `workloads.epr-web.growth_per_year.cpu_cores`: (none) -> 0.45" in text
    assert "plan-sha256" not in text  # no annotation noise
    assert "REPLACED" not in text  # a CPU change replaces nothing
    assert "| epr-web replicas_max |" in text.replace("| holstebro ", "| ").replace(
        "| skejby ", "| "
    )  # replicas in the plan diff
    assert "epr-db cpu_request_cores" in text  # the vertical tier's request grew
    assert "spec.template.spec.containers[0].resources.requests.cpu" in text  # and its pods
    assert "spec.maxReplicas" in text  # changed HPA fields in the manifests' diff
    assert "changed `08-horizontalpodautoscaler--epr-holstebro--epr-web.yaml`" in text
    old = json.loads(
        subprocess.run(
            ["git", "show", f"{base}:stacks/dev/plan.json"],
            cwd=clone,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    new = json.loads((clone / "stacks" / "dev" / "plan.json").read_text())
    assert f"**TCO {new['costs']['tco'] - old['costs']['tco']:+,.0f} DKK**" in text
    assert "<details><summary>Plan changes</summary>" in text


def test_preview_says_a_storage_growth_change_expands_claims_instead_of_replacing(
    clone: Path,
) -> None:
    """Volume templates are immutable: a stored_tib growth change resizes them. The program
    ignores the template after creation, so the comment says to expand the claims, and
    that nothing is replaced."""
    base = (clone / ".base").read_text()
    spec = clone / "stacks" / "dev" / "spec.yaml"
    text = spec.read_text()
    assert "  stored_tib: 0.15" in text
    spec.write_text(text.replace("  stored_tib: 0.15", "  stored_tib: 0.16", 1))
    sized = run(
        [
            sys.executable,
            "-m",
            "planner",
            "size",
            "--stack",
            "dev",
            "--out",
            "stacks/dev/plan.json",
        ],
        clone,
    )
    assert sized.returncode == 0, sized.stderr
    commit(clone, "storage grows faster")
    done = run(
        [sys.executable, "-m", "planner", "preview", "--base", base, "--stack", "dev"], clone
    )
    assert done.returncode == 0, done.stderr + done.stdout
    warnings = done.stdout.split("**Warnings**")[1].split("Checks:")[0]
    for site in ("holstebro", "skejby"):
        assert (
            f"{site}: statefulset `epr-db`: volume template changed; Pulumi ignores it "
            "(immutable), so nothing is replaced: expand each existing claim `data-epr-db-<i>`"
        ) in warnings
        assert f"{site}: statefulset `epr-db` will be REPLACED" not in warnings
    assert "Caused by: spec `growth_per_year.stored_tib`: 0.15 -> 0.16" in done.stdout


def test_diff_exit_code_says_whether_anything_changed(tmp_path: Path) -> None:
    same = CliRunner().invoke(main, ["diff", str(PROD_PLAN), str(PROD_PLAN), "--exit-code"])
    assert same.exit_code == 0
    plan = json.loads(PROD_PLAN.read_text())
    plan["assumptions"]["pue"] = 1.6
    edited = tmp_path / "new.json"
    edited.write_text(json.dumps(plan))
    changed = CliRunner().invoke(main, ["diff", str(PROD_PLAN), str(edited), "--exit-code"])
    assert changed.exit_code == 1
    assert "Caused by: spec pue: 1.5 -> 1.6" in changed.stdout
    without = CliRunner().invoke(main, ["diff", str(PROD_PLAN), str(edited)])
    assert without.exit_code == 0


def test_diff_json_is_clean_and_leads_with_the_headline(tmp_path: Path) -> None:
    plan = json.loads(PROD_PLAN.read_text())
    plan["sites"][0]["costs"]["energy"] += 0.1 + 0.2  # float noise must not leak
    plan["sites"][0]["costs"]["tco"] += 0.1 + 0.2
    plan["costs"]["energy"] += 0.1 + 0.2
    plan["costs"]["tco"] += 0.1 + 0.2
    edited = tmp_path / "new.json"
    edited.write_text(json.dumps(plan))
    out = CliRunner().invoke(main, ["diff", str(PROD_PLAN), str(edited), "--json"]).stdout
    doc = json.loads(out)
    assert set(doc) == {"headline", "causes", "changes"}
    assert doc["headline"]["tco_delta"] == 0
    for change in doc["changes"]:
        for key in ("old", "new", "delta", "cost_delta"):
            value = change[key]
            assert value is None or value == round(value, 2)
    assert "0000000" not in out
