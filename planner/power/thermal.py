"""Thermal ride-through: how long the IT room stays under its inlet limit on battery.

Cooling is normally not on the UPS: when the grid fails the chillers and air handlers
stop while the IT load, on battery, keeps heating the room. A lumped model of the room:

    C dT/dt = P_heat - Q_removed,   C = rho_air c_p V + M     [J/K]

with the air (rho 1.2 kg/m3, c_p 1,005 J/(kg K)), an effective mass M of what warms
with it in the first minutes (racks, equipment, raised floor: an assumption the spec
states), P_heat the power on the UPS (all of it ends as heat in the room) and Q_removed
the cooling still running on the UPS. Minutes from the start temperature to the limit:

    t = C (T_limit - T_start) / (P_heat - Q_removed) / 60

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

from planner.inputs.spec import CoolingOption, Room

AIR_DENSITY_KG_M3 = 1.2
AIR_CP_J_KG_K = 1005.0


def heat_capacity_j_per_k(room: Room) -> float:
    """C = rho c_p V + M [J/K]."""
    return AIR_DENSITY_KG_M3 * AIR_CP_J_KG_K * room.air_volume_m3 + room.thermal_mass_kj_per_k * 1e3


def minutes_to_limit(
    room: Room, heat_w: float, options: tuple[CoolingOption, ...] | list[CoolingOption] = ()
) -> float:
    """Minutes until the inlet reaches the limit (inf when cooling keeps up for good).

    The largest t with  P_heat t - Q_base t - sum_o min(Q_o t, E_o) <= C (T_limit - T_start),
    E_o an option's store (unlimited when 0): a cooler removes at most its rate and at most
    what its store holds, and never more heat than there is (then its store simply lasts
    longer, which the same inequality gives).
    """
    budget = heat_capacity_j_per_k(room) * (room.limit_c - room.start_c)
    base = room.cooling_on_ups_removes_w
    stores = [(o.removes_w, o.stored_kwh * 3.6e6) for o in options]
    breaks = sorted({e / r for r, e in stores if r > 0 and e > 0})
    start = 0.0
    for end in [*breaks, math.inf]:
        rate = heat_w - base - sum(r for r, e in stores if e <= 0 or start * r < e)
        spent = sum(e for r, e in stores if e > 0 and start * r >= e)
        # on [start, end): f(t) = rate t - spent - budget, linear in t (seconds)
        if rate > 0:
            t = (budget + spent) / rate
            if t <= end + 1e-9 and t >= start - 1e-9:
                return t / 60.0
        start = end
    return math.inf


def average_removal_w(option: CoolingOption, minutes: float) -> float:
    """What an option removes on average over ``minutes`` (its store may run out first)."""
    if option.stored_kwh <= 0 or minutes <= 0:
        return option.removes_w
    return min(option.removes_w, option.stored_kwh * 3.6e6 / (60.0 * minutes))


def heat_budget_w(room: Room, minutes: float) -> float:
    """The net heat [W] the room absorbs for ``minutes`` before reaching its limit."""
    return heat_capacity_j_per_k(room) * (room.limit_c - room.start_c) / (60.0 * minutes)
