"""The inputs of a plan: which files, loaded and checked, and whether a plan still matches.

Light on purpose (no solver, no pandas unless a profile is read): the commands that only
check a plan against its inputs import this, not the sizing job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.errors import InputError
from planner.inputs.catalog import Catalog, default_catalog_path, filter_catalog, read_catalog
from planner.inputs.measured import normalise_catalog, resolve_measured
from planner.inputs.profile_options import ProfileOptions
from planner.inputs.spec import Spec, read_spec
from planner.inputs.yaml_loader import Node, load_yaml_mapping
from planner.outputs.plan import InputRef, file_sha256

if TYPE_CHECKING:
    from planner.inputs.profiles import Profile

BUNDLED = "bundled-example"


@dataclass(frozen=True)
class SizeInputs:
    """Paths of the three inputs; ``profile=None`` means the generated bundled example."""

    profile: Path | None
    spec: Path
    catalog: Path
    profile_options: ProfileOptions = field(default_factory=ProfileOptions)

    def paths(self) -> tuple[Path, ...]:
        """The input files (for refusing to write over one of them)."""
        return tuple(p for p in (self.profile, self.spec, self.catalog) if p is not None)

    @classmethod
    def bundled(cls) -> SizeInputs:
        from planner.inputs.data_paths import example_spec_path

        return cls(profile=None, spec=example_spec_path(), catalog=default_catalog_path())


def load_inputs(
    inputs: SizeInputs, *, with_profile: bool = True
) -> tuple[Spec, Catalog, Profile | None, tuple[InputRef, ...]]:
    """The spec, the catalogue and (unless ``with_profile`` is false, for a command that
    does not read it) the profile, each validated, with their references."""
    spec = read_spec(inputs.spec)
    catalog = read_catalog(inputs.catalog)
    catalog = usable_catalog(spec, catalog, str(inputs.spec), str(inputs.catalog))
    refs = (
        InputRef("spec", inputs.spec.name, file_sha256(inputs.spec)),
        InputRef("catalog", inputs.catalog.name, file_sha256(inputs.catalog)),
    )
    if not with_profile:
        return spec, catalog, None, refs
    if inputs.profile is None:
        from planner.inputs.example import example_profile

        profile = example_profile(spec, str(inputs.spec))
        profile_name = BUNDLED
    else:
        from planner.inputs.profiles import read_profile

        profile = read_profile(inputs.profile, spec, inputs.profile_options)
        profile_name = inputs.profile.name
    return (
        spec,
        catalog,
        profile,
        (InputRef("profile", profile_name, profile.content_hash()), *refs),
    )


def usable_catalog(spec: Spec, catalog: Catalog, spec_source: str, catalog_source: str) -> Catalog:
    """The catalogue as the spec may use it: same currency, every server's cores counted
    in the measured hardware's (:mod:`planner.inputs.measured`), the spec's SKU filter, and a
    battery of the spec's chemistry and a UPS frame where the spec has a power section."""
    if catalog.currency != spec.currency:
        raise InputError(
            catalog_source,
            "key 'currency'",
            f"expected the spec's currency '{spec.currency}', got '{catalog.currency}'",
        )
    # the measured hardware may be a catalogue server the spec's filter leaves out
    measured = spec.measured_on and resolve_measured(spec.measured_on, catalog, spec_source)
    catalog = filter_catalog(catalog, spec.allowed_servers, spec.allowed_drives, spec_source)
    catalog = normalise_catalog(catalog, measured, spec_source, catalog_source)
    if spec.power is not None:
        if not any(b.chemistry == spec.power.chemistry for b in catalog.batteries):
            raise InputError(
                catalog_source,
                "key 'batteries'",
                f"no battery module of chemistry '{spec.power.chemistry}' (the spec's power "
                "section asks for it)",
            )
        if not catalog.ups_frames:
            raise InputError(
                catalog_source,
                "key 'ups_frames'",
                "no UPS frame (the spec's power section needs one)",
            )
    return catalog


def stack_inputs(root: Path, stack: str) -> SizeInputs:
    """The inputs a stack's plan is made from, as ``stacks/<stack>/inputs.yaml`` names them
    (paths relative to ``root``; no profile and spec means the bundled example)."""
    path = root / "stacks" / stack / "inputs.yaml"
    if not path.is_file():
        known = sorted(p.parent.name for p in (root / "stacks").glob("*/inputs.yaml"))
        raise InputError(
            str(path),
            "",
            f"no inputs file for stack '{stack}' (stacks with one: {', '.join(known) or 'none'})",
        )
    node = Node(str(path), load_yaml_mapping(path))
    node.reject_unknown({"profile", "spec", "catalog"})
    if node.has("profile") != node.has("spec"):
        raise node.error(
            "spec" if node.has("profile") else "profile", "profile and spec go together"
        )
    bundled = SizeInputs.bundled()
    return SizeInputs(
        profile=root / node.string("profile") if node.has("profile") else None,
        spec=root / node.string("spec") if node.has("spec") else bundled.spec,
        catalog=root / node.string("catalog") if node.has("catalog") else bundled.catalog,
    )


def stale_inputs(committed: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """Which inputs differ between a committed plan and a fresh one, one phrase each."""
    out = []
    for kind, ref in fresh.get("inputs", {}).items():
        old = committed.get("inputs", {}).get(kind, {})
        if not isinstance(old, dict) or old.get("sha256") != ref["sha256"]:
            old_name = old.get("name", "?") if isinstance(old, dict) else "?"
            if old_name == ref["name"]:
                out.append(f"the {kind} {ref['name']} changed since the plan was made")
            else:
                out.append(f"the {kind} given is {ref['name']}, the plan was made from {old_name}")
    return out
