"""Offline render: run the Pulumi program under the SDK's mocks, write one manifest per
resource per site, validate each against the Kubernetes schemas, and run the policies.

No cluster, no credentials, no Pulumi CLI: `pulumi.runtime.set_mocks` stands in for the
engine and records every resource the program registers with its inputs and provider.
Secret config values are replaced by a placeholder (ciphertext cannot be read here).
"""

from __future__ import annotations

import functools
import hashlib
import json
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import infra.settings
from infra.settings import (
    ALL,
    PROJECT,
    SettingsError,
    check_site_stack,
    settings_from_stack_config,
    with_environment,
)
from planner.fsutil import check_output_folder, staged_directory
from planner.inputs.yaml_loader import load_yaml_mapping
from planner.outputs.preview import SUMMARY  # the file name the preview reads

SECRET_SIG = "4dabf18193072939515e22adb298388d"
PLACEHOLDER = "<secret: not available to the offline render>"
KIND_ORDER = (
    "Namespace",
    "PriorityClass",
    "StorageClass",
    "ResourceQuota",
    "NetworkPolicy",
    "Service",
    "Deployment",
    "StatefulSet",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
)


class RenderError(Exception):
    """The stack cannot be rendered (missing stack file, bad config)."""


@dataclass(frozen=True)
class Recorded:
    """One resource as the program registered it."""

    type: str
    name: str
    provider: str | None
    custom: bool
    inputs: dict[str, Any]

    @property
    def provider_name(self) -> str | None:
        return self.provider.split("::")[-2] if self.provider else None

    @property
    def is_kubernetes_object(self) -> bool:
        return (
            self.custom
            and self.type.startswith("kubernetes:")
            and not self.type.startswith("kubernetes:index:")
        )

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def site(self) -> str | None:
        name = self.provider_name
        return name[: -len("-provider")] if name and name.endswith("-provider") else None


@dataclass
class RenderResult:
    stack: str
    resources: list[Recorded]
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    validation_errors: list[str] = field(default_factory=list)
    policy_violations: list[str] = field(default_factory=list)
    reachability: list[str] = field(default_factory=list)
    drill: list[str] = field(default_factory=list)  # failover drill failures
    stated_limits: list[str] = field(default_factory=list)  # what the plan says does not hold

    @property
    def ok(self) -> bool:
        return not (
            self.validation_errors or self.policy_violations or self.reachability or self.drill
        )

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.resources:
            if r.is_kubernetes_object:
                out[r.site or "(no provider)"] = out.get(r.site or "(no provider)", 0) + 1
        return dict(sorted(out.items()))


#: Config keys that hold credentials: only ever as Pulumi secrets (``secure:`` values).
SECRET_KEYS = (f"{PROJECT}:kubeconfigs",)


def check_no_clear_secrets(path: Path, config: dict[str, Any]) -> None:
    """Refuse a credential stored in clear text in a stack file."""
    for key in SECRET_KEYS:
        value = config.get(key)
        if value is None:
            continue
        items = value.items() if isinstance(value, dict) else [("", value)]
        for name, item in items:
            if not (isinstance(item, dict) and set(item) == {"secure"}):
                where = f"{key}.{name}" if name else key
                raise RenderError(
                    f"{path}: key '{where}': a credential in clear text; store it with "
                    f"`pulumi config set --secret --path '{where.split(':', 1)[1]}' ...`"
                )


def project_root(root: Path | None = None) -> Path:
    """The project folder (Pulumi.yaml, stacks/, infra/): ``root``, else the checkout."""
    return root if root is not None else infra.settings.PROJECT_ROOT


def read_stack_config(stack: str, root: Path | None = None) -> tuple[dict[str, Any], list[str]]:
    """Stack file config with secure values replaced by a placeholder; and the secret keys."""
    path = project_root(root) / "stacks" / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise RenderError(
            f"{path}: no such stack file (stacks: "
            f"{', '.join(sorted(p.stem[7:] for p in path.parent.glob('Pulumi.*.yaml')))})"
        )
    doc = load_yaml_mapping(path)
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise RenderError(f"{path}: key 'config': expected a mapping")
    check_no_clear_secrets(path, config)
    secret_keys: list[str] = []

    def scrub(value: Any) -> tuple[Any, bool]:
        if isinstance(value, dict):
            if set(value) == {"secure"}:
                return PLACEHOLDER, True
            found = False
            out = {}
            for k, v in value.items():
                out[k], hit = scrub(v)
                found = found or hit
            return out, found
        if isinstance(value, list):
            items = [scrub(v) for v in value]
            return [v for v, _ in items], any(h for _, h in items)
        return value, False

    values = {}
    for key, value in config.items():
        clean, secret = scrub(value)
        values[key] = clean
        if secret:
            secret_keys.append(key)
    resolved = _resolve_environment(values, root)
    if resolved.get(f"{PROJECT}:environment"):
        try:
            check_site_stack(stack, settings_from_stack_config(resolved, project_root(root)))
        except SettingsError as exc:
            raise RenderError(f"{path}: {exc}") from None
    return resolved, secret_keys


