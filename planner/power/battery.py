"""UPS battery model: pure functions with the maths and units in each docstring.

Sizing follows the IEEE 485 / IEEE 1184 chain for a constant-power UPS load:

    Ah = P_load / (eta_inv x V_end x cells) x t x K_temp x K_aging x K_margin

with P_load [W], eta_inv the inverter efficiency, V_end the end-of-discharge voltage per
cell [V], t the runtime [h], K_temp from IEEE 485 Table 1, K_aging = 1 / end-of-life
capacity (1.25 when the battery is replaced at 80 %) and K_margin the design margin.

Runtime at a constant load uses a Peukert-style law on energy: a battery whose usable
energy E [Wh] is rated over H hours delivers, at battery-side power P_b [W],

    t = H x (E / (H x P_b))^k            [h]

k ~ 1.35 for VRLA, ~ 1.05 for LiFePO4 (secondary sources). Inverting it gives the usable
energy a runtime needs, E = P_b x H^(1 - 1/k) x t^(1/k), which is linear in P_b: the
optimiser uses exactly that, with the same factors as the IEEE chain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from planner.inputs.chemistry import CHEMISTRY_NAMES, IEEE485_TEMPERATURE_TABLE


@dataclass(frozen=True)
class Chemistry:
    """Discharge behaviour of a battery chemistry.

    ``peukert_k`` and ``rated_hours`` define the runtime law; ``usable_dod`` is the share
    of nameplate energy a UPS may draw; ``end_of_life_capacity`` is the capacity at which
    the battery is replaced (aging factor = 1 / it).
    """

    name: str
    peukert_k: float
    rated_hours: float
    usable_dod: float
    end_of_life_capacity: float
    nominal_cell_v: float
    end_cell_v: float


CHEMISTRIES: dict[str, Chemistry] = {
    # VRLA: k ~ 1.35, capacity rated at the 20-hour rate; DoD 0.5-0.8 (secondary);
    # 2.0 V/cell nominal, 1.75 V/cell end of discharge for UPS duty (UFC 3-520-01).
    "vrla": Chemistry("vrla", 1.35, 20.0, 0.8, 0.8, 2.0, 1.75),
    # LiFePO4: k ~ 1.05, rated at 1 hour; usable DoD 0.8-0.9 (secondary); 3.2 V/cell
    # nominal, 2.5 V/cell end of discharge.
    "lfp": Chemistry("lfp", 1.05, 1.0, 0.9, 0.8, 3.2, 2.5),
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


def equivalent_rated_hours(runtime_h: float, chemistry: Chemistry) -> float:
    """Hours of rated energy a runtime consumes: H^(1 - 1/k) x t^(1/k) [h]."""
    k, rated = chemistry.peukert_k, chemistry.rated_hours
    return float(rated ** (1.0 - 1.0 / k) * runtime_h ** (1.0 / k))


@dataclass(frozen=True)
class BatteryDesign:
    """Factors that turn nameplate kWh into usable energy at the end of life."""

    chemistry: Chemistry
    inverter_efficiency: float
    temperature_factor: float
    design_margin: float

    @property
    def aging_factor(self) -> float:
        return 1.0 / self.chemistry.end_of_life_capacity

    def required_nameplate_wh(self, load_w: float, runtime_h: float) -> float:
        """Nameplate energy [Wh] for ``runtime_h`` at IT load ``load_w``, at end of life.

        E = P / eta x H^(1-1/k) t^(1/k) x K_temp x K_aging x K_margin / DoD
        """
        return (
            load_w
            / self.inverter_efficiency
            * equivalent_rated_hours(runtime_h, self.chemistry)
            * self.temperature_factor
            * self.aging_factor
            * self.design_margin
            / self.chemistry.usable_dod
        )

    def usable_wh(self, nameplate_wh: float, capacity_fraction: float) -> float:
        """Usable energy [Wh] with the given remaining capacity (1 new, EOL at end of life).

        E_u = nameplate x DoD x capacity / (K_temp x K_margin)
        """
        return (
            nameplate_wh
            * self.chemistry.usable_dod
            * capacity_fraction
            / (self.temperature_factor * self.design_margin)
        )

    def runtime_h(self, nameplate_wh: float, load_w: float, capacity_fraction: float) -> float:
        """Runtime [h] at constant IT load: t = H (E_u / (H P_b))^k with P_b = P / eta."""
        if load_w <= 0:
            return math.inf
        chem = self.chemistry
        battery_w = load_w / self.inverter_efficiency
        usable = self.usable_wh(nameplate_wh, capacity_fraction)
        return float(chem.rated_hours * (usable / (chem.rated_hours * battery_w)) ** chem.peukert_k)


def lognormal_from_p50_p95(p50: float, p95: float) -> tuple[float, float]:
    """(mu, sigma) of a lognormal with the given median and 95th percentile."""
    z95 = 1.6448536269514722
    return math.log(p50), (math.log(p95) - math.log(p50)) / z95


def lognormal_quantile(p50: float, p95: float, q: float) -> float:
    """Quantile q of the lognormal fixed by its p50 and p95 (p95 = p50 gives a point mass)."""
    mu, sigma = lognormal_from_p50_p95(p50, p95)
    return float(math.exp(mu + sigma * NormalDist().inv_cdf(q)))


@dataclass(frozen=True)
class RequiredRuntime:
    """The runtime a site's UPS must give, and why."""

    minutes: float
    bridge_minutes: float
    failover_minutes: float
    failover_quantile: float
    deciding: str
    reason: str


