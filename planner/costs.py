"""Total cost of ownership over the horizon, computed from a fleet (not from the solver).

    capex       = sum_k n_k price_k + sum_j d_j price_j
    maintenance = capex x m x Y
    energy      = P_mean x PUE x price_kWh x 8760 Y / 1000
    TCO         = capex + maintenance + energy

with P_mean the site's IT power [W] at its mean busy cores over the horizon, m the
yearly maintenance rate and Y the horizon in years. Undiscounted.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.catalog import Catalog
from planner.fleet import SiteFleet
from planner.power import site_power_w
from planner.spec import Spec
from planner.units import HOURS_PER_YEAR


@dataclass(frozen=True)
class SiteCosts:
    servers: float
    drives: float
    maintenance: float
    energy: float
    mean_power_w: float

    @property
    def capex(self) -> float:
        return self.servers + self.drives

    @property
    def tco(self) -> float:
        return self.capex + self.maintenance + self.energy


def site_costs(fleet: SiteFleet, catalog: Catalog, spec: Spec, mean_busy_cores: float) -> SiteCosts:
    servers = sum(n * catalog.server(sku).price for sku, n in fleet.servers.items())
    drives = sum(n * catalog.drive(sku).price for sku, n in fleet.drives.items())
    power_w = site_power_w(fleet, catalog, mean_busy_cores)
    hours = HOURS_PER_YEAR * spec.horizon_years
    return SiteCosts(
        servers=servers,
        drives=drives,
        maintenance=(servers + drives) * spec.maintenance_rate_per_year * spec.horizon_years,
        energy=power_w * spec.pue * spec.energy_price_per_kwh * hours / 1000.0,
        mean_power_w=power_w,
    )