def _resolve_environment(values: dict[str, Any], root: Path | None) -> dict[str, Any]:
    """A site stack's values completed from its environment's stack file."""
    prefix = f"{PROJECT}:"
    own = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
    if not own.get("environment"):
        return values
    try:
        merged = with_environment(own, project_root(root))
    except SettingsError as exc:
        raise RenderError(str(exc)) from None
    secrets = {k: v for k, v in values.items() if k == f"{PROJECT}:kubeconfigs"}
    return {**{f"{prefix}{k}": v for k, v in merged.items()}, **secrets}


def environment_of(stack: str, root: Path | None = None) -> str:
    """The environment a stack belongs to: its ``environment``, else the stack itself."""
    values, _ = read_stack_config(stack, root)
    return str(values.get(f"{PROJECT}:environment") or stack)


def run_program(
    stack: str,
    *,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    root: Path | None = None,
) -> list[Recorded]:
    """Run infra/__main__.py under mocks; return every registered resource in order.

    ``config`` overrides stack config values (keys without the project prefix);
    ``secrets`` adds secret config values (e.g. kubeconfigs).
    """
    import pulumi
    from pulumi.runtime import mocks, settings

    values, secret_keys = read_stack_config(stack, root)
    if not values.get(f"{PROJECT}:environment"):
        # an environment renders whole: a real `pulumi up` goes through its site stacks
        values[f"{PROJECT}:deploy"] = [ALL]
    for key, value in (config or {}).items():
        values[f"{PROJECT}:{key}"] = value
    for key, value in (secrets or {}).items():
        values[f"{PROJECT}:{key}"] = value
        secret_keys.append(f"{PROJECT}:{key}")
    recorded: list[Recorded] = []

    class Recorder(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            recorded.append(
                Recorded(
                    args.typ,
                    args.name,
                    args.provider or None,
                    bool(args.custom),
                    _plain(args.inputs),
                )
            )
            return f"{args.name}-id", args.inputs

        def call(
            self, args: pulumi.runtime.MockCallArgs
        ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
            return {}, None

    settings.ROOT.set(None)  # a fresh root stack for every run in this process
    mocks.set_mocks(Recorder(), project=PROJECT, stack=stack, preview=True)
    pulumi.runtime.set_all_config(
        {k: _config_text(v) for k, v in values.items()},
        secret_keys,
    )
    program = project_root(root) / "infra" / "__main__.py"
    run = pulumi.runtime.test(  # type: ignore[no-untyped-call]
        lambda: runpy.run_path(str(program), run_name="__main__")
    )
    run()
    return recorded


def _config_text(value: Any) -> str:
    """Config as the engine hands it over: strings as-is, booleans lower-case, else JSON."""
    import json

    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _plain(value: Any) -> Any:
    """Mock inputs as plain data: integral floats back to ints (the wire has only floats)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def manifest(resource: Recorded) -> dict[str, Any]:
    """The Kubernetes object as it would be applied (secrets shown redacted)."""
    body: dict[str, Any] = _unwrap_secrets(
        {k: v for k, v in resource.inputs.items() if not k.startswith("__")}
    )
    return body


def _unwrap_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SECRET_SIG) is not None:
            return "<secret>"
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def manifest_path(resource: Recorded) -> str:
    meta = resource.inputs.get("metadata") or {}
    namespace = meta.get("namespace") or "_cluster"
    order = KIND_ORDER.index(resource.kind) if resource.kind in KIND_ORDER else len(KIND_ORDER)
    site = resource.site or "_no-provider"
    return f"{site}/{order:02d}-{resource.kind.lower()}--{namespace}--{meta.get('name')}.yaml"


def render(
    stack: str,
    out_dir: Path,
    *,
    kubernetes_version: str | None = None,
    secrets: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    root: Path | None = None,
) -> RenderResult:
    """Render, validate and check a stack into ``out_dir`` (replaced atomically)."""
    values, _ = read_stack_config(stack, root)
    version = kubernetes_version or str(values.get(f"{PROJECT}:kubernetesVersion", ""))
    check_kubernetes_version(version)
    check_output_folder(out_dir, "render")
    resources = run_program(stack, config=config, secrets=secrets, root=root)
    result = RenderResult(stack=stack, resources=resources)
    objects = sorted((r for r in resources if r.is_kubernetes_object), key=manifest_path)
    with staged_directory(out_dir, "render") as staging:
        for resource in objects:
            body = manifest(resource)
            relative = manifest_path(resource)
            text = yaml.safe_dump(body, sort_keys=True, default_flow_style=False)
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            result.files[relative] = hashlib.sha256(text.encode()).hexdigest()
            problem = validate_manifest(body, version)
            if problem is not None:
                result.validation_errors.append(f"{relative}: {problem}")
        # a site stack declares one location; the checks need its whole environment
        environment = environment_of(stack, root)
        whole = (
            resources
            if environment == stack
            else run_program(environment, config=config, secrets=secrets, root=root)
        )
        result.policy_violations = run_policies(whole)
        drill = run_drill(environment, whole, root)
        result.reachability = drill.reachability
        result.drill = drill.problems(network=False)
        result.stated_limits = [f"quorum: {x}" for x in drill.quorum_stated]
        summary = {
            "stack": stack,
            "kubernetes_version": version,
            "counts": result.counts(),
            "resources": len(resources),
            "files": result.files,
            "validation_errors": result.validation_errors,
            "policy_violations": result.policy_violations,
            "reachability": result.reachability,
            "drill": result.drill,
            "stated_limits": result.stated_limits,
        }
        (staging / SUMMARY).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return result


def run_drill(stack: str, resources: list[Recorded], root: Path | None) -> Any:
    """The failover drill over the rendered resources (:mod:`infra.drill`)."""
    from infra.drill import run_drill as drill

    return drill(stack, resources, root)


def check_reachability(values: Mapping[str, Any], resources: list[Recorded]) -> list[str]:
    """The platform's needed flows allowed and its forbidden ones denied by the rendered
    NetworkPolicies (:mod:`infra.flows`, :mod:`infra.reachability`)."""
    from infra.flows import clusters_of, platform_flows
    from infra.reachability import check_flows
    from infra.settings import settings_from_stack_config
    from planner.outputs.plan import planned_workloads, read_plan

    settings = settings_from_stack_config(values)
    plan = read_plan(settings.plan_file)
    flows = platform_flows(settings, planned_workloads(plan, str(settings.plan_file)))
    return check_flows(flows, clusters_of(resources))


def check_kubernetes_version(version: str) -> None:
    """The version must be one kubernetes-validate has schemas for (major.minor)."""
    from kubernetes_validate import utils as kv_utils

    known = sorted({kv_utils.major_minor(v) for v in kv_utils.all_versions()}, key=_version_key)
    if kv_utils.major_minor(version) not in known:
        raise RenderError(
            f"--kubernetes-version: '{version}' has no schemas in kubernetes-validate "
            f"(known: {known[0]} to {known[-1]})"
        )


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def validate_manifest(body: dict[str, Any], version: str) -> str | None:
    """kubernetes-validate against the strict schemas of ``version``; None when valid."""
    import kubernetes_validate
    from kubernetes_validate import utils as kv_utils

    if not hasattr(kv_utils.schema_contents, "cache_info"):
        # the library parses the schema JSON files on every call (two per manifest); the
        # files never change while we run, so parse each once
        kv_utils.schema_contents = functools.lru_cache(maxsize=None)(kv_utils.schema_contents)

    try:
        kubernetes_validate.validate(body, version, strict=True)
    except kv_utils.ValidationError as exc:
        where = "/".join(str(p) for p in exc.path)
        return f"{where}: {exc.message}"
    except (
        kv_utils.SchemaNotFoundError,
        kv_utils.VersionNotSupportedError,
    ) as exc:
        return str(exc.message)
    return None


def run_policies(resources: list[Recorded]) -> list[str]:
    """Every policy of the pack over the rendered resources; one line per violation."""
    from pulumi_policy import (
        PolicyCustomTimeouts,
        PolicyProviderResource,
        PolicyResource,
        PolicyResourceOptions,
        ResourceValidationArgs,
        StackValidationArgs,
    )

    from infra.policy.rules import RESOURCE_RULES, STACK_RULES

    providers = {
        r.name: PolicyProviderResource(r.type, r.inputs, f"urn:{r.name}", r.name)
        for r in resources
        if r.type.startswith("pulumi:providers:")
    }
    options = PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )
    violations: list[str] = []
    policy_resources = []
    for r in resources:
        if not r.is_kubernetes_object:
            continue
        provider = providers.get(r.provider_name or "")
        urn = f"{r.type}::{r.name}"
        for rule, (_, validate) in RESOURCE_RULES.items():
            args = ResourceValidationArgs(r.type, r.inputs, urn, r.name, options, provider)
            validate(
                args,
                lambda msg, _urn=None, rule=rule, r=r: violations.append(
                    f"{rule}: {r.name}: {msg}"
                ),
            )
        policy_resources.append(
            PolicyResource(r.type, r.inputs, urn, r.name, options, provider, None, [], {})
        )
    stack_args = StackValidationArgs(policy_resources)
    for rule, (_, validate) in STACK_RULES.items():
        validate(
            stack_args,
            lambda msg, urn=None, rule=rule: violations.append(
                f"{rule}: {msg}" + (f" ({urn})" if urn else "")
            ),
        )
    return sorted(violations)
