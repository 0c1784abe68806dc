"""The sizing MILP: exact optima on hand-solvable cases, brute force on random ones."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from planner.errors import InfeasibleError
from planner.inputs.catalog import Catalog
from planner.inputs.spec import Protection, Site, Spec, Workload
from planner.sizing.costs import site_costs
from planner.sizing.envelope import Envelope
from planner.sizing.fleet import SiteFleet
from planner.sizing.model import server_capacity
from planner.sizing.pods import PRIORITIES
from planner.sizing.search import optimise
from planner.sizing.workloads import WorkloadSizing
from tests.conftest import base_spec, catalog, drive, envelope, power_spec, server


def tco(solution_fleets: tuple[SiteFleet, ...], cat: Catalog, spec: Spec, env: Envelope) -> float:
    return sum(
        site_costs(f, cat, spec, env.site(f.site).mean_busy_cores).tco for f in solution_fleets
    )


def test_single_sku_n_plus_1_exact_optimum() -> None:
    """64 cores with N+1 on 32-core servers needs 3; 10 TiB on 1 TiB drives must survive
    the loss of the server holding the most drives.

    Three 4-bay servers hold at most 12 drives, and losing one full server loses 4:
    8 < 10. Four servers with 14 drives (4, 4, 3, 3) keep 10 after losing a full one;
    13 would keep 9. Per site: 4 x 1000 + 14 x 100 = 5400 (a fifth server, 5000 + 13 x
    100 with 3 per server, costs more); two sites: 10800 (energy and upkeep are free).
    """
    spec = base_spec()
    cat = catalog([server("s32", 32, 256, 1000.0)], [drive("d1", 100.0)])
    env = envelope(cpu_cores=64, memory_gib=10, stored_tib=10)
    solution = optimise(spec, cat, env, ())
    assert solution.objective == pytest.approx(10800.0, rel=1e-9)
    for fleet in solution.fleets:
        assert fleet.servers == {"s32": 4}
        assert fleet.drives == {"d1": 14}


def test_mixed_fleet_n_plus_1_exact_optimum() -> None:
    """D = 130 cores, r = 1, big 100 cores at 200, small 40 cores at 150.

    Small only: 5 (after a loss 160) = 750. Big only: 3 = 600. Two big + one small:
    losing a big one leaves 140 >= 130, cost 550, the optimum; one big + four small = 800.
    """
    spec = base_spec()
    cat = catalog(
        [server("big", 100, 1000, 200.0), server("small", 40, 1000, 150.0)], [drive("d1", 1.0)]
    )
    solution = optimise(spec, cat, envelope(cpu_cores=130), ())
    assert solution.objective == pytest.approx(1100.0, rel=1e-9)
    assert solution.fleets[0].servers == {"big": 2, "small": 1}


def test_n_plus_2_removes_the_two_largest() -> None:
    """r = 2 with D = 100: a big (100) + 3 small (40) fails (lose big + small: 80)."""
    spec = base_spec(servers_lost=2)
    cat = catalog(
        [server("big", 100, 1000, 300.0), server("small", 40, 1000, 100.0)], [drive("d1", 1.0)]
    )
    solution = optimise(spec, cat, envelope(cpu_cores=100), ())
    # small only: 40 (k - 2) >= 100 -> k = 5, cost 500; big only: 3 -> 900;
    # 1 big + k small: lose big + small -> 40 (k - 1) >= 100 -> k = 4, cost 700.
    assert solution.objective == pytest.approx(1000.0, rel=1e-9)
    assert solution.fleets[0].servers == {"small": 5}


def test_endurance_decides_the_drives() -> None:
    """Capacity needs 2 drives and IOPS 1, but the bytes written need 9 low-DWPD drives'
    rated writes. Three 3-DWPD drives (750) beat nine 1-DWPD ones (900) and any mix."""
    spec = base_spec()
    rated_tb = drive("x", 0).capacity_tb * 365  # 1 DWPD, one year of service life
    written_tib = 9 * rated_tb / (2**40 / 1e12)
    cat = catalog(
        [server("s", 64, 512, 0.0, drive_bays=24)],
        [drive("dwpd1", 100.0, dwpd=1.0), drive("dwpd3", 250.0, dwpd=3.0)],
    )
    env = envelope(cpu_cores=1, stored_tib=2, read_iops=500, written_tib_life=written_tib)
    solution = optimise(spec, cat, env, ())
    for fleet in solution.fleets:
        assert fleet.drives == {"dwpd3": 3}
    assert solution.objective == pytest.approx(2 * 750.0, rel=1e-9)


def test_energy_prefers_the_efficient_server() -> None:
    """Same price and capacity; one draws 100 W more at idle. Energy makes the choice.

    Cost per server: 1000 + idle W x E with E = 1.5 PUE x 2.0 /kWh x 8760 h / 1000.
    """
    spec = base_spec(pue=1.5, energy_price_per_kwh=2.0, servers_lost=0)
    cat = catalog(
        [
            server("hungry", 32, 256, 1000.0, idle_w=200, half_w=300, full_w=500),
            server("frugal", 32, 256, 1000.0, idle_w=100, half_w=200, full_w=400),
        ],
        [drive("d", 1.0)],
    )
    solution = optimise(spec, cat, envelope(cpu_cores=32), ())
    per_watt = 1.5 * 2.0 * 8760 / 1000
    assert solution.fleets[0].servers == {"frugal": 1}
    assert solution.objective == pytest.approx(2 * (1000 + 100 * per_watt), rel=1e-9)


def test_dynamic_power_follows_the_specpower_curve() -> None:
    """16 busy cores on one 32-core server sit exactly at its 50 % point (200 W)."""
    spec = base_spec(pue=1.0, energy_price_per_kwh=1.0, servers_lost=0)
    cat = catalog([server("s", 32, 256, 0.0)], [drive("d", 0.0)])
    env = envelope(cpu_cores=32, mean_busy_cores=16)
    solution = optimise(spec, cat, env, ())
    assert solution.objective == pytest.approx(2 * 200 * 8760 / 1000, rel=1e-9)


def test_pod_too_big_for_any_server_is_explained() -> None:
    spec = base_spec()
    cat = catalog([server("s", 32, 1024, 1.0), server("m", 64, 512, 1.0)], [drive("d", 1.0)])
    huge = WorkloadSizing("db", "alpha", "critical", 2, 2, 8.0, 1536.0, 0, True, {}, {})
    with pytest.raises(InfeasibleError) as caught:
        optimise(spec, cat, envelope(cpu_cores=10), (huge,))
    assert caught.value.reasons == [
        "memory per node: workload db needs 1.50 TiB per replica, the largest server has "
        "1 TiB allocatable (short by 512 GiB)"
    ]


def test_rack_limit_infeasibility_names_the_shortfall() -> None:
    spec = base_spec(sites=(Site("alpha", max_rack_units=4), Site("beta")))
    cat = catalog([server("s", 10, 100, 1.0, rack_units=2)], [drive("d", 1.0)])
    with pytest.raises(InfeasibleError) as caught:
        optimise(spec, cat, envelope(cpu_cores=40), ())  # N+1 -> 5 servers = 10 U
    assert caught.value.reasons == [
        "rack space (sites.alpha.max_rack_units): the fewest rack units that meet the "
        "envelope and place every pod after losing 1 server(s), anti-affinity included, are "
        "10 U (5 x 2 U s); the spec allows 4 U (short by 6 U)"
    ]


def test_rack_space_is_named_when_only_the_placement_needs_more_servers() -> None:
    """Two databases of three 300 GiB replicas, each spread one per server, on 512 GiB
    4 U servers: memory alone says 5 servers (20 U), but no server holds two replicas,
    so 6 pods after losing one server need 7 servers (28 U) against 24 U. The planner
    named nothing ("a reason the planner cannot name"); it must name the rack space."""
    spec = base_spec(sites=(Site("alpha", max_rack_units=24), Site("beta")))
    cat = catalog([server("s", 64, 512, 1.0, rack_units=4)], [drive("d", 1.0)])
    dbs = tuple(
        WorkloadSizing(name, "alpha", "critical", 3, 3, 2.0, 300.0, 0, True, {}, {})
        for name in ("db-a", "db-b")
    )
    with pytest.raises(InfeasibleError) as caught:
        optimise(spec, cat, envelope(cpu_cores=10), dbs)
    assert caught.value.reasons == [
        "rack space (sites.alpha.max_rack_units): the fewest rack units that meet the "
        "envelope and place every pod after losing 1 server(s), anti-affinity included, are "
        "28 U (7 x 4 U s); the spec allows 24 U (short by 4 U)"
    ]


def test_vertical_pods_need_their_own_servers() -> None:
    """Three 300 GiB database replicas fit only the large SKU: 3 + 1 large servers."""
    spec = base_spec()
    cat = catalog(
        [server("small", 64, 256, 10.0), server("large", 64, 512, 50.0)], [drive("d", 1.0)]
    )
    db = tuple(
        WorkloadSizing("db", site, "critical", 3, 3, 4.0, 300.0, 0, True, {}, {})
        for site in ("alpha", "beta")
    )
    solution = optimise(spec, cat, envelope(cpu_cores=10, memory_gib=100), db)
    for fleet in solution.fleets:
        assert fleet.servers == {"large": 4}


# ---------------------------------------------------------------------------------------
# Brute force on small random instances


def pods_place(
    servers: list[tuple[float, float]], pods: list[tuple[str, float, float, int]]
) -> bool:
    """Brute force: try every server for every pod (caps per workload per server)."""
    free = [list(x) for x in servers]
    count: dict[tuple[str, int], int] = {}

    def go(i: int) -> bool:
        if i == len(pods):
            return True
        name, cpu, mem, cap = pods[i]
        for b in range(len(free)):
            if (
                cpu <= free[b][0] + 1e-9
                and mem <= free[b][1] + 1e-9
                and count.get((name, b), 0) < cap
            ):
                free[b][0] -= cpu
                free[b][1] -= mem
                count[(name, b)] = count.get((name, b), 0) + 1
                if go(i + 1):
                    return True
                free[b][0] += cpu
                free[b][1] += mem
                count[(name, b)] -= 1
        return False

    return go(0)


def feasible(
    fleet: SiteFleet,
    cat: Catalog,
    spec: Spec,
    demand: dict[str, float],
    written_tib: float,
    sizings: tuple[WorkloadSizing, ...] = (),
) -> bool:
    """The requirements restated plainly: explicit N+r by dropping the r largest; drives
    of one model spread evenly, the loss of r servers taking r times the fullest server's
    drives; every scenario's pods placed by brute force after every loss of r servers."""
    r = spec.servers_lost
    servers = [cat.server(k) for k, n in sorted(fleet.servers.items()) for _ in range(n)]
    drives = [cat.drive(k) for k, n in fleet.drives.items() for _ in range(n)]
    for resource in ("cpu_cores", "memory_gib"):
        caps = sorted((server_capacity(s, spec, resource) for s in servers), reverse=True)
        if sum(caps[r:]) < demand[resource] - 1e-7:
            return False
    if len(fleet.drives) > 1 or len(drives) > sum(s.drive_bays for s in servers):
        return False
    fullest = 0
    while sum(min(s.drive_bays, fullest) for s in servers) < len(drives):
        fullest += 1
    overhead = spec.protection.overhead
    one = drives[0] if drives else None
    lost = r * fullest
    usable = (len(drives) - lost) * (one.capacity_tib if one else 0) * spec.fill_ceiling / overhead
    reads = (len(drives) - lost) * (one.read_iops if one else 0) * spec.drive_iops_ceiling
    writes = (len(drives) - lost) * (one.write_iops if one else 0) * spec.drive_iops_ceiling
    rated = sum(d.capacity_tb * d.dwpd * 365 * spec.service_life_years for d in drives)
    need_tb = written_tib * 2**40 / 1e12 * spec.write_amplification * overhead
    p = spec.protection
    width = p.data + p.parity if p.scheme == "erasure" else p.copies
    if demand["stored_tib"] > 0 and min(len(servers), len(drives)) - r < width:
        return False
    if not (
        usable >= demand["stored_tib"] - 1e-7
        and reads >= demand["read_iops"] - 1e-7
        and writes >= demand["write_iops"] * overhead - 1e-7
        and rated >= need_tb - 1e-7
    ):
        return False
    alloc = [
        (
            s.cores - spec.reserved_cpu_cores - s.drive_bays * spec.reserved_cpu_cores_per_drive,
            s.memory_gib
            - spec.reserved_memory_gib
            - s.drive_bays * spec.reserved_memory_gib_per_drive,
        )
        for s in servers
    ]
    for failover in (False, True):
        pods = []
        tiers: list[tuple[int, bool]] = []
        for z in sizings:
            if z.site != fleet.site:
                continue
            cap = (
                1
                if z.anti_affinity
                else max(1, math.ceil(spec.max_pod_share_per_server * z.replicas_max - 1e-9))
            )
            count = z.replicas_failover if failover else z.replicas_normal
            pods += [(z.workload, z.cpu_request_cores, z.memory_request_gib, cap)] * count
            tiers += [(PRIORITIES[z.priority_tier], z.anti_affinity)] * count
        queued = [(*pod, *tier) for pod, tier in zip(pods, tiers, strict=True)]
        pods.sort(key=lambda x: (-x[2], -x[1]))
        losses = {
            tuple(sorted(c))
            for c in itertools.combinations(range(len(servers)), min(r, len(servers)))
        }
        kinds = {tuple(sorted(servers[i].sku for i in c)): c for c in losses}
        for chosen in kinds.values():
            left = [a for i, a in enumerate(alloc) if i not in chosen]
            if not pods_place(left, pods):
                return False
            if not arrival_safe(left, queued):
                return False
    return True


