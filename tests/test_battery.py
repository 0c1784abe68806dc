"""The battery model: the IEEE 485 worked example, properties, required runtime."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.power.battery import (
    CHEMISTRIES,
    BatteryDesign,
    RequiredRuntime,
    ieee485_required_ah,
    lognormal_quantile,
    required_runtime,
    temperature_factor,
)


def test_ieee485_worked_example() -> None:
    """10 kVA at pf 0.8, eta 0.85, 108 cells to 1.75 V, 0.5 h, K 1.0 / 1.25 / 1.1."""
    ah = ieee485_required_ah(
        load_w=10_000 * 0.8,
        inverter_efficiency=0.85,
        cells=108,
        end_cell_v=1.75,
        runtime_h=0.5,
        temperature_factor=1.0,
        aging_factor=1.25,
        design_margin=1.1,
    )
    assert f"{ah:.2f}" == "34.24"
    assert ah == pytest.approx(8000 / (0.85 * 189) * 0.5 * 1.25 * 1.1)


def test_temperature_factor_interpolates_ieee485_table() -> None:
    assert temperature_factor(25.0) == 1.0
    assert temperature_factor(35.0) == 1.0  # no credit for warmth
    assert temperature_factor(10.0) == pytest.approx(1.19)
    assert temperature_factor(22.0) == pytest.approx(1.04 - (22.0 - 21.1) / 2.8 * 0.035)
    with pytest.raises(ValueError, match="below IEEE 485"):
        temperature_factor(-10.0)


def test_runtime_inverts_the_required_energy() -> None:
    design = BatteryDesign(CHEMISTRIES["vrla"], 0.9, 1.1, 1.1)
    need = design.required_nameplate_wh(5000.0, 0.25)
    eol = design.chemistry.end_of_life_capacity
    assert design.runtime_h(need, 5000.0, eol) == pytest.approx(0.25)


designs = st.builds(
    BatteryDesign,
    st.sampled_from(list(CHEMISTRIES.values())),
    st.floats(0.8, 0.99),
    st.floats(1.0, 1.5),
    st.floats(1.0, 1.3),
)
loads = st.floats(100.0, 1e6)
energies = st.floats(100.0, 1e7)


@given(designs, energies, loads, loads)
def test_runtime_falls_as_load_rises(design: BatteryDesign, wh: float, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert design.runtime_h(wh, high, 1.0) <= design.runtime_h(wh, low, 1.0)


@given(designs, energies, st.floats(0.0, 1e6), loads)
def test_more_modules_never_shorten_runtime(
    design: BatteryDesign, wh: float, extra: float, load: float
) -> None:
    assert design.runtime_h(wh + extra, load, 1.0) >= design.runtime_h(wh, load, 1.0)


@given(designs, energies, loads, st.floats(0.5, 1.0))
def test_aged_battery_never_outlasts_a_new_one(
    design: BatteryDesign, wh: float, load: float, capacity: float
) -> None:
    assert design.runtime_h(wh, load, capacity) <= design.runtime_h(wh, load, 1.0)


def decide(p_fts: float, p50: float, p95: float, risk: float = 1e-4) -> RequiredRuntime:
    """Required runtime with a 10 s start, 5 s transfer, 60 s stabilisation, 6 min shutdown."""
    return required_runtime(
        generator_start_s=10,
        generator_transfer_s=5,
        generator_stabilise_s=60,
        generator_fail_to_start=p_fts,
        failover_p50_min=p50,
        failover_p95_min=p95,
        shutdown_min=6,
        accepted_risk=risk,
    )


def runtime_for(p_fts: float, p50: float, p95: float, risk: float = 1e-4) -> float:
    return decide(p_fts, p50, p95, risk).minutes


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.5, 30.0), st.floats(1.0, 4.0))
def test_required_runtime_never_falls_as_generator_gets_worse(
    a: float, b: float, p50: float, spread: float
) -> None:
    low, high = sorted((a, b))
    assert runtime_for(high, p50, p50 * spread) >= runtime_for(low, p50, p50 * spread) - 1e-9


@given(st.floats(0.001, 1.0), st.floats(0.5, 30.0), st.floats(0.0, 20.0), st.floats(1.0, 4.0))
def test_required_runtime_never_falls_as_failover_gets_slower(
    p_fts: float, p50: float, extra: float, spread: float
) -> None:
    slow = runtime_for(p_fts, p50 + extra, (p50 + extra) * spread)
    assert slow >= runtime_for(p_fts, p50, p50 * spread) - 1e-9
    assert runtime_for(p_fts, p50, p50 * (spread + 1)) >= runtime_for(p_fts, p50, p50 * spread)


def test_required_runtime_names_what_decides() -> None:
    decided = decide(0.0094, 4, 10)
    q = 1 - 1e-4 / 0.0094
    assert decided.deciding == "failover"
    assert decided.failover_quantile == pytest.approx(q)
    assert decided.minutes == pytest.approx(0.25 + lognormal_quantile(4, 10, q) + 6)
    bridge = decide(0.0094, 4, 10, risk=0.01)
    assert bridge.deciding == "generator bridge"
    assert bridge.minutes == pytest.approx(1.25)


def test_lognormal_quantile_hits_its_anchors() -> None:
    assert lognormal_quantile(4, 10, 0.5) == pytest.approx(4)
    assert lognormal_quantile(4, 10, 0.95) == pytest.approx(10)
    assert math.isclose(lognormal_quantile(5, 5, 0.999), 5)
