"""The pull-request preview as a reviewer reads it: per stack a headline, the causes,
the warnings, then the details folded; and what makes a file one of its outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from planner.outputs.diff import Change

#: The render summary file the preview reads from each render.
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
    changed_paths: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    headline: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.plan_changes or self.added or self.removed or self.changed)

    @property
    def clean(self) -> bool:
        return self.check_ok and not self.validation_errors and not self.policy_violations


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
    """The comment: per stack a headline, the warnings, then the details folded."""
    short = base_sha[:10]
    if all(p.unchanged and p.clean and not p.base_note and not p.causes for p in previews):
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
        verdict = "checks pass" if p.clean else "CHECKS FAIL"
        lines += [f"### Stack `{p.stack}`: {verdict}", ""]
        if p.headline:
            lines += [f"{line}  " for line in p.headline]
        elif p.plan_changes or p.added or p.removed or p.changed:
            lines.append("No change to the plan's costs or quantities.  ")
        else:
            lines.append("No change.  ")
        if p.causes:
            lines.append("Caused by: " + "; ".join(p.causes))
        lines.append("")
        problems = (
            ([] if p.check_ok else [f"plan: {p.check}"])
            + [f"kubernetes-validate: {e}" for e in p.validation_errors]
            + [f"policy: {v}" for v in p.policy_violations]
        )
        if p.warnings or problems:
            lines += ["**Warnings**", ""]
            lines += [f"- :warning: {w}" for w in p.warnings]
            lines += [f"- :x: {x}" for x in problems]
            lines.append("")
        lines.append(
            f"Checks: plan {'in step with its inputs' if p.check_ok else 'OUT OF DATE'}; "
            f"kubernetes-validate {'all valid' if not p.validation_errors else 'FAILED'}; "
            f"policy pack {'no violations' if not p.policy_violations else 'VIOLATIONS'}"
            + (f"; note: {p.base_note}" if p.base_note else "")
        )
        lines.append("")
        if p.plan_markdown:
            lines += [
                "<details><summary>Plan changes</summary>",
                "",
                p.plan_markdown,
                "</details>",
                "",
            ]
        sites = sorted(p.added.keys() | p.removed.keys() | p.changed.keys())
        if sites:
            counts = ", ".join(
                f"{site} {len(p.added.get(site, []))} added / {len(p.changed.get(site, {}))} "
                f"changed / {len(p.removed.get(site, []))} removed"
                for site in sites
            )
            lines += [f"<details><summary>Manifest changes: {counts}</summary>", ""]
            for site in sites:
                lines.append(f"**{site}**")
                lines += [f"- added `{name}`" for name in p.added.get(site, [])]
                lines += [f"- removed `{name}`" for name in p.removed.get(site, [])]
                for name, fields in p.changed.get(site, {}).items():
                    lines.append(f"- changed `{name}`:")
                    lines += [f"  - `{f}`" for f in fields[:MAX_FIELDS]]
                    if len(fields) > MAX_FIELDS:
                        lines.append(f"  - ... and {len(fields) - MAX_FIELDS} more fields")
                lines.append("")
            lines += ["</details>", ""]
    return "\n".join(lines)