def arrival_safe(
    servers: list[tuple[float, float]], pods: list[tuple[str, float, float, int, int, bool]]
) -> bool:
    """The sizing's arrival rule (:mod:`planner.sizing.arrival`, tested on its own against
    random orders): no arrival order found strands a pod above the deferrable class."""
    from planner.sizing.arrival import orders_that_strand, stranded_in_some_order
    from planner.sizing.scheduler import Allocatable, QueuedPod

    nodes = [Allocatable(c, m) for c, m in servers]
    queued = [QueuedPod(w, prio, cpu, mem, anti, cap) for w, cpu, mem, cap, prio, anti in pods]
    floor = PRIORITIES["deferrable"] + 1
    if not stranded_in_some_order(nodes, queued, floor):
        return True
    return orders_that_strand(nodes, queued, floor)[0] == 0


@st.composite
def instances(draw: st.DrawFn) -> tuple[Spec, Catalog, Envelope, tuple[WorkloadSizing, ...]]:
    n_servers = draw(st.integers(1, 2))
    servers = []
    for i in range(n_servers):
        cores = draw(st.sampled_from([8, 16, 24, 32]))
        idle = draw(st.integers(50, 150))
        half = idle + draw(st.integers(20, 150))
        full = half + (half - idle) + draw(st.integers(0, 100))
        servers.append(
            server(
                f"s{i}",
                cores,
                float(draw(st.sampled_from([32, 64, 128]))),
                float(draw(st.integers(10, 60)) * 100),
                drive_bays=draw(st.integers(1, 4)),
                idle_w=float(idle),
                half_w=float(half),
                full_w=float(full),
            )
        )
    drives = [
        drive(
            f"d{j}",
            float(draw(st.integers(2, 20)) * 50),
            capacity_tb=float(draw(st.sampled_from([1.0, 2.0, 4.0]))),
            read_iops=float(draw(st.sampled_from([1000, 3000]))),
            write_iops=float(draw(st.sampled_from([300, 1000]))),
            dwpd=float(draw(st.sampled_from([0.5, 1.0, 3.0]))),
            watts=float(draw(st.integers(0, 20))),
        )
        for j in range(draw(st.integers(1, 2)))
    ]
    spec = base_spec(
        servers_lost=draw(st.integers(0, 2)),
        cpu_ceiling=draw(st.sampled_from([0.5, 0.7, 1.0])),
        reserved_cpu_cores=float(draw(st.integers(0, 2))),
        reserved_cpu_cores_per_drive=draw(st.sampled_from([0.0, 0.25])),
        reserved_memory_gib_per_drive=draw(st.sampled_from([0.0, 1.0])),
        protection=draw(
            st.sampled_from(
                [Protection("replicas", copies=2), Protection("erasure", data=2, parity=1)]
            )
        ),
        fill_ceiling=draw(st.sampled_from([0.7, 1.0])),
        write_amplification=draw(st.sampled_from([1.0, 2.0])),
        pue=1.3,
        energy_price_per_kwh=draw(st.sampled_from([0.0, 0.2])),
        maintenance_rate_per_year=draw(st.sampled_from([0.0, 0.1])),
        max_pod_share_per_server=draw(st.sampled_from([0.25, 0.5, 1.0])),
    )
    sites = []
    sizings = []
    for site, other in (("alpha", "beta"), ("beta", "alpha")):
        from tests.conftest import site_envelope

        cpu = float(draw(st.integers(0, 24)))
        sites.append(
            site_envelope(
                site,
                other,
                cpu_cores=cpu,
                memory_gib=float(draw(st.integers(0, 100))),
                stored_tib=float(draw(st.integers(0, 4))),
                read_iops=float(draw(st.integers(0, 2500))),
                write_iops=float(draw(st.integers(0, 600))),
                mean_busy_cores=cpu * draw(st.sampled_from([0.0, 0.3, 0.6])),
                written_tib_life=float(draw(st.integers(0, 1500))),
            )
        )
        for w in range(draw(st.integers(0, 2))):
            normal = draw(st.integers(1, 3))
            sizings.append(
                WorkloadSizing(
                    f"w{w}",
                    site,
                    "critical",
                    normal,
                    normal + draw(st.integers(0, 2)),
                    float(draw(st.sampled_from([1, 2, 4, 6]))),
                    float(draw(st.sampled_from([4, 8, 16, 24]))),
                    0,
                    draw(st.booleans()),
                    {},
                    {},
                )
            )
    return spec, catalog(servers, drives), Envelope(tuple(sites)), tuple(sizings)


