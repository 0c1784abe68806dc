"""Thermal ride-through: how long the IT room stays under its inlet limit on battery.

Cooling is normally not on the UPS: when the grid fails the chillers and air handlers
stop while the IT load, on battery, keeps heating the room. A lumped model of the room:

    C dT/dt = P_heat - Q_removed,   C = rho_air c_p V + M     [J/K]

with the air (rho 1.2 kg/m3, c_p 1,005 J/(kg K)), an effective mass M of what warms
with it in the first minutes (racks, equipment, raised floor: an assumption the spec
states), P_heat the power on the UPS (all of it ends as heat in the room) and Q_removed
the cooling still running on the UPS. Minutes from the start temperature to the limit:

    t = C (T_limit - T_start) / (P_heat - Q_removed) / 60

One function, :func:`advance_room`, is the room model for every figure: the plan's
minutes to the limit at the design load, the verifier's check and the incident replay
minute by minute.

ASHRAE's thermal guidelines give the limits: recommended inlet 18-27 C, allowable up to
32 C (class A1), 35 C (A2), 40 C (A3), 45 C (A4). The effective ride-through is the
shorter of the battery and this. A cooling option on the UPS removes its ``removes_w``
while its store lasts (stored_kwh / removes_w), so over a ride-through of R minutes it
removes on average min(removes_w, stored_kwh x 3.6e6 / (60 R)) [W] and adds its own
``ups_watts`` to the UPS load and the heat.

The sizing keeps t >= R linear: P_heat - Q_removed <= C (T_limit - T_start) / (60 R).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from planner.inputs.spec import CoolingOption, Room

AIR_DENSITY_KG_M3 = 1.2
AIR_CP_J_KG_K = 1005.0


def heat_capacity_j_per_k(room: Room) -> float:
    """C = rho c_p V + M [J/K]."""
    return AIR_DENSITY_KG_M3 * AIR_CP_J_KG_K * room.air_volume_m3 + room.thermal_mass_kj_per_k * 1e3


@dataclass(frozen=True)
class RoomState:
    """The room at a moment of a grid outage: heat absorbed above the start temperature
    [J] and what each cooling option's store still holds [J] (inf: no store limit)."""

    heat_j: float
    stores_j: tuple[float, ...]


def room_at_start(options: Sequence[CoolingOption]) -> RoomState:
    """The room at the start temperature with every store full."""
    return RoomState(
        0.0, tuple(o.stored_kwh * 3.6e6 if o.stored_kwh > 0 else math.inf for o in options)
    )


def advance_room(
    room: Room,
    options: Sequence[CoolingOption],
    state: RoomState,
    heat_w: float,
    seconds: float,
) -> tuple[RoomState, float | None]:
    """The one room model, used by the sizing's checks, the plan and the incident replay:
    ``heat_w`` for ``seconds`` from ``state``; the new state, and the seconds after which
    the inlet reached its limit (None: it did not).

    The cooling on the UPS without a store removes up to ``cooling_on_ups_removes_w``;
    the stores take what is left of the heat, each in proportion to its rate, never more
    than there is (a chilled-water buffer throttles at the setpoint and its store lasts
    longer) and never more than it holds. What no cooler removes heats the room:
    C dT/dt = P_heat - Q_removed. Exact for piecewise-constant heat (each store's
    running out is a break in a piecewise-linear path).
    """
    budget = heat_capacity_j_per_k(room) * (room.limit_c - room.start_c)
    heat, stores = state.heat_j, list(state.stores_j)
    rates = [o.removes_w for o in options]
    demand = heat_w - room.cooling_on_ups_removes_w
    elapsed = 0.0
    while elapsed < seconds:
        active = [i for i, e in enumerate(stores) if e > 0 and rates[i] > 0]
        capacity = sum(rates[i] for i in active)
        share = min(1.0, max(demand, 0.0) / capacity) if capacity > 0 else 0.0
        net = demand - capacity * share  # >0 heats; <0 cools back toward the start
        # the next break: a store runs out, or the segment ends
        step = seconds - elapsed
        for i in active:
            if share > 0 and math.isfinite(stores[i]):
                step = min(step, stores[i] / (rates[i] * share))
        if net > 0 and heat + net * step >= budget:
            reached = (budget - heat) / net
            return RoomState(budget, tuple(stores)), elapsed + reached
        if math.isinf(step):  # nothing changes from here on
            return RoomState(max(0.0, heat), tuple(stores)), None
        heat = max(0.0, heat + net * step)
        for i in active:
            left = stores[i] - rates[i] * share * step
            stores[i] = left if left > 1e-6 else 0.0  # a store that ran out is empty
        elapsed += step
    return RoomState(heat, tuple(stores)), None


def minutes_to_limit(room: Room, heat_w: float, options: Sequence[CoolingOption] = ()) -> float:
    """Minutes until the inlet reaches the limit at a steady ``heat_w`` (inf when the
    cooling keeps up for good): :func:`advance_room` from the start, without an end.

    For one store (rate r, energy E) and P_net = P_heat - Q_base: t = C dT / P_net when
    there is no store, and (C dT + E) / P_net when the store runs out first.
    """
    _, reached = advance_room(room, options, room_at_start(options), heat_w, math.inf)
    return math.inf if reached is None else reached / 60.0


def average_removal_w(option: CoolingOption, minutes: float) -> float:
    """What an option removes on average over ``minutes`` (its store may run out first)."""
    if option.stored_kwh <= 0 or minutes <= 0:
        return option.removes_w
    return min(option.removes_w, option.stored_kwh * 3.6e6 / (60.0 * minutes))


def heat_budget_w(room: Room, minutes: float) -> float:
    """The net heat [W] the room absorbs for ``minutes`` before reaching its limit."""
    return heat_capacity_j_per_k(room) * (room.limit_c - room.start_c) / (60.0 * minutes)
