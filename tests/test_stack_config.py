"""Stack files as a real Pulumi CLI reads them, and the one-site-per-`up` split.

The CLI refuses a stack that lacks a declared key without a default, and type-checks the
declared ones; the program refuses a stack that lacks a key it needs. These tests hold
every stack file to both, and the prod environment to one location per stack.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from infra.render import RenderError, read_stack_config, run_program
from infra.settings import (
    ALL,
    PROJECT,
    PROJECT_ROOT,
    SettingsError,
    settings_from_mapping,
    settings_from_stack_config,
    with_environment,
)
from planner.inputs.yaml_loader import load_yaml_mapping

PROJECT_FILE = load_yaml_mapping(PROJECT_ROOT / "Pulumi.yaml")
DECLARED: dict[str, Any] = PROJECT_FILE["config"]
STACK_FILES = sorted((PROJECT_ROOT / "stacks").glob("Pulumi.*.yaml"))
PREFIX = f"{PROJECT}:"
TYPES = {"string": str, "boolean": bool, "array": list, "object": dict, "integer": int}
#: Keys a stack may set without a declaration: secrets set with `pulumi config set --secret`.
UNDECLARED = {"kubeconfigs"}


def config_of(path: Path) -> dict[str, Any]:
    config = load_yaml_mapping(path).get("config") or {}
    return {k[len(PREFIX) :]: v for k, v in config.items() if k.startswith(PREFIX)}


def stack_name(path: Path) -> str:
    return path.name[len("Pulumi.") : -len(".yaml")]


def test_every_declared_key_has_a_default_of_its_type() -> None:
    """A declared key without a default must be set in every stack: a site stack, which
    sets only `environment` and `deploy`, would then fail `pulumi preview`."""
    for key, declaration in DECLARED.items():
        assert "default" in declaration, key
        assert isinstance(declaration["default"], TYPES[declaration["type"]]), key


@pytest.mark.parametrize("path", STACK_FILES, ids=stack_name)
def test_stack_values_have_the_declared_types(path: Path) -> None:
    for key, value in config_of(path).items():
        if key in UNDECLARED:
            assert isinstance(value, dict), key
            continue
        assert key in DECLARED, f"{path.name}: {key} is not declared in Pulumi.yaml"
        assert isinstance(value, TYPES[DECLARED[key]["type"]]), f"{path.name}: {key}"


@pytest.mark.parametrize("path", STACK_FILES, ids=stack_name)
def test_every_stack_has_what_the_program_needs(path: Path) -> None:
    """With the project defaults applied, as the CLI does, then the environment."""
    values = {k: d["default"] for k, d in DECLARED.items()}
    values.update(config_of(path))
    settings = settings_from_mapping(with_environment(values))
    assert settings.plan_file.is_file()
    assert settings.images
    assert len(settings.sites) == 2


def test_prod_deploys_each_location_from_exactly_one_site_stack() -> None:
    prod = settings_from_stack_config(read_stack_config("prod")[0])
    assert prod.deploy == ()
    deployed: list[str] = []
    for path in STACK_FILES:
        own = config_of(path)
        if own.get("environment") != "prod":
            continue
        assert set(own) <= {"environment", "deploy", "kubeconfigs"}, path.name
        assert len(own["deploy"]) == 1, f"{path.name}: one location per `pulumi up`"
        deployed += own["deploy"]
    assert sorted(deployed) == sorted(prod.locations()) == ["holstebro", "skejby", "witness"]


def test_a_site_stack_declares_only_its_site() -> None:
    resources = run_program("prod-holstebro")
    sites = {r.site for r in resources if r.is_kubernetes_object}
    assert sites == {"holstebro"}
    providers = {r.name for r in resources if r.type.startswith("pulumi:providers:kubernetes")}
    assert providers == {"holstebro-provider"}


def test_the_environment_stack_itself_deploys_nothing() -> None:
    with pytest.raises(SettingsError, match="deploys no location"):
        run_program("prod", config={"deploy": []})


def test_bad_environment_and_deploy_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"environment: Pulumi\.nope\.yaml: no such"):
        with_environment({"environment": "nope", "deploy": ["x"]})
    values = config_of(PROJECT_ROOT / "stacks" / "Pulumi.prod.yaml")
    with pytest.raises(SettingsError, match="deploy: lisbon: not a location"):
        settings_from_mapping({**values, "deploy": ["lisbon"]})
    assert settings_from_mapping({**values, "deploy": [ALL]}).deploys("skejby")
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.x.yaml").write_text(f"config:\n  {PREFIX}environment: nope\n")
    with pytest.raises(RenderError, match="no such environment stack file"):
        read_stack_config("x", tmp_path)


def test_required_cli_version_is_the_locked_sdk() -> None:
    lock = (PROJECT_ROOT / "requirements" / "lock.txt").read_text()
    sdk = re.search(r"^pulumi==(\S+)$", lock, re.M)
    assert sdk is not None
    assert PROJECT_FILE["requiredPulumiVersion"] == f">={sdk[1]}"
    workflow = (PROJECT_ROOT / ".github" / "workflows" / "preview.yml").read_text()
    assert f"pulumi-version: {sdk[1]}" in workflow


@pytest.mark.parametrize(
    ("stack", "deploy", "message"),
    [
        ("prod-skejby", ["holstebro", "skejby"], "deploys holstebro, skejby; it owns skejby"),
        ("prod-skejby", ["holstebro"], "deploys holstebro; it owns skejby alone"),
        ("prod-lisbon", ["skejby"], "stack prod-lisbon names no location of environment prod"),
    ],
)
def test_a_site_stack_never_deploys_a_site_it_does_not_own(
    tmp_path: Path, stack: str, deploy: list[str], message: str
) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    env = PROJECT_ROOT / "stacks" / "Pulumi.prod.yaml"
    (stacks / env.name).write_text(env.read_text())
    (stacks / f"Pulumi.{stack}.yaml").write_text(
        f"config:\n  {PREFIX}environment: prod\n  {PREFIX}deploy: {deploy}\n"
    )
    with pytest.raises(RenderError, match=re.escape(message)):
        read_stack_config(stack, tmp_path)


def test_the_committed_site_stacks_each_own_their_site() -> None:
    for location in ("witness", "holstebro", "skejby"):
        values, _ = read_stack_config(f"prod-{location}")
        assert values[f"{PREFIX}deploy"] == [location]
