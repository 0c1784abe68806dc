"""The pull-request preview: plan diffs, rendered-manifest diffs per site, validation and
policy results, and whether each committed plan is in step with its inputs.

Needs no cluster and no secrets, so it runs on a fork's pull request. The base revision
is checked out in a temporary git worktree and rendered with its own code (a subprocess
with that tree first on the path), so a change to the programs shows up in the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from planner.errors import InputError
from planner.inputs.yaml_loader import load_yaml_mapping
from planner.outputs.diff import (
    diff_plans,
    flatten,
    headline,
    input_causes,
    render_headline,
    render_markdown,
)
from planner.outputs.plan import is_edited, read_plan
from planner.outputs.preview import SUMMARY, StackPreview, render_preview
from planner.outputs.replacements import warnings_for


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InputError(
            "git",
            " ".join(args),
            done.stderr.strip().splitlines()[-1]
            if done.stderr.strip()
            else f"exit {done.returncode}",
        )
    return done.stdout


def stacks_in(tree: Path) -> list[str]:
    """The environment stacks of ``tree``; a site stack (one with ``environment``) deploys
    a part of its environment's manifests, which the environment's preview already shows."""
    out = []
    for path in (tree / "stacks").glob("Pulumi.*.yaml"):
        config = load_yaml_mapping(path).get("config") or {}
        if isinstance(config, dict) and config.get("hospital-platform:environment"):
            continue
        out.append(path.name[len("Pulumi.") : -len(".yaml")])
    return sorted(out)


def plan_file(tree: Path, stack: str) -> str | None:
    path = tree / "stacks" / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return None
    config = load_yaml_mapping(path).get("config") or {}
    if not isinstance(config, dict):
        raise InputError(str(path), "key 'config'", "expected a mapping")
    value = config.get("hospital-platform:planFile")
    return str(value) if value else None


def _base_plan(path: Path) -> dict[str, Any]:
    """The base revision's plan: checked like any plan when it has this planner's schema;
    a plan of an older schema version is read as plain JSON (it predates the check)."""
    try:
        return read_plan(path, verify_digest=False)
    except InputError:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded


def render_tree(tree: Path, stack: str, out: Path) -> dict[str, Any] | str:
    """Render ``stack`` with the code of ``tree``; the summary, or the error text."""
    env = dict(os.environ, PYTHONPATH=str(tree), CI=os.environ.get("CI", "1"))
    done = subprocess.run(
        [sys.executable, "-m", "planner", "render", "--stack", stack, "--out", str(out)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = out / SUMMARY
    if summary.exists():
        loaded: dict[str, Any] = json.loads(summary.read_text())
        return loaded
    if done.returncode in (0, 1) and out.is_dir():
        # an older render without a summary file: hash what it wrote
        files = {
            str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*.yaml"))
        }
        return {"files": files, "validation_errors": [], "policy_violations": []}
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1] if lines else f"render exited {done.returncode}"


def manifest_changes(
    old_dir: Path, new_dir: Path, old: dict[str, str], new: dict[str, str], preview: StackPreview
) -> None:
    """Sort every manifest into added, removed or changed (with the fields that changed)."""
    for relative in sorted(new.keys() - old.keys()):
        site, name = relative.split("/", 1)
        preview.added.setdefault(site, []).append(name)
    for relative in sorted(old.keys() - new.keys()):
        site, name = relative.split("/", 1)
        preview.removed.setdefault(site, []).append(name)
    for relative in sorted(old.keys() & new.keys()):
        if old[relative] == new[relative]:
            continue
        a = flatten(yaml.safe_load((old_dir / relative).read_text()))
        b = flatten(yaml.safe_load((new_dir / relative).read_text()))
        paths = [k for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]
        fields = [f"{k}: {a.get(k, '(none)')} -> {b.get(k, '(none)')}" for k in paths]
        site, name = relative.split("/", 1)
        preview.changed.setdefault(site, {})[name] = fields
        preview.changed_paths.setdefault(site, {})[name] = paths


def check_plan(tree: Path, stack: str) -> tuple[bool, str]:
    """`planner size --check` for the stack's committed plan, with its recorded inputs."""
    from planner.jobs.size import run_size, stack_inputs
    from planner.outputs.plan import dumps_plan

    plan = plan_file(tree, stack)
    inputs_file = tree / "stacks" / stack / "inputs.yaml"
    if plan is None or not inputs_file.exists():
        return False, f"cannot check: no planFile or no stacks/{stack}/inputs.yaml"
    inputs = stack_inputs(tree, stack)
    fresh = dumps_plan(run_size(inputs).plan)
    if fresh == (tree / plan).read_text(encoding="utf-8"):
        return True, f"`{plan}` is in step with its inputs"
    return False, f"`{plan}` is OUT OF DATE with its inputs: re-run `planner size`"


