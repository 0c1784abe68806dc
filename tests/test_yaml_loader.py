"""The one YAML loader of specs, catalogues, stack files and stack inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputError
from planner.inputs.yaml_loader import MAX_DEPTH, load_yaml_text, read_yaml_file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", "line 3: invalid YAML: duplicate key 'a' (first given on line 1)"),
        ("x:\n  y: 1\n  y: 2\n", "line 3: invalid YAML: duplicate key 'y' (first given on line 2)"),
        ("m: {k: 1, k: 2}\n", "duplicate key 'k'"),
        ("a: &anchor [1, 2]\nb: *anchor\n", "line 2: invalid YAML: alias '*anchor'"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "alias '*b'"),
        ("[" * 3000 + "]" * 3000, f"nested deeper than {MAX_DEPTH} levels"),
        ("- " * 200 + "x\n", f"nested deeper than {MAX_DEPTH} levels"),
        ("a: [1, 2\n", "invalid YAML"),
    ],
    ids=["top", "nested", "flow", "alias", "merge key", "deep flow", "deep block", "syntax"],
)
def test_refused_yaml_names_the_file_and_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_yaml_text(text, "spec.yaml")
    assert str(caught.value).startswith("spec.yaml: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 1
    assert load_yaml_text("[" * depth + "]" * depth, "f.yaml") is not None


def test_a_folder_and_bad_bytes_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        read_yaml_file(tmp_path)
    (tmp_path / "x.yaml").write_bytes(b"a: \xff\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_yaml_file(tmp_path / "x.yaml")


keys = st.text(alphabet="abcdefgh", min_size=1, max_size=4)
scalars = st.one_of(st.integers(-1000, 1000), st.booleans(), st.text(alphabet="xyz ", max_size=5))
documents = st.recursive(
    st.dictionaries(keys, scalars, max_size=4),
    lambda inner: st.dictionaries(keys, st.one_of(scalars, inner, st.lists(inner, max_size=3))),
    max_leaves=20,
)


@settings(max_examples=80, deadline=None)
@given(documents)
def test_documents_without_duplicates_or_aliases_load_as_safe_load_does(doc: dict) -> None:  # type: ignore[type-arg]
    import yaml

    text = yaml.safe_dump(doc, sort_keys=False)
    if "&id" in text:  # safe_dump shares repeated objects through aliases
        return
    assert load_yaml_text(text, "f.yaml") == yaml.safe_load(text)


def test_a_number_too_large_for_a_float_is_a_clear_error() -> None:
    from planner.errors import InputError
    from planner.inputs.yaml_loader import Node

    node = Node("spec.yaml", {"horizon_years": 10**400})
    with pytest.raises(InputError, match=r"horizon_years.*finite number, got a 401-digit number"):
        node.number("horizon_years", maximum=30)