SERVER_MAX = 8
DRIVE_MAX = 9


def brute_force(
    spec: Spec, cat: Catalog, env: Envelope, sizings: tuple[WorkloadSizing, ...] = ()
) -> float:
    """Every fleet within the bounds, cheapest first; the first feasible one is optimal."""
    total = 0.0
    for site_env in env.sites:
        demand = {
            m: site_env.design(m)
            for m in ("cpu_cores", "memory_gib", "read_iops", "write_iops", "stored_tib")
        }
        candidates = []
        for counts in itertools.product(range(SERVER_MAX + 1), repeat=len(cat.servers)):
            servers = {s.sku: n for s, n in zip(cat.servers, counts, strict=True) if n}
            bays = sum(cat.server(k).drive_bays * n for k, n in servers.items())
            options: list[dict[str, int]] = [{}]
            for d in cat.drives:
                options += [{d.sku: n} for n in range(1, min(bays, DRIVE_MAX) + 1)]
            for drives in options:
                fleet = SiteFleet(site_env.site, servers, drives)
                cost = site_costs(fleet, cat, spec, site_env.mean_busy_cores).tco
                candidates.append((cost, fleet))
        candidates.sort(key=lambda c: c[0])
        best = math.inf
        for cost, fleet in candidates:
            if feasible(fleet, cat, spec, demand, site_env.written_tib_life, sizings):
                best = cost
                break
        total += best
    return total


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(instances())
def test_milp_matches_brute_force(
    instance: tuple[Spec, Catalog, Envelope, tuple[WorkloadSizing, ...]],
) -> None:
    """With pods (sizes, anti-affinity, per-server caps) in every case: the MILP's fleet
    is feasible (checked plainly, pods placed by brute force after every loss), costs no
    more than the best enumerated fleet, and exactly as much whenever it lies inside."""
    spec, cat, env, sizings = instance
    from planner.errors import InfeasibleError as Infeasible

    try:
        solution = optimise(spec, cat, env, sizings)
    except Infeasible:
        assume(False)  # a pod no server can hold: explained elsewhere
        return
    expected = brute_force(spec, cat, env, sizings)
    cost = tco(solution.fleets, cat, spec, env)
    assert solution.objective == pytest.approx(cost, rel=1e-7, abs=1e-6)
    for fleet in solution.fleets:
        site_env = env.site(fleet.site)
        demand = {
            m: site_env.design(m)
            for m in ("cpu_cores", "memory_gib", "read_iops", "write_iops", "stored_tib")
        }
        assert feasible(fleet, cat, spec, demand, site_env.written_tib_life, sizings)
    inside = all(n <= SERVER_MAX for f in solution.fleets for n in f.servers.values()) and all(
        n <= DRIVE_MAX for f in solution.fleets for n in f.drives.values()
    )
    if math.isinf(expected):
        assert not inside  # nothing feasible in the enumeration: the MILP must leave it
    else:
        assert cost <= expected * (1 + 1e-7) + 1e-6
    # Count only instances whose optimum lies inside the enumeration towards the 200:
    # for those, the costs must be equal.
    assume(inside and not math.isinf(expected))
    event(f"pod groups: {min(len(sizings), 3)}")
    assert cost == pytest.approx(expected, rel=1e-7, abs=1e-6)


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(instances())
def test_every_removal_of_r_servers_still_meets_the_envelope(
    instance: tuple[Spec, Catalog, Envelope, tuple[WorkloadSizing, ...]],
) -> None:
    spec, cat, env, _ = instance
    solution = optimise(spec, cat, env, ())
    for fleet in solution.fleets:
        servers = [cat.server(k) for k, n in fleet.servers.items() for _ in range(n)]
        site_env = env.site(fleet.site)
        r = min(spec.servers_lost, len(servers))
        for removed in itertools.combinations(range(len(servers)), r):
            left = [s for i, s in enumerate(servers) if i not in removed]
            for resource in ("cpu_cores", "memory_gib"):
                capacity = sum(server_capacity(s, spec, resource) for s in left)
                assert capacity >= site_env.design(resource) - 1e-7


