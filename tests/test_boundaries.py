"""Dependencies point one way: planner never imports pulumi or infra (only the CLI shell
sees both), and infra reads the plan through planner's reader."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_planner_library_never_imports_pulumi_or_infra() -> None:
    files = [p for p in (ROOT / "planner").rglob("*.py") if "cli" not in p.relative_to(ROOT).parts]
    assert len(files) > 20
    for path in files:
        bad = imported_modules(path) & {"pulumi", "pulumi_kubernetes", "pulumi_policy", "infra"}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_the_render_and_drill_commands_reach_into_infra() -> None:
    users = sorted(
        p.name for p in (ROOT / "planner" / "cli").glob("*.py") if "infra" in imported_modules(p)
    )
    assert users == ["drill.py", "render.py"]


def test_infra_reads_the_plan_through_the_planner() -> None:
    main = (ROOT / "infra" / "__main__.py").read_text()
    imported = {
        alias.name
        for node in ast.walk(ast.parse(main))
        if isinstance(node, ast.ImportFrom) and node.module == "planner.outputs.plan"
        for alias in node.names
    }
    assert {"planned_workloads", "read_plan"} <= imported
    assert "json.load" not in main


LAYERS = ("inputs", "power", "sizing", "simulate", "outputs", "jobs", "cli")


def planner_imports(path: Path) -> set[str]:
    """Every ``planner.X`` module a file imports (absolute imports, at any depth)."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("planner.")}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.startswith("planner.")
        ):
            names.add(node.module)
    return names


def test_planner_subpackages_follow_the_pipeline() -> None:
    """inputs -> power -> sizing -> simulate -> outputs -> jobs -> cli: each imports only
    the layers below it (and the foundation: errors, fsutil, the package itself)."""
    checked = 0
    for path in (ROOT / "planner").rglob("*.py"):
        parts = path.relative_to(ROOT / "planner").parts
        if len(parts) < 2:
            continue
        level = LAYERS.index(parts[0])
        for name in planner_imports(path):
            layer = name.split(".")[1]
            if layer in LAYERS:
                assert LAYERS.index(layer) <= level, f"{path.relative_to(ROOT)} imports {name}"
        checked += 1
    assert checked > 30
