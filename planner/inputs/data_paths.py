"""Where the package's own data files are: the bundled example's spec (its profile is
generated, not shipped). Light on purpose: no pandas, so commands that only need the
path stay fast."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def example_dir() -> Path:
    """The folder with the example's spec (the profile is generated, not shipped)."""
    return Path(str(resources.files("planner") / "data"))


def example_spec_path() -> Path:
    return example_dir() / "example-spec.yaml"