def test_workload_helper_is_consistent() -> None:
    """The base spec's single workload is critical, horizontal, with fraction 1."""
    spec = base_spec()
    assert spec.workloads == (
        Workload("app", "critical", 1.0, "horizontal", 1.0, 1.0, None, 1, False),
    )


@pytest.mark.parametrize(("ups_redundancy", "frames"), [(0, 1), (1, 2), (2, 3)])
def test_battery_strings_cover_the_runtime_at_end_of_life_with_one_lost(
    ups_redundancy: int, frames: int
) -> None:
    """One 32-core server (idle 100 W, 50 % 200 W, full 400 W) with a worst load of 16
    busy cores: the linear bound is 100 + 16 x 300 / 32 = 250 W. Strings of two 12 V
    blocks (a 24 V bus) carry P_s = 2 x 100 W x min(1, 10 / T) x 0.9 / K each for T
    minutes (a linear runtime law of 10 min at 100 W); the fewest strings with one lost
    still carrying 250 W are bought, never fewer than two."""
    import dataclasses

    from planner.inputs.catalog import BatterySku, UpsFrameSku
    from planner.power.ups import derating, site_required_runtime

    power = power_spec(chemistry="vrla", temperature_c=20.0, ups_redundancy=ups_redundancy)
    spec = base_spec(servers_lost=0, power=power)
    block = BatterySku(
        "block",
        "vrla",
        0.1,
        0.1,
        5.0,
        10.0,
        "test",
        module_v=12.0,
        rated_minutes=10.0,
        runtime_exponent=1.0,
    )
    cat = dataclasses.replace(
        catalog([server("s", 32, 256, 100.0)], [drive("d", 1.0)]),
        batteries=(block,),
        ups_frames=(UpsFrameSku("ups", 1.0, 0.9, 50.0, "test", dc_min_v=24.0, dc_max_v=24.0),),
    )
    solution = optimise(spec, cat, envelope(cpu_cores=16), ())
    minutes = site_required_runtime(power).minutes
    per_string = 2 * 100.0 * min(1.0, 10.0 / minutes) * 0.9 / derating(power).factor
    need = 250.0
    strings = max(2, 1 + math.ceil(need / per_string - 1e-9))
    for fleet in solution.fleets:
        assert fleet.strings == strings
        assert fleet.batteries == {"block": 2 * strings}
        assert (strings - 1) * per_string >= need - 1e-6
        if strings > 2:
            assert (strings - 2) * per_string < need
        # 250 W x 1.1 fits one 1 kW frame, plus the redundant ones
        assert fleet.ups == {"ups": frames}


