"""Plan files: canonical bytes, digest, atomic writes, schema and semantic checks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from infra.settings import PROJECT_ROOT
from planner.errors import InputError
from planner.outputs.plan import (
    SCHEMA_VERSION,
    dumps_plan,
    is_edited,
    plan_digest,
    read_plan,
    write_plan,
)

PROD_PLAN = PROJECT_ROOT / "stacks" / "prod" / "plan.json"


def test_canonical_text_sorts_keys_rounds_floats_and_ends_with_the_digest() -> None:
    text = dumps_plan({"b": 0.1 + 0.2, "a": [1, -0.0, (2.5,)], "c": {"z": True, "y": None}})
    body = (
        '{\n  "a": [\n    1,\n    0.0,\n    [\n      2.5\n    ]\n  ],\n  "b": 0.3,\n'
        '  "c": {\n    "y": null,\n    "z": true\n  }\n}'
    )
    digest = "sha256:" + hashlib.sha256(body.encode()).hexdigest()
    assert text == body[:-2] + f',\n  "digest": "{digest}"\n}}\n'


def test_non_finite_numbers_never_reach_a_plan() -> None:
    from planner.errors import PlannerError

    for value in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(PlannerError, match="finite"):
            dumps_plan({"tco": value})


def test_write_is_atomic_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "plan.json"
    plan = json.loads(PROD_PLAN.read_text())
    write_plan(plan, target)
    assert [p.name for p in target.parent.iterdir()] == ["plan.json"]
    assert read_plan(target)["digest"] == plan["digest"]
    with pytest.raises(TypeError):
        write_plan({**plan, "bad": object()}, target)
    assert target.read_bytes() == PROD_PLAN.read_bytes()  # the old plan is intact
    assert [p.name for p in target.parent.iterdir()] == ["plan.json"]


def test_the_committed_plan_matches_its_digest_and_an_edit_does_not() -> None:
    plan = read_plan(PROD_PLAN)
    assert plan["digest"] == plan_digest(plan)
    plan["sites"][0]["costs"]["energy"] += 1.0
    assert is_edited(plan)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not a valid JSON plan"),
        (json.dumps({"schema": "other"}), "key 'schema': expected 'hospital-platform/plan'"),
        (
            json.dumps({"schema": "hospital-platform/plan", "schema_version": 9}),
            f"key 'schema_version': expected {SCHEMA_VERSION}, got 9",
        ),
        ('{"schema": "hospital-platform/plan", "tco": NaN}', "NaN is not a number"),
        ('{"schema": "hospital-platform/plan", "tco": -Infinity}', "-Infinity is not a number"),
    ],
)
def test_read_plan_rejects_foreign_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_plan(path)
