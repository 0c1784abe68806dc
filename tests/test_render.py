"""Offline render of the stacks, Pulumi.yaml against Pulumi's schema, and the committed
plans still in step with their inputs (the lock-file check)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from infra.render import render, validate_manifest
from infra.settings import PROJECT_ROOT
from planner.cli import main

SCHEMA = PROJECT_ROOT.parent / "shared" / "schemas" / "pulumi-project.schema.json"


@pytest.mark.skipif(not SCHEMA.exists(), reason="the shared schema folder is not beside the repo")
def test_pulumi_yaml_validates_against_the_project_schema() -> None:
    import json

    schema = json.loads(SCHEMA.read_text())
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(project)
    assert project["runtime"]["options"]["toolchain"] == "pip"
    assert project["main"] == "infra/"
    assert project["stackConfigDir"] == "stacks"
    broken = dict(project, runtime={"name": "python", "bogus": 1})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)


def test_render_prod_is_valid_checked_and_byte_identical(tmp_path: Path) -> None:
    first = render("prod", tmp_path / "one")
    second = render("prod", tmp_path / "two")
    assert first.ok, (first.validation_errors, first.policy_violations)
    assert first.files == second.files
    assert len(first.files) == sum(first.counts().values()) >= 120
    for relative in first.files:
        assert (tmp_path / "one" / relative).read_bytes() == (
            tmp_path / "two" / relative
        ).read_bytes()
    assert set(first.counts()) == {"holstebro", "skejby", "witness"}


def test_render_reports_policy_violations(tmp_path: Path) -> None:
    images = yaml.safe_load((PROJECT_ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"][
        "hospital-platform:images"
    ]
    images = dict(images, **{"epr-web": "registry.example/epr-web:latest"})
    result = render("dev", tmp_path / "dev", config={"images": images})
    assert not result.ok
    assert result.validation_errors == []
    assert [v for v in result.policy_violations if "not pinned" in v] == [
        "pinned-images: holstebro-epr-web-deployment: container 'epr-web' image "
        "'registry.example/epr-web:latest' is not pinned by digest (name@sha256:<64 hex>)",
        "pinned-images: skejby-epr-web-deployment: container 'epr-web' image "
        "'registry.example/epr-web:latest' is not pinned by digest (name@sha256:<64 hex>)",
    ]


def test_validation_rejects_what_the_api_server_would(tmp_path: Path) -> None:
    result = render("dev", tmp_path / "dev")
    relative = next(f for f in result.files if "deployment--epr-holstebro--epr-web" in f)
    body = yaml.safe_load((tmp_path / "dev" / relative).read_text())
    assert validate_manifest(body, "1.33.0") is None
    body["spec"]["replicas"] = "three"
    assert "spec/replicas" in str(validate_manifest(body, "1.33.0"))
    body["spec"]["replicas"] = 3
    body["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    assert "securityContxt" in str(validate_manifest(body, "1.33.0"))
    assert "does not support" in str(validate_manifest(body, "9.99"))


def test_render_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["render", "--stack", "dev", "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "kubernetes-validate: all valid" in result.output
    assert "policy pack: no violations" in result.output
    missing = CliRunner().invoke(main, ["render", "--stack", "staging"])
    assert missing.exit_code == 2
    assert "no such stack file" in missing.output


@pytest.mark.parametrize(
    "args",
    [
        ["--out", "stacks/prod/plan.json"],
        [
            "--profile",
            "stacks/dev/profile.parquet",
            "--spec",
            "stacks/dev/spec.yaml",
            "--out",
            "stacks/dev/plan.json",
        ],
    ],
    ids=["prod", "dev"],
)
def test_committed_plans_are_up_to_date(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    plan = args[-1]
    result = CliRunner().invoke(main, ["size", *args[:-2], "--check", plan])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
