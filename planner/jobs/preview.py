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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from planner.errors import InputError
from planner.inputs.yaml_loader import load_yaml_mapping
from planner.outputs.diff import Change, diff_plans, render_markdown
from planner.outputs.plan import is_edited, read_plan

SUMMARY = "render-summary.json"
MAX_FIELDS = 12


@dataclass
class StackPreview:
    stack: str
    plan_changes: list[Change] = field(default_factory=list)
    plan_markdown: str = ""
    check: str = ""
    check_ok: bool = True
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    changed: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    validation_errors: list[str] = field(default_factory=list)
    policy_violations: list[str] = field(default_factory=list)
    base_note: str = ""

    @property
    def unchanged(self) -> bool:
        return not (self.plan_changes or self.added or self.removed or self.changed)

    @property
    def clean(self) -> bool:
        return self.check_ok and not self.validation_errors and not self.policy_violations


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
    return sorted(
        p.name[len("Pulumi.") : -len(".yaml")] for p in (tree / "stacks").glob("Pulumi.*.yaml")
    )


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


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out |= _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out |= _flatten(v, f"{prefix}[{i}]")
        return out
    return {prefix: value}


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
        a = _flatten(yaml.safe_load((old_dir / relative).read_text()))
        b = _flatten(yaml.safe_load((new_dir / relative).read_text()))
        fields = [
            f"{k}: {a.get(k, '(none)')} -> {b.get(k, '(none)')}"
            for k in sorted(a.keys() | b.keys())
            if a.get(k) != b.get(k)
        ]
        site, name = relative.split("/", 1)
        preview.changed.setdefault(site, {})[name] = fields


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
    preview = StackPreview(stack)
    new_plan_path = plan_file(repo, stack)
    old_plan_path = plan_file(base_tree, stack)
    if new_plan_path and (repo / new_plan_path).exists():
        new_plan = read_plan(repo / new_plan_path, verify_digest=False)
        if is_edited(new_plan):
            preview.validation_errors.append(
                f"`{new_plan_path}` was edited by hand after `planner size` wrote it "
                "(its numbers no longer match its digest)"
            )
        if old_plan_path and (base_tree / old_plan_path).exists():
            old_plan = _base_plan(base_tree / old_plan_path)
            preview.plan_changes = diff_plans(old_plan, new_plan)
            if preview.plan_changes:
                preview.plan_markdown = render_markdown(preview.plan_changes, old_plan, new_plan)
        else:
            preview.base_note = "new stack (no plan at the base)"
    preview.check_ok, preview.check = check_plan(repo, stack)
    new = render_tree(repo, stack, work / f"new-{stack}")
    if isinstance(new, str):
        preview.validation_errors.append(f"render failed: {new}")
        return preview
    preview.validation_errors = list(new["validation_errors"])
    preview.policy_violations = list(new["policy_violations"])
    old = (
        render_tree(base_tree, stack, work / f"old-{stack}")
        if (base_tree / "stacks" / f"Pulumi.{stack}.yaml").exists()
        else "no such stack at the base"
    )
    old_files: dict[str, str] = {}
    if isinstance(old, str):
        preview.base_note = f"base not rendered ({old}); every manifest counts as added"
    else:
        old_files = old["files"]
    manifest_changes(work / f"old-{stack}", work / f"new-{stack}", old_files, new["files"], preview)
    return preview


#: How every preview begins (the one-line "no changes" form, or the full comment).
PREVIEW_OPENINGS = (
    "No changes to plans or rendered manifests against ",
    "## Offline preview against ",
)


def is_preview_file(path: Path) -> bool:
    """True when ``path`` holds a preview this command wrote (so it may be replaced)."""
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(200)
    except (OSError, UnicodeDecodeError):
        return False
    return head.startswith(PREVIEW_OPENINGS)


def render_preview(base: str, base_sha: str, previews: list[StackPreview]) -> str:
    short = base_sha[:10]
    if all(p.unchanged and p.clean and not p.base_note for p in previews):
        return (
            f"No changes to plans or rendered manifests against `{base}` ({short}); "
            "plans in step with their inputs, manifests valid, policies pass.\n"
        )
    lines = [
        f"## Offline preview against `{base}` ({short})",
        "",
        "Rendered without cluster credentials (Pulumi SDK mocks); a real `pulumi preview` "
        "also diffs against the live clusters.",
        "",
    ]
    for p in previews:
        lines += [f"### Stack `{p.stack}`", ""]
        lines.append(f"- plan: {'OK' if p.check_ok else 'FAIL'}: {p.check}")
        lines.append(
            f"- kubernetes-validate: {'all valid' if not p.validation_errors else 'FAILED'}"
        )
        lines += [f"  - {e}" for e in p.validation_errors]
        lines.append(
            f"- policy pack: {'no violations' if not p.policy_violations else 'VIOLATIONS'}"
        )
        lines += [f"  - {v}" for v in p.policy_violations]
        if p.base_note:
            lines.append(f"- note: {p.base_note}")
        lines.append("")
        lines += ["#### Plan", "", p.plan_markdown or "No change to the plan.", ""]
        lines += ["#### Manifests", ""]
        sites = sorted(p.added.keys() | p.removed.keys() | p.changed.keys())
        if not sites:
            lines += ["No change to the rendered manifests.", ""]
        for site in sites:
            added, removed = p.added.get(site, []), p.removed.get(site, [])
            changed = p.changed.get(site, {})
            lines.append(
                f"**{site}**: {len(added)} added, {len(changed)} changed, {len(removed)} removed"
            )
            lines += [f"- added `{name}`" for name in added]
            lines += [f"- removed `{name}`" for name in removed]
            for name, fields in changed.items():
                lines.append(f"- changed `{name}`:")
                lines += [f"  - `{f}`" for f in fields[:MAX_FIELDS]]
                if len(fields) > MAX_FIELDS:
                    lines.append(f"  - ... and {len(fields) - MAX_FIELDS} more fields")
            lines.append("")
    return "\n".join(lines)