def test_ups_frames_come_in_one_model_per_site() -> None:
    """N+1 frames for 12 kW x 1.1 = 13.2 kW. Three 10 kW frames cost 30k, two 20 kW
    frames 28k (the optimum). One 20 kW + one 10 kW (24k) would leave only 10 kW after
    losing the 20 kW frame, so it must not be chosen."""
    import dataclasses

    from planner.inputs.catalog import BatterySku, UpsFrameSku

    power = power_spec(generator_stabilise_s=45, generator_fail_to_start=1e-5)
    spec = base_spec(servers_lost=0, power=power)
    big = server("s", 32, 256, 0.0, idle_w=12000.0, half_w=12000.0, full_w=12000.0)
    cat = dataclasses.replace(
        catalog([big], [drive("d", 0.0)]),
        batteries=(
            BatterySku(
                "b", "lfp", 10.0, 100.0, 20.0, 0.0, "test", module_v=48.0, rated_minutes=60.0
            ),
        ),
        ups_frames=(
            UpsFrameSku("u10", 10.0, 0.95, 10_000.0, "test", dc_min_v=48.0, dc_max_v=48.0),
            UpsFrameSku("u20", 20.0, 0.95, 14_000.0, "test", dc_min_v=48.0, dc_max_v=48.0),
        ),
    )
    solution = optimise(spec, cat, envelope(cpu_cores=1), ())
    for fleet in solution.fleets:
        assert fleet.ups == {"u20": 2}


