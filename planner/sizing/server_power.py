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
    packed power of :func:`site_power_w` (the curve is convex); below the worst placement
    :func:`site_power_worst_w`, on which the UPS and the room are sized."""
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


def server_watts_per_core(server: ServerSku) -> float:
    """The steepest chord of a server's power curve from idle [W per busy core]:
    max((P_50 - P_idle) / (C/2), (P_100 - P_idle) / C). The curve lies under this chord,
    so a server with b busy cores draws at most P_idle + b x this, whatever b is."""
    half = (server.half_w - server.idle_w) / (server.ref_cores / 2.0)
    full = (server.full_w - server.idle_w) / server.ref_cores
    return max(half, full)


def site_power_worst_w(fleet: SiteFleet, catalog: Catalog, busy_cores: float) -> float:
    """IT power at the worst placement of ``busy_cores`` the scheduler may choose [W]:

        P = sum_k n_k P_idle,k + B max_k w_k + sum_j P_j d_j

    Every server's curve lies under its steepest chord w_k, so no placement of B busy
    cores (spread evenly, or packed onto the fewest servers, which on a convex curve
    draws 6-7 % more than spreading) exceeds this. It is the optimiser's own bound
    (:func:`planner.sizing.model.define_design_load`): the UPS, battery and room are
    bought against it, and the plan states it. Packed exactly onto whole servers of one
    model it is reached (every full server is on its chord's end)."""
    power = 0.0
    steepest = 0.0
    for sku, count in fleet.servers.items():
        server = catalog.server(sku)
        power += count * server.idle_w
        if count > 0:
            steepest = max(steepest, server_watts_per_core(server))
    power += busy_cores * steepest
    for sku, count in fleet.drives.items():
        power += count * catalog.drive(sku).watts
    return power
