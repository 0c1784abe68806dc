"""Strict, typed access to parsed YAML mappings, with errors that name file and key."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from planner.errors import InputError
from planner.inputs.files import reading

#: Deeper nesting than this is refused (no input of the planner needs more than a few).
MAX_DEPTH = 64


class _Refused(yaml.YAMLError):
    def __init__(self, mark: Any, problem: str) -> None:
        super().__init__(problem)
        self.problem_mark = mark
        self.problem = problem


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing what silently changes meaning or exhausts memory:
    duplicate keys (the last would win), aliases (``*name``, the "billion laughs"
    expansion) and nesting deeper than :data:`MAX_DEPTH`."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _Refused(
                event.start_mark,
                f"alias '*{event.anchor}' (YAML aliases are not accepted: write the value out)",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                    f"nested deeper than {MAX_DEPTH} levels",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is None:
                    continue
                if key in first:
                    raise _Refused(
                        key_node.start_mark,
                        f"duplicate key '{key}' (first given on line {first[key]})",
                    )
                first[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML text with :class:`StrictLoader`; errors name ``source`` and the line."""
    loader = StrictLoader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(source, where, f"invalid YAML: {problem}") from None
    except RecursionError:
        raise InputError(source, "", "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()


def read_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file (any top level)."""
    with reading(path, "YAML"):
        text = path.read_text(encoding="utf-8")
    return load_yaml_text(text, str(path))


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file whose top level must be a mapping."""
    data = read_yaml_file(path)
    if not isinstance(data, dict):
        raise InputError(str(path), "", "expected a mapping at the top level")
    return data


class Node:
    """A mapping at a dotted key path inside a file, with typed getters."""

    def __init__(self, source: str, data: Mapping[str, Any], path: str = "") -> None:
        self.source = source
        self.data = data
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, expected: str) -> InputError:
        return InputError(self.source, f"key '{self.key(name)}'", expected)

    def reject_unknown(self, allowed: set[str]) -> None:
        for name in self.data:
            if name not in allowed:
                where = f"key '{self.key(str(name))}'"
                choices = ", ".join(sorted(allowed))
                raise InputError(self.source, where, f"unknown key (expected one of: {choices})")

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def raw(self, name: str) -> Any:
        if name not in self.data or self.data[name] is None:
            raise self.error(name, "required key is missing")
        return self.data[name]

    def child(self, name: str) -> Node:
        value = self.raw(name)
        if not isinstance(value, dict):
            raise self.error(name, f"expected a mapping, got {_kind(value)}")
        return Node(self.source, value, self.key(name))

    def items(self, name: str) -> list[Node]:
        value = self.raw(name)
        if not isinstance(value, list) or not value:
            raise self.error(name, f"expected a non-empty list, got {_kind(value)}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.error(f"{name}[{i}]", f"expected a mapping, got {_kind(item)}")
            out.append(Node(self.source, item, f"{self.key(name)}[{i}]"))
        return out

    def string(self, name: str, default: str | None = None) -> str:
        if default is not None and not self.has(name):
            return default
        value = self.raw(name)
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"expected a non-empty string, got {_kind(value)}")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.string(name, default)
        if value not in choices:
            raise self.error(name, f"expected one of {', '.join(choices)}, got '{value}'")
        return value

    def number(
        self,
        name: str,
        *,
        default: float | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: float | None = None,
    ) -> float:
        if default is not None and not self.has(name):
            return default
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"expected a number, got {_kind(value)}")
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float (hundreds of digits)
            number = math.inf
        if not math.isfinite(number):
            shown = str(value) if len(str(value)) <= 40 else f"a {len(str(value))}-digit number"
            raise self.error(name, f"expected a finite number, got {shown}")
        if minimum is not None and number < minimum:
            raise self.error(name, f"expected a number >= {minimum:g}, got {value}")
        if maximum is not None and number > maximum:
            raise self.error(name, f"expected a number <= {maximum:g}, got {value}")
        if exclusive_minimum is not None and number <= exclusive_minimum:
            raise self.error(name, f"expected a number > {exclusive_minimum:g}, got {value}")
        return number

    def integer(self, name: str, *, default: int | None = None, minimum: int = 0) -> int:
        if default is not None and not self.has(name):
            return default
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected a whole number, got {_kind(value)}")
        if value < minimum:
            raise self.error(name, f"expected a whole number >= {minimum}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        if not self.has(name):
            return default
        value = self.raw(name)
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {_kind(value)}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, str):
        return f"a string ('{value}')"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
