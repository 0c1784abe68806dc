"""The spec's power section and the catalogue turned into what the sizing chooses from."""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.inputs.catalog import BatterySku, Catalog, UpsFrameSku
from planner.inputs.spec import PowerSpec
from planner.power.battery import CHEMISTRIES, Derating, modules_per_string, temperature_factor
from planner.power.risk import RequiredRuntime, required_runtime


def derating(power: PowerSpec) -> Derating:
    """The sizing's IEEE 485 factors: the room's temperature, end of life, design margin."""
    chemistry = CHEMISTRIES[power.chemistry]
    return Derating(
        temperature=temperature_factor(power.temperature_c),
        aging=1.0 / chemistry.end_of_life_capacity,
        margin=power.design_margin,
    )


def site_required_runtime(power: PowerSpec) -> RequiredRuntime:
    return required_runtime(power)


def candidate_batteries(catalog: Catalog, power: PowerSpec) -> tuple[BatterySku, ...]:
    return tuple(b for b in catalog.batteries if b.chemistry == power.chemistry)


@dataclass(frozen=True)
class StringOption:
    """A battery module model behind a UPS frame model, and its string length."""

    battery: BatterySku
    frame: UpsFrameSku
    modules_per_string: int


def string_options(catalog: Catalog, power: PowerSpec) -> tuple[StringOption, ...]:
    """Every (module, frame) pair whose string fits the frame's DC bus."""
    out = []
    for frame in catalog.ups_frames:
        for battery in candidate_batteries(catalog, power):
            s = modules_per_string(battery, frame)
            if s is not None:
                out.append(StringOption(battery, frame, s))
    return tuple(out)


def purchases_over(horizon_years: float, service_life_years: float) -> int:
    """How many times a battery is bought over the horizon (replaced at end of life)."""
    return max(1, math.ceil(horizon_years / service_life_years - 1e-9))