def build_preview(
    repo: Path,
    base: str,
    stacks: list[str] | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[str, list[StackPreview]]:
    """The Markdown comment and the per-stack details."""
    base_sha = git(repo, "rev-parse", "--verify", f"{base}^{{commit}}").strip()
    names = stacks or stacks_in(repo)
    previews = []
    with tempfile.TemporaryDirectory(prefix="planner-preview-") as tmp:
        work = Path(tmp)
        base_tree = work / "base"
        git(repo, "worktree", "add", "--detach", str(base_tree), base_sha)
        try:
            for stack in names:
                progress(f"stack {stack}: plan diff, size --check, renders")
                previews.append(_stack_preview(repo, base_tree, stack, work))
        finally:
            git(repo, "worktree", "remove", "--force", str(base_tree))
    return render_preview(base, base_sha, previews), previews


def _stack_preview(repo: Path, base_tree: Path, stack: str, work: Path) -> StackPreview:
    """One stack: the renders of both trees run in parallel while the plan is checked."""
    from concurrent.futures import ThreadPoolExecutor

    preview = StackPreview(stack)
    has_base = (base_tree / "stacks" / f"Pulumi.{stack}.yaml").exists()
    with ThreadPoolExecutor(max_workers=2) as pool:
        new_future = pool.submit(render_tree, repo, stack, work / f"new-{stack}")
        old_future = (
            pool.submit(render_tree, base_tree, stack, work / f"old-{stack}") if has_base else None
        )
        _plan_part(repo, base_tree, stack, preview)
        preview.check_ok, preview.check = check_plan(repo, stack)
        new = new_future.result()
        old = old_future.result() if old_future is not None else "no such stack at the base"
    if isinstance(new, str):
        preview.validation_errors.append(f"render failed: {new}")
        return preview
    preview.validation_errors += list(new["validation_errors"])
    preview.policy_violations = (
        list(new["policy_violations"])
        + [f"network reachability: {line}" for line in new.get("reachability", [])]
        + [f"failover drill: {line}" for line in new.get("drill", [])]
    )
    preview.warnings += [f"stated by the plan: {line}" for line in new.get("stated_limits", [])]
    old_files: dict[str, str] = {}
    if isinstance(old, str):
        preview.base_note = f"base not rendered ({old}); every manifest counts as added"
    else:
        old_files = old["files"]
    manifest_changes(work / f"old-{stack}", work / f"new-{stack}", old_files, new["files"], preview)
    for site in sorted(preview.changed_paths.keys() | preview.removed.keys()):
        preview.warnings += warnings_for(
            site, preview.changed_paths.get(site, {}), preview.removed.get(site, [])
        )
    return preview


def _plan_part(repo: Path, base_tree: Path, stack: str, preview: StackPreview) -> None:
    """The plan diff, its headline and what in the inputs caused it."""
    new_plan_path = plan_file(repo, stack)
    old_plan_path = plan_file(base_tree, stack)
    if not new_plan_path or not (repo / new_plan_path).exists():
        return
    new_plan = read_plan(repo / new_plan_path, verify_digest=False)
    if is_edited(new_plan):
        preview.validation_errors.append(
            f"`{new_plan_path}` was edited by hand after `planner size` wrote it "
            "(its numbers no longer match its digest)"
        )
    if not old_plan_path or not (base_tree / old_plan_path).exists():
        preview.base_note = "new stack (no plan at the base)"
        return
    old_plan = _base_plan(base_tree / old_plan_path)
    preview.warnings += racking(repo, stack, base_tree / old_plan_path, old_plan, new_plan)
    preview.plan_changes = diff_plans(old_plan, new_plan)
    preview.causes = input_file_changes(base_tree, repo, stack) or [
        c for c in input_causes(old_plan, new_plan) if not c.startswith("spec ")
    ]
    if preview.plan_changes or preview.causes:
        preview.plan_markdown = render_markdown(preview.plan_changes, old_plan, new_plan)
        currency = new_plan["assumptions"]["currency"]
        preview.headline = render_headline(
            headline(old_plan, new_plan, preview.plan_changes), currency, []
        )


def servers_added(old_plan: dict[str, Any], new_plan: dict[str, Any]) -> list[str]:
    """Per site, the servers the new plan has beyond the old one ('holstebro: +3 sku')."""
    old = {(s["name"], x["sku"]): int(x["count"]) for s in old_plan["sites"] for x in s["servers"]}
    out = []
    for site in new_plan["sites"]:
        for server in site["servers"]:
            more = int(server["count"]) - old.get((site["name"], server["sku"]), 0)
            if more > 0:
                out.append(f"{site['name']}: +{more} {server['sku']}")
    return out


def racking(
    repo: Path, stack: str, old_path: Path, old_plan: dict[str, Any], new_plan: dict[str, Any]
) -> list[str]:
    """A plan that buys servers is drilled twice: on the hardware it buys (the render's own
    drill) and here on the servers installed today (the base plan's, ``planner drill
    --hardware``). When the new manifests fail there, the new servers must be racked before
    `pulumi up`."""
    added = servers_added(old_plan, new_plan)
    if not added:
        return []
    done = subprocess.run(
        [sys.executable, "-m", "planner", "drill", "--stack", stack, "--hardware", str(old_path)],
        cwd=repo,
        env=dict(os.environ, PYTHONPATH=str(repo), CI=os.environ.get("CI", "1")),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return [
            "the new manifests also hold on the servers installed today (drilled on the base "
            f"plan's hardware): racking {'; '.join(added)} may follow `pulumi up`"
        ]
    failing = [ln.strip() for ln in done.stdout.splitlines() if ln.startswith("  ")]
    reason = failing[0] if failing else (done.stderr.strip() or f"exit {done.returncode}")
    return [
        f"RACK FIRST: on the servers installed today the new manifests fail the drill "
        f"({reason}); rack {'; '.join(added)} before `pulumi up`"
    ]


def _input_paths(tree: Path, stack: str) -> dict[str, Path]:
    """The spec and catalogue a stack's plan is made from, inside ``tree`` (a stack without
    its own spec uses the bundled example's, as that tree ships it)."""
    inputs = tree / "stacks" / stack / "inputs.yaml"
    doc = load_yaml_mapping(inputs) if inputs.exists() else {}
    return {
        "spec": tree / str(doc.get("spec") or "planner/data/example-spec.yaml"),
        "catalogue": tree / str(doc.get("catalog") or "planner/data/catalog.yaml"),
    }


def _keyed(value: Any) -> Any:
    """Lists of mappings with a sku or name become mappings by it (so an insertion does not
    shift every later entry)."""
    if isinstance(value, dict):
        return {k: _keyed(v) for k, v in value.items()}
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) and ("sku" in v or "name" in v) for v in value)
    ):
        return {str(v.get("sku", v.get("name"))): _keyed(v) for v in value}
    return value


def input_file_changes(base_tree: Path, head_tree: Path, stack: str, limit: int = 12) -> list[str]:
    """Keys that differ between the base's and the head's spec and catalogue."""
    out = []
    old_paths, new_paths = _input_paths(base_tree, stack), _input_paths(head_tree, stack)
    for kind in ("spec", "catalogue"):
        if not old_paths[kind].exists() or not new_paths[kind].exists():
            continue
        try:
            a = flatten(_keyed(load_yaml_mapping(old_paths[kind])))
            b = flatten(_keyed(load_yaml_mapping(new_paths[kind])))
        except InputError as exc:
            out.append(f"{kind}: {exc}")
            continue
        for key in sorted(a.keys() | b.keys()):
            if a.get(key) != b.get(key):
                out.append(f"{kind} `{key}`: {a.get(key, '(none)')} -> {b.get(key, '(none)')}")
    if len(out) > limit:
        out = [*out[:limit], f"... and {len(out) - limit} more"]
    return out