def test_the_ups_design_load_bounds_every_placement_the_scheduler_may_choose() -> None:
    """Packing the busy cores onto the fewest servers draws more than spreading them on
    a convex curve; the UPS design load must bound every placement, random ones included,
    and equal the packed one on whole servers of one model."""
    import random

    from planner.inputs.catalog import ServerSku, default_catalog_path, read_catalog
    from planner.sizing.fleet import SiteFleet
    from planner.sizing.server_power import (
        segments,
        site_power_even_w,
        site_power_worst_w,
    )

    catalog = read_catalog(default_catalog_path())
    rng = random.Random(4)
    for sku in catalog.servers:
        n = 6
        fleet = SiteFleet("a", {sku.sku: n}, {}, {}, {}, 0, ())
        (half, s1), (_, s2) = segments(sku)

        def draw(
            b: float, sku: ServerSku = sku, half: float = half, s1: float = s1, s2: float = s2
        ) -> float:
            return sku.idle_w + s1 * min(b, half) + s2 * max(0.0, b - half)

        cores = sku.ref_cores
        for _ in range(200):
            busy = rng.uniform(0, n * cores)
            cuts = sorted(rng.uniform(0, busy) for _ in range(n - 1))
            shares = [b - a for a, b in zip([0.0, *cuts], [*cuts, busy], strict=True)]
            if any(x > cores for x in shares):
                continue
            placed = sum(draw(x) for x in shares)
            assert placed <= site_power_worst_w(fleet, catalog, busy) + 1e-6
        packed = 4 * draw(cores) + 2 * draw(0.0)
        assert site_power_worst_w(fleet, catalog, 4 * cores) == pytest.approx(packed)
        assert packed > site_power_even_w(fleet, catalog, 4 * cores)


