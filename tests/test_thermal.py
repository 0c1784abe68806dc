"""The room's thermal ride-through: a lumped heat-up model, solved by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.inputs.spec import CoolingOption, Room
from planner.power.thermal import heat_capacity_j_per_k, minutes_to_limit

#: 100 m3 of air (1.2 kg/m3 x 1,005 J/(kg K) = 120.6 kJ/K) and 879.4 kJ/K of equipment:
#: 1,000 kJ/K in all; 10 K from 22 to 32 C (ASHRAE A1's allowable limit): 10 MJ to absorb.
ROOM = Room(air_volume_m3=100.0, thermal_mass_kj_per_k=879.4, start_c=22.0, limit_c=32.0)


def test_heat_capacity_is_air_plus_mass() -> None:
    assert heat_capacity_j_per_k(ROOM) == pytest.approx(1_000_000.0)


def test_no_cooling_10_kw_reaches_the_limit_in_1000_s() -> None:
    assert minutes_to_limit(ROOM, 10_000.0) == pytest.approx(1000 / 60)


def test_a_buffer_that_runs_out() -> None:
    """5 kW removed from a 0.5 kWh (1.8 MJ) store: the store lasts 360 s, in which the room
    absorbs 5 kW x 360 s = 1.8 MJ; the remaining 8.2 MJ take 820 s at 10 kW: 1,180 s."""
    buffer = CoolingOption("buffer", 0.0, 5_000.0, 0.5, 0.0, "test")
    assert minutes_to_limit(ROOM, 10_000.0, [buffer]) == pytest.approx(1180 / 60)


def test_cooling_that_outruns_the_heat_makes_its_store_last_longer() -> None:
    """20 kW of removal against 10 kW of heat: the room stays at its start while the 0.5
    kWh store absorbs the 10 kW (180 s), then heats for 1,000 s: 1,180 s."""
    big = CoolingOption("big", 0.0, 20_000.0, 0.5, 0.0, "test")
    assert minutes_to_limit(ROOM, 10_000.0, [big]) == pytest.approx(1180 / 60)
    unlimited = CoolingOption("fans on chillers", 0.0, 20_000.0, 0.0, 0.0, "test")
    assert math.isinf(minutes_to_limit(ROOM, 10_000.0, [unlimited]))


def test_cooling_already_on_the_ups_counts() -> None:
    room = Room(100.0, 879.4, 22.0, 32.0, cooling_on_ups_removes_w=5_000.0)
    assert minutes_to_limit(room, 10_000.0) == pytest.approx(2000 / 60)


@settings(max_examples=60, deadline=None)
@given(
    heat_kw=st.floats(1.0, 60.0),
    removes_kw=st.floats(0.0, 40.0),
    stored_kwh=st.floats(0.0, 30.0),
    pieces=st.integers(1, 200),
)
def test_advancing_the_room_minute_by_minute_agrees_with_the_steady_answer(
    heat_kw: float, removes_kw: float, stored_kwh: float, pieces: int
) -> None:
    """The replay steps the room a minute at a time; the plan asks for the steady answer.
    One model: stepping a steady heat in pieces reaches the limit when the steady answer
    says, and a buffer that could remove more than the heat lasts heat-limited."""
    from planner.power.thermal import advance_room, room_at_start

    option = CoolingOption("buffer", 0.0, removes_kw * 1000, stored_kwh, 0.0, "test")
    steady = minutes_to_limit(ROOM, heat_kw * 1000, [option])
    state = room_at_start([option])
    elapsed_s, reached_at = 0.0, None
    piece_s = 60.0 * (steady if math.isfinite(steady) else 100.0) / pieces * 1.5
    for _ in range(pieces + 2):
        state, reached = advance_room(ROOM, [option], state, heat_kw * 1000, piece_s)
        if reached is not None:
            reached_at = elapsed_s + reached
            break
        elapsed_s += piece_s
    if math.isinf(steady):
        assert reached_at is None
    else:
        assert reached_at is not None
        assert reached_at / 60.0 == pytest.approx(steady, rel=1e-9)
    if 0 < heat_kw < removes_kw and stored_kwh > 0:
        # the store removes the whole heat until it is spent: (C dT + E) / P
        assert steady == pytest.approx((1e7 + stored_kwh * 3.6e6) / (heat_kw * 1000) / 60)
