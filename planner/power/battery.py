"""UPS battery: runtime from data sheets, strings as they are built, IEEE 485 factors.

**Runtime.** A UPS draws constant power, and vendors publish what a battery does under
it as a table: minutes to the end voltage at a load given as a fraction of the module's
rated power, new, at 25 C. :class:`RuntimeCurve` interpolates such a table log-log
(straight lines between points on log load, log minutes; the end segments extended).
Without a table the law t = t_rated x (1 / x)^k stands in, with t_rated the minutes at
the rated power and k the chemistry's exponent or one fitted to a table
(:func:`fitted_exponent`); it is the fallback, not the default. Either way no runtime
exceeds what the module's usable energy gives at that power: t <= 60 E_usable / (x P_rated)
(a law with k > 1 would otherwise claim more energy at light load than the cells hold).

**Strings.** A string is modules in series up to the UPS frame's battery DC bus: s =
ceil(V_bus,min / V_module) modules, allowed only if s x V_module <= V_bus,max. Strings
sit in parallel and share the load equally; a string is lost whole (a module or fuse
fault opens it).

**Derating (IEEE 485 / IEEE 1184).** The sizing asks what a string carries at end of
life, at the room's temperature, with the design margin: the load is multiplied by
K = K_temp x K_aging x K_margin (K_aging = 1 / end-of-life capacity), the IEEE 485
chain's factors applied to the load of a constant-power discharge. So one string of s
modules carries, for T minutes,

    P_string(T) = s x P_rated x x*(T) x eta / K                [W at the UPS output]

with x*(T) the load fraction at which the curve gives T minutes (capped at 1: the rated
discharge power) and eta the frame's efficiency. A replay of what a real battery does
uses K_temp / capacity instead (no design margin; capacity 1 new, the end-of-life
capacity old). :func:`ieee485_required_ah` is the worksheet itself; with a linear curve
(k = 1) the string power above gives the same ampere-hours (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from planner.inputs.catalog import BatterySku, UpsFrameSku
from planner.inputs.chemistry import CHEMISTRY_NAMES, IEEE485_TEMPERATURE_TABLE


@dataclass(frozen=True)
class Chemistry:
    """A chemistry's default runtime exponent and when it is replaced.

    ``peukert_k``: the runtime law's exponent where a module has no table (VRLA ~1.35 and
    LiFePO4 ~1.05 per calculator sites, secondary; fitted to a published VRLA table it is
    about 1.1); ``end_of_life_capacity``: the capacity at which the battery is replaced
    (aging factor = 1 / it; 0.8 per UFC 3-520-01, Appendix E); cell voltages for the
    IEEE 485 worksheet (1.75 V/cell end of discharge for lead-acid UPS duty).
    """

    name: str
    peukert_k: float
    end_of_life_capacity: float
    nominal_cell_v: float
    end_cell_v: float


CHEMISTRIES: dict[str, Chemistry] = {
    "vrla": Chemistry("vrla", 1.35, 0.8, 2.0, 1.75),
    "lfp": Chemistry("lfp", 1.05, 0.8, 3.2, 2.5),
}
assert tuple(sorted(CHEMISTRIES)) == CHEMISTRY_NAMES


def temperature_factor(temperature_c: float) -> float:
    """IEEE 485 Table 1, interpolated; 1.0 at or above 25 C (no credit taken for warmth)."""
    temps = [t for t, _ in IEEE485_TEMPERATURE_TABLE]
    if temperature_c < temps[0]:
        raise ValueError(f"temperature {temperature_c} C is below IEEE 485 Table 1 ({temps[0]} C)")
    if temperature_c >= 25.0:
        return 1.0
    factors = [f for _, f in IEEE485_TEMPERATURE_TABLE]
    return float(np.interp(temperature_c, temps, factors))


def ieee485_required_ah(
    load_w: float,
    inverter_efficiency: float,
    cells: int,
    end_cell_v: float,
    runtime_h: float,
    temperature_factor: float = 1.0,
    aging_factor: float = 1.25,
    design_margin: float = 1.1,
) -> float:
    """Ampere-hours per string for a constant-power UPS load (IEEE 485 worksheet).

    Ah = P / (eta x V_end x cells) x t x K_temp x K_aging x K_margin.
    10 kVA at pf 0.8 (8 kW), eta 0.85, 108 cells to 1.75 V, 0.5 h -> 34.24 Ah.
    """
    amps = load_w / (inverter_efficiency * end_cell_v * cells)
    return amps * runtime_h * temperature_factor * aging_factor * design_margin


@dataclass(frozen=True)
class RuntimeCurve:
    """Minutes a new module runs at 25 C against its load as a fraction of rated power."""

    table: tuple[tuple[float, float], ...] = ()
    rated_minutes: float = 0.0
    exponent: float = 1.0
    #: minutes the module's usable energy lasts at its rated power (kWh x usable / kW x
    #: 60): at fraction x no runtime exceeds energy_minutes / x, whatever the law says
    energy_minutes: float = math.inf

    def minutes(self, fraction: float) -> float:
        """Runtime [min] at load ``fraction`` of the rated power (> 1 is over the rating: 0),
        never more than the usable energy lasts at that power."""
        if fraction <= 0:
            return math.inf
        if fraction > 1.0 + 1e-12:
            return 0.0
        return min(self._law_minutes(fraction), self.energy_minutes / fraction)

    def _law_minutes(self, fraction: float) -> float:
        if not self.table:
            return float(self.rated_minutes * fraction ** (-self.exponent))
        x = np.log([f for f, _ in self.table])
        y = np.log([m for _, m in self.table])
        lx = math.log(fraction)
        i = int(np.clip(np.searchsorted(x, lx) - 1, 0, len(x) - 2))
        slope = float((y[i + 1] - y[i]) / (x[i + 1] - x[i]))
        return math.exp(float(y[i]) + slope * (lx - float(x[i])))

    def fraction_for(self, minutes: float) -> float:
        """The largest load fraction (at most 1, the rated power) that still runs ``minutes``."""
        if self.minutes(1.0) >= minutes:
            return 1.0
        low, high = 1e-9, 1.0  # minutes() falls as the fraction rises
        for _ in range(200):
            mid = math.sqrt(low * high)
            if self.minutes(mid) >= minutes:
                low = mid
            else:
                high = mid
        return low


def fitted_exponent(table: tuple[tuple[float, float], ...]) -> float:
    """k of the law t = a x^(-k) fitted to a runtime table by least squares in log-log."""
    x = np.log([f for f, _ in table])
    y = np.log([m for _, m in table])
    slope = float(np.polyfit(x, y, 1)[0])
    return -slope


def curve_of(battery: BatterySku) -> RuntimeCurve:
    """The module's runtime curve: its table, else the law with its own or its chemistry's
    k; either capped by the module's usable energy."""
    energy = 60.0 * battery.kwh * battery.usable_fraction / battery.max_kw
    if battery.runtime_table:
        return RuntimeCurve(table=battery.runtime_table, energy_minutes=energy)
    k = battery.runtime_exponent or CHEMISTRIES[battery.chemistry].peukert_k
    return RuntimeCurve(rated_minutes=battery.rated_minutes, exponent=k, energy_minutes=energy)