def test_an_infeasible_room_is_named_with_its_minutes_and_what_would_do(tmp_path: Path) -> None:
    """A failover failing 1 time in 20 needs about 111 min on battery; without the
    chilled-water buffer the room reaches its limit after about 34 min. The planner must
    name the room, both times and a remedy, not "no mix of servers and drives"."""
    import yaml
    from click.testing import CliRunner

    from planner.cli import main

    assert (
        CliRunner().invoke(main, ["example", "--out", str(tmp_path), "--days", "7"]).exit_code == 0
    )
    spec = yaml.safe_load((tmp_path / "spec.yaml").read_text())
    spec["power"]["failover"]["failure_probability"] = 0.05
    del spec["power"]["cooling_options"]
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    run = CliRunner().invoke(
        main,
        [
            "size",
            "--profile",
            str(tmp_path / "profile.parquet"),
            "--spec",
            str(tmp_path / "spec.yaml"),
            "--out",
            str(tmp_path / "plan.json"),
        ],
    )
    assert run.exit_code == 1, run.output
    assert "room temperature" in run.output
    assert "required runtime of 110.7 min" in run.output
    assert "no mix of catalogue servers and drives" not in run.output
    assert "kJ/K more thermal mass" in run.output
    assert not (tmp_path / "plan.json").exists()


