"""Total cost of ownership over the horizon, computed from a fleet (not from the solver).

    capex       = sum_k n_k price_k + sum_j d_j price_j + sum_u f_u price_u
                  + sum_m b_m price_m x purchases_m   (batteries replaced at end of life)
                  + sum_o price_o                     (cooling options put on the UPS)
    maintenance = capex x m x Y
    energy      = P_mean x PUE x price_kWh x 8760 Y / 1000
    TCO         = capex + maintenance + energy

with P_mean the site's IT power [W] at its mean busy cores over the horizon, m the
yearly maintenance rate and Y the horizon in years. Undiscounted.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.inputs.catalog import Catalog
from planner.inputs.spec import Spec
from planner.inputs.units import HOURS_PER_YEAR
from planner.power.ups import purchases_over
from planner.sizing.fleet import SiteFleet
from planner.sizing.server_power import site_power_w


@dataclass(frozen=True)
class SiteCosts:
    servers: float
    drives: float
    batteries: float
    ups: float
    maintenance: float
    energy: float
    mean_power_w: float

    @property
    def capex(self) -> float:
        """Purchases over the horizon, battery replacements included."""
        return self.servers + self.drives + self.batteries + self.ups

    @property
    def tco(self) -> float:
        return self.capex + self.maintenance + self.energy


def site_costs(fleet: SiteFleet, catalog: Catalog, spec: Spec, mean_busy_cores: float) -> SiteCosts:
    servers = sum(n * catalog.server(sku).price for sku, n in fleet.servers.items())
    drives = sum(n * catalog.drive(sku).price for sku, n in fleet.drives.items())
    batteries = sum(
        n
        * catalog.battery(sku).price
        * purchases_over(spec.horizon_years, catalog.battery(sku).service_life_years)
        for sku, n in fleet.batteries.items()
    )
    ups = sum(n * catalog.ups_frame(sku).price for sku, n in fleet.ups.items())
    if spec.power is not None:
        ups += sum(o.price for o in spec.power.cooling_options if o.name in fleet.cooling)
    power_w = site_power_w(fleet, catalog, mean_busy_cores)
    hours = HOURS_PER_YEAR * spec.horizon_years
    bought = servers + drives + batteries + ups
    return SiteCosts(
        servers=servers,
        drives=drives,
        batteries=batteries,
        ups=ups,
        maintenance=bought * spec.maintenance_rate_per_year * spec.horizon_years,
        energy=power_w * spec.pue * spec.energy_price_per_kwh * hours / 1000.0,
        mean_power_w=power_w,
    )