def modules_per_string(battery: BatterySku, frame: UpsFrameSku) -> int | None:
    """Modules in series for the frame's DC bus: ceil(V_min / V_module), None if that
    overshoots V_max (the module does not fit this frame's bus)."""
    s = max(1, math.ceil(frame.dc_min_v / battery.module_v - 1e-9))
    return s if s * battery.module_v <= frame.dc_max_v + 1e-9 else None


@dataclass(frozen=True)
class Derating:
    """IEEE 485 factors on the load: temperature (Table 1), aging (1 / end-of-life
    capacity) and the design margin."""

    temperature: float
    aging: float
    margin: float

    @property
    def factor(self) -> float:
        return self.temperature * self.aging * self.margin


@dataclass(frozen=True)
class BatteryStrings:
    """Parallel strings of one module model behind one UPS frame model."""

    battery: BatterySku
    frame: UpsFrameSku
    modules_per_string: int
    strings: int

    @property
    def modules(self) -> int:
        return self.modules_per_string * self.strings

    @property
    def string_v(self) -> float:
        return self.modules_per_string * self.battery.module_v

    def string_design_w(self, minutes: float, derating: Derating) -> float:
        """Output power [W] one string carries for ``minutes`` at end of life (sizing view)."""
        fraction = curve_of(self.battery).fraction_for(minutes)
        return (
            self.modules_per_string
            * self.battery.max_kw
            * 1000.0
            * fraction
            * self.frame.efficiency
            / derating.factor
        )

    def runtime_min(self, load_w: float, load_factor: float, strings: int | None = None) -> float:
        """Minutes ``strings`` strings (default: all) carry output ``load_w``, with the load
        multiplied by ``load_factor`` (the derating: K for sizing, K_temp / capacity for a
        replay)."""
        n = self.strings if strings is None else strings
        if load_w <= 0:
            return math.inf
        if n <= 0:
            return 0.0
        per_module_w = load_w * load_factor / (self.frame.efficiency * n * self.modules_per_string)
        return curve_of(self.battery).minutes(per_module_w / (self.battery.max_kw * 1000.0))


def lognormal_from_p50_p95(p50: float, p95: float) -> tuple[float, float]:
    """(mu, sigma) of a lognormal with the given median and 95th percentile."""
    z95 = 1.6448536269514722
    return math.log(p50), (math.log(p95) - math.log(p50)) / z95


def lognormal_quantile(p50: float, p95: float, q: float) -> float:
    """Quantile q of the lognormal fixed by its p50 and p95 (p95 = p50 gives a point mass)."""
    mu, sigma = lognormal_from_p50_p95(p50, p95)
    return float(math.exp(mu + sigma * NormalDist().inv_cdf(q)))