def test_the_node_reservation_follows_the_drive_bays_of_each_model(tmp_path: Path) -> None:
    """50 cores at ceiling 1, r = 0, on 32-core servers with 4 bays: 2 servers (64) carry
    it with no storage daemons; with 2 cores per drive bay each server keeps 8 cores for
    its OSDs, 2 x 24 = 48 < 50, so a third server is bought. The plan states the
    reservation per model and where the per-drive figure comes from."""
    plain = base_spec(servers_lost=0, cpu_ceiling=1.0)
    per_drive = base_spec(
        servers_lost=0,
        cpu_ceiling=1.0,
        reserved_cpu_cores_per_drive=2.0,
        reserved_per_drive_source="test: 2 cores per OSD",
    )
    cat = catalog([server("s32", 32, 256, 1000.0)], [drive("d1", 1.0)])
    assert optimise(plain, cat, envelope(cpu_cores=50), ()).fleets[0].servers == {"s32": 2}
    assert optimise(per_drive, cat, envelope(cpu_cores=50), ()).fleets[0].servers == {"s32": 3}
    assert per_drive.node_cpu_reserved(4) == 8.0
    import dataclasses

    import yaml

    from planner.jobs.size import SizeInputs, run_size

    inputs = SizeInputs.bundled()
    doc = yaml.safe_load(inputs.spec.read_text())
    doc["node_reserved"]["per_drive"] = {
        "cpu_cores": 1,
        "memory_gib": 4.66,
        "source": "IBM Storage Ceph 7: 1 core and 5 GB per OSD",
    }
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(doc))
    plan = run_size(dataclasses.replace(inputs, spec=spec_path)).plan
    for site in plan["sites"]:
        for model in site["servers"]:
            assert model["reserved_cpu_cores"] == pytest.approx(2 + model["drive_bays"] * 1)
            assert model["reserved_memory_gib"] == pytest.approx(16 + model["drive_bays"] * 4.66)
    assert "per OSD" in plan["assumptions"]["node_reserved"]["per_drive_bay"]["source"]
