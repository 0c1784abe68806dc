"""Server and drive power: a pure model through SPECpower's idle, 50 % and 100 % points.

A server with C cores at busy-core load b (0 <= b <= C) draws

    P(b) = P_idle + s1 min(b, C/2) + s2 max(0, b - C/2)           [W]
    s1 = (P_50 - P_idle) / (C/2),   s2 = (P_100 - P_50) / (C/2)    [W per busy core]

The catalogue requires s1 <= s2 (convex curve), so a fleet's least power for a given
number of busy cores fills the cheapest segments first; the optimiser's energy
variables and :func:`site_power_w` both use that rule (an efficient scheduler packs load
onto the servers that serve it for the fewest extra watts).
"""

from __future__ import annotations

from planner.inputs.catalog import Catalog, ServerSku
from planner.sizing.fleet import SiteFleet


def segments(server: ServerSku) -> tuple[tuple[float, float], tuple[float, float]]:
    """((cores, W per busy core) for the 0-50 % segment, and for the 50-100 % segment)."""
    half = server.ref_cores / 2.0
    return (
        (half, (server.half_w - server.idle_w) / half),
        (half, (server.full_w - server.half_w) / half),
    )


def site_power_w(fleet: SiteFleet, catalog: Catalog, busy_cores: float) -> float:
    """IT power of a site's servers and drives with ``busy_cores`` of work on it [W]."""
    power = 0.0
    pieces: list[tuple[float, float]] = []
    for sku, count in fleet.servers.items():
        server = catalog.server(sku)
        power += count * server.idle_w
        for cores, slope in segments(server):
            pieces.append((slope, cores * count))
    remaining = busy_cores
    for slope, cores in sorted(pieces):
        take = min(remaining, cores)
        power += take * slope
        remaining -= take
        if remaining <= 0:
            break
    for sku, count in fleet.drives.items():
        power += count * catalog.drive(sku).watts
    return power


def site_power_even_w(fleet: SiteFleet, catalog: Catalog, busy_cores: float) -> float:
    """IT power with ``busy_cores`` spread evenly over the site's servers [W]: every server
    at utilisation u = min(1, b / sum_k n_k C_k), as a scheduler spreads load; at least the
    packed power of :func:`site_power_w` (the curve is convex), so the UPS is sized on it."""
    total = sum(n * catalog.server(sku).ref_cores for sku, n in fleet.servers.items())
    u = min(1.0, busy_cores / total) if total else 0.0
    power = 0.0
    for sku, count in fleet.servers.items():
        server = catalog.server(sku)
        (half, s1), (_, s2) = segments(server)
        busy = u * server.ref_cores
        power += count * (server.idle_w + s1 * min(busy, half) + s2 * max(0.0, busy - half))
    for sku, count in fleet.drives.items():
        power += count * catalog.drive(sku).watts
    return power
