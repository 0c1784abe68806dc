"""A sized site's power chain read back from its fleet: UPS load, strings, ride-through.

Pure functions over a :class:`SiteFleet`; the plan, the report, the replay and the
availability simulation all read the power chain through these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.inputs.catalog import Catalog
from planner.inputs.spec import Spec
from planner.power.battery import (
    CHEMISTRIES,
    BatteryStrings,
    modules_per_string,
    temperature_factor,
)
from planner.power.thermal import minutes_to_limit
from planner.sizing.fleet import SiteFleet
from planner.sizing.server_power import site_power_worst_w


@dataclass(frozen=True)
class UpsLoad:
    """What the UPS carries at a given CPU load [W], part by part."""

    it_w: float  # servers (at the worst placement of the load) and drives
    other_w: float  # the spec's other loads on the UPS, and cooling already on it
    cooling_w: float  # cooling options the sizing put on the UPS

    @property
    def total_w(self) -> float:
        return self.it_w + self.other_w + self.cooling_w


def ups_load(fleet: SiteFleet, catalog: Catalog, spec: Spec, busy_cores: float) -> UpsLoad:
    assert spec.power is not None
    other = sum(load.watts for load in spec.power.ups_loads)
    if spec.power.room is not None:
        other += spec.power.room.cooling_on_ups_w
    cooling = sum(o.ups_watts for o in spec.power.cooling_options if o.name in fleet.cooling)
    return UpsLoad(site_power_worst_w(fleet, catalog, busy_cores), other, cooling)


def installed_strings(fleet: SiteFleet, catalog: Catalog) -> BatteryStrings | None:
    """The site's strings: one module model behind one frame model (the sizing's rule)."""
    if not fleet.batteries or not fleet.ups or fleet.strings <= 0:
        return None
    battery = catalog.battery(next(iter(fleet.batteries)))
    frame = catalog.ups_frame(next(iter(fleet.ups)))
    s = modules_per_string(battery, frame)
    if s is None:
        return None
    return BatteryStrings(battery, frame, s, fleet.strings)


def replay_factor(spec: Spec, capacity: float) -> float:
    """Load multiplier of a real battery: K_temp / remaining capacity (no design margin)."""
    assert spec.power is not None
    return temperature_factor(spec.power.temperature_c) / capacity


def end_of_life(spec: Spec) -> float:
    assert spec.power is not None
    return CHEMISTRIES[spec.power.chemistry].end_of_life_capacity


def thermal_minutes(fleet: SiteFleet, spec: Spec, heat_w: float) -> float:
    """Minutes the room stays under its limit with ``heat_w`` on the UPS (inf: no room
    model in the spec), counting the cooling options this site put on the UPS."""
    assert spec.power is not None
    room = spec.power.room
    if room is None:
        return math.inf
    chosen = [o for o in spec.power.cooling_options if o.name in fleet.cooling]
    return minutes_to_limit(room, heat_w, chosen)
