"""Plan files: canonical bytes, atomic writes, schema checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.outputs.plan import dumps_plan, read_plan, write_plan


def test_canonical_text_sorts_keys_and_rounds_floats() -> None:
    text = dumps_plan({"b": 0.1 + 0.2, "a": [1, -0.0, (2.5,)], "c": {"z": True, "y": None}})
    assert text == (
        '{\n  "a": [\n    1,\n    0.0,\n    [\n      2.5\n    ]\n  ],\n  "b": 0.3,\n'
        '  "c": {\n    "y": null,\n    "z": true\n  }\n}\n'
    )


def test_write_is_atomic_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "plan.json"
    write_plan({"schema": "hospital-platform/plan", "schema_version": 1}, target)
    assert [p.name for p in target.parent.iterdir()] == ["plan.json"]
    assert read_plan(target)["schema_version"] == 1
    with pytest.raises(TypeError):
        write_plan({"bad": object()}, target)
    assert read_plan(target)["schema_version"] == 1  # the old plan is intact
    assert [p.name for p in target.parent.iterdir()] == ["plan.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not a readable JSON plan"),
        (json.dumps({"schema": "other"}), "key 'schema': expected 'hospital-platform/plan'"),
        (
            json.dumps({"schema": "hospital-platform/plan", "schema_version": 9}),
            "key 'schema_version': expected 1, got 9",
        ),
    ],
)
def test_read_plan_rejects_foreign_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_plan(path)
