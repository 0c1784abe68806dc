"""The spec's power section turned into battery factors and a required runtime."""

from __future__ import annotations

import math

from planner.inputs.catalog import BatterySku, Catalog
from planner.inputs.spec import PowerSpec
from planner.power.battery import (
    CHEMISTRIES,
    BatteryDesign,
    RequiredRuntime,
    required_runtime,
    temperature_factor,
)


def battery_design(power: PowerSpec) -> BatteryDesign:
    return BatteryDesign(
        chemistry=CHEMISTRIES[power.chemistry],
        inverter_efficiency=power.inverter_efficiency,
        temperature_factor=temperature_factor(power.temperature_c),
        design_margin=power.design_margin,
    )


def site_required_runtime(power: PowerSpec) -> RequiredRuntime:
    return required_runtime(
        generator_start_s=power.generator_start_s,
        generator_transfer_s=power.generator_transfer_s,
        generator_stabilise_s=power.generator_stabilise_s,
        generator_fail_to_start=power.generator_fail_to_start,
        failover_p50_min=power.failover_p50_min,
        failover_p95_min=power.failover_p95_min,
        shutdown_min=power.shutdown_min,
        accepted_risk=power.accepted_risk,
    )


def candidate_batteries(catalog: Catalog, power: PowerSpec) -> tuple[BatterySku, ...]:
    return tuple(b for b in catalog.batteries if b.chemistry == power.chemistry)


def purchases_over(horizon_years: float, service_life_years: float) -> int:
    """How many times a battery is bought over the horizon (replaced at end of life)."""
    return max(1, math.ceil(horizon_years / service_life_years - 1e-9))