def required_runtime(
    *,
    generator_start_s: float,
    generator_transfer_s: float,
    generator_stabilise_s: float,
    generator_fail_to_start: float,
    failover_p50_min: float,
    failover_p95_min: float,
    shutdown_min: float,
    accepted_risk: float,
) -> RequiredRuntime:
    """The longer of the generator bridge and the failover path.

    Bridge: start + transfer + stabilisation. Failover path (generator failed): the
    battery must hold while the failure is noticed (d = start + transfer time), the
    site's load moves (T ~ lognormal(p50, p95)) and the site shuts down cleanly (s).
    Per grid failure, P(outage) = p_fts x P(d + T + s > t); keeping it <= the accepted
    risk needs t >= d + s + the quantile q = 1 - risk / p_fts of T. With risk >= p_fts
    no failover time needs covering beyond the bridge.
    """
    bridge = (generator_start_s + generator_transfer_s + generator_stabilise_s) / 60.0
    detection = (generator_start_s + generator_transfer_s) / 60.0
    if generator_fail_to_start <= accepted_risk:
        q = 0.0
        failover = 0.0
    else:
        q = 1.0 - accepted_risk / generator_fail_to_start
        move = lognormal_quantile(failover_p50_min, failover_p95_min, q)
        failover = detection + move + shutdown_min
    if failover > bridge:
        return RequiredRuntime(
            minutes=failover,
            bridge_minutes=bridge,
            failover_minutes=failover,
            failover_quantile=q,
            deciding="failover",
            reason=(
                f"generator fails to start with p={generator_fail_to_start:g}; to keep a "
                f"clinical outage per grid failure below {accepted_risk:g} the battery covers "
                f"{60 * detection:g} s to notice, the failover time's {100 * q:.3f}th "
                f"percentile ({move:.1f} min) and {shutdown_min:g} min of clean shutdown = "
                f"{failover:.1f} min, longer than the {bridge:.1f} min generator bridge"
            ),
        )
    return RequiredRuntime(
        minutes=bridge,
        bridge_minutes=bridge,
        failover_minutes=failover,
        failover_quantile=q,
        deciding="generator bridge",
        reason=(
            f"generator start + transfer + stabilisation = {bridge:.1f} min is longer than the "
            f"failover path ({failover:.1f} min at the accepted risk {accepted_risk:g})"
        ),
    )
