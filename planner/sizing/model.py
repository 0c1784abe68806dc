"""The sizing MILP: build, solve (scipy.optimize.milp / HiGHS), write back.

Decision variables per site s:
  n[s,k]   servers of SKU k (integer)          d[s,j]  drives of SKU j (integer)
  b[s,R,t] which breakpoint t certifies N+r for resource R (binary)
  a[s,k,q] mean busy cores on segment q of SKU k's power curve (continuous, >= 0)
  p_spread[s] the worst load's busy-core power, spread evenly (continuous, >= 0)
  used[s,k] SKU k is bought (binary)           f[s,u]  UPS frames of SKU u (integer)
  z[s,m,u] battery strings of module m behind frame model u (integer), w[s,m,u] (binary)
  cool[s,o] cooling option o on the UPS (binary)

Each constraint family has one ``define_*`` function whose docstring states the maths.
The solver sees the reduced envelope (:mod:`planner.sizing.envelope`), never a timestep.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from planner.errors import SolverError
from planner.inputs.catalog import Catalog, ServerSku
from planner.inputs.spec import Spec
from planner.inputs.units import HOURS_PER_YEAR, TIB_PER_TB
from planner.sizing.cpu_class import define_cpu_class
from planner.sizing.cuts import define_dominance_cuts
from planner.sizing.envelope import Envelope, SiteEnvelope
from planner.sizing.fleet import SiteFleet
from planner.sizing.pods import PRIORITIES, PodGroup, requests, site_pod_sets
from planner.sizing.server_power import segments, server_watts_per_core
from planner.sizing.workloads import WorkloadSizing

DAYS_PER_YEAR = 365.0
MAX_UPS_FRAMES = 1000.0
MAX_STRINGS = 1000.0
MAX_SERVERS = 10_000.0


@dataclass(frozen=True)
class ModelOptions:
    """How to solve. ``mip_rel_gap`` near zero asks HiGHS for a proven optimum."""

    time_limit_s: float = 120.0
    mip_rel_gap: float = 1e-9
    enforce_rack_limits: bool = True
    enforce_thermal: bool = True  # off only to tell whether the room is what is infeasible
    objective: str = "tco"  # or "rack_units" (used to explain an infeasible rack limit)


@dataclass
class Model:
    """A MILP in scipy's form, with named variables and rows for write-back and reports."""

    names: list[str] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[dict[int, float]] = field(default_factory=list)
    row_lb: list[float] = field(default_factory=list)
    row_ub: list[float] = field(default_factory=list)
    row_names: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def var(self, name: str, *, integer: bool, cost: float = 0.0, upper: float = np.inf) -> int:
        self.index[name] = len(self.names)
        self.names.append(name)
        self.cost.append(cost)
        self.integer.append(1 if integer else 0)
        self.upper.append(upper)
        return self.index[name]

    def row(self, name: str, coeffs: dict[int, float], lb: float, ub: float = np.inf) -> None:
        self.rows.append({i: c for i, c in coeffs.items() if c != 0.0})
        self.row_lb.append(lb)
        self.row_ub.append(ub)
        self.row_names.append(name)


def add_part(
    joint: Model,
    part: Model,
    suffix: str,
    shared: Callable[[str], bool],
    cost: Callable[[int, str], float],
) -> None:
    """Copy ``part``'s variables and rows into ``joint``: a variable for which ``shared``
    holds keeps its name and is one variable for every part; the others are renamed
    ``name + suffix``. ``cost(j, name)`` prices variable j of the part in the joint model.
    Rows are copied as they are, renamed with the suffix."""
    mapping = {}
    for j, name in enumerate(part.names):
        if shared(name):
            if name not in joint.index:
                joint.var(name, integer=bool(part.integer[j]), cost=cost(j, name),
                          upper=part.upper[j])  # fmt: skip
            mapping[j] = joint.index[name]
            continue
        mapping[j] = joint.var(
            f"{name}{suffix}", integer=bool(part.integer[j]), cost=cost(j, name),
            upper=part.upper[j],
        )  # fmt: skip
    for coeffs, lb, ub, row in zip(part.rows, part.row_lb, part.row_ub, part.row_names,
                                   strict=True):  # fmt: skip
        joint.row(f"{row}{suffix}", {mapping[k]: c for k, c in coeffs.items()}, lb, ub)


@dataclass(frozen=True)
class Solution:
    fleets: tuple[SiteFleet, ...]
    objective: float
    solve_time_s: float
    mip_gap: float
    variables: int
    constraints: int
    candidates: int = 1  # fleets the solver proposed until one placed and stored safely


def server_capacity(server: ServerSku, spec: Spec, resource: str) -> float:
    """Usable capacity of one server under the ceiling, after the node reservation.

    cpu: (cores - reserved) x c_cpu [cores];  memory: (GiB - reserved) x c_mem [GiB].
    """
    if resource == "cpu_cores":
        return server.usable_cores(spec.node_cpu_reserved(server.drive_bays)) * spec.cpu_ceiling
    return (
        max(0.0, server.memory_gib - spec.node_memory_reserved(server.drive_bays))
        * spec.memory_ceiling
    )


def pod_fits(server: ServerSku, spec: Spec, sizing: WorkloadSizing) -> bool:
    """A pod's requests fit inside one server's allocatable resources."""
    return (
        sizing.cpu_request_cores
        <= server.usable_cores(spec.node_cpu_reserved(server.drive_bays)) + 1e-9
        and sizing.memory_request_gib
        <= server.memory_gib - spec.node_memory_reserved(server.drive_bays) + 1e-9
    )


def placement_need(sizing: WorkloadSizing, spec: Spec) -> int:
    """Servers that must be able to host the workload's pod, after losing r of them."""
    spread = sizing.replicas_max if sizing.anti_affinity else 1
    return spread + spec.servers_lost if sizing.replicas_max > 0 else 0


def build_model(
    spec: Spec,
    catalog: Catalog,
    envelope: Envelope,
    sizings: tuple[WorkloadSizing, ...],
    options: ModelOptions,
    cuts: dict[str, list[dict[str, int]]] | None = None,
) -> Model:
    model = Model()
    for site_envelope in envelope.sites:
        site = site_envelope.site
        define_site_variables(model, spec, catalog, site)
        define_cpu_class(model, catalog, site)
        for resource in ("cpu_cores", "memory_gib"):
            define_compute_redundancy(model, spec, catalog, site_envelope, resource)
        define_pod_placement(model, spec, catalog, site, [z for z in sizings if z.site == site])
        define_pod_requests(model, spec, catalog, site, site_pod_sets(sizings, spec, site))
        define_dominance_cuts(model, spec, catalog, site, (cuts or {}).get(site, []))
        define_drive_layout(model, spec, catalog, site_envelope)
        define_flash_endurance(model, spec, catalog, site_envelope)
        define_energy(model, spec, catalog, site_envelope)
        limit = next(s.max_rack_units for s in spec.sites if s.name == site)
        if options.enforce_rack_limits and limit is not None:
            define_rack_space(model, catalog, site, limit)
        if spec.power is not None:
            load = define_design_load(model, spec, catalog, site_envelope)
            define_ups_power(model, spec, catalog, site, load)
            define_battery(model, spec, catalog, site, load)
            if spec.power.room is not None and options.enforce_thermal:
                define_thermal(model, spec, site, load)
    if options.objective == "rack_units":
        model.cost = [0.0] * len(model.cost)
        for site in spec.site_names:
            for server in catalog.servers:
                model.cost[model.index[f"n[{site},{server.sku}]"]] = server.rack_units
    return model


def define_site_variables(model: Model, spec: Spec, catalog: Catalog, site: str) -> None:
    """n[s,k], d[s,j] with their purchase + maintenance + standing energy in the objective.

    cost(n_k) = price_k (1 + m Y) + P_idle,k x E,   cost(d_j) = price_j (1 + m Y) + P_j x E
    with E = PUE x price_kWh x 8760 Y / 1000 [currency per W over the horizon].
    """
    upkeep = 1.0 + spec.maintenance_rate_per_year * spec.horizon_years
    per_watt = _energy_cost_per_watt(spec)
    for server in catalog.servers:
        model.var(
            f"n[{site},{server.sku}]",
            integer=True,
            cost=server.price * upkeep + server.idle_w * per_watt,
        )
    for drive in catalog.drives:
        model.var(
            f"d[{site},{drive.sku}]",
            integer=True,
            cost=drive.price * upkeep + drive.watts * per_watt,
        )


def define_compute_redundancy(
    model: Model, spec: Spec, catalog: Catalog, env: SiteEnvelope, resource: str
) -> None:
    """N+r: after losing any r servers, capacity still covers the design demand D.

    With c_k each server's usable capacity, the worst loss of r servers removes the
    sum of the r largest, top_r(n) = min_{t >= 0} [ r t + sum_k n_k (c_k - t)^+ ], whose
    minimum lies at t in T = {0} U {c_k}. So the requirement
    sum_k n_k c_k - top_r(n) >= D holds iff for some t in T

        g_t(n) = sum_k n_k min(c_k, t) - r t >= D.

    One binary b_t per t chooses the certificate (sum_t b_t = 1), and
    g_t(n) >= D - M_t (1 - b_t) with M_t = D + r t, a valid bound since g_t >= -r t.
    For r = 0 this is the plain sum_k n_k c_k >= D.
    """
    caps = {s.sku: server_capacity(s, spec, resource) for s in catalog.servers}
    _n_plus_r(model, env.site, resource, caps, env.design(resource), spec.servers_lost)


def _n_plus_r(
    model: Model, site: str, label: str, caps: dict[str, float], demand: float, r: int
) -> None:
    """Rows of :func:`define_compute_redundancy` for per-server capacities ``caps``."""
    n = {sku: model.index[f"n[{site},{sku}]"] for sku in caps}
    if r == 0:
        model.row(f"capacity[{site},{label}]", {n[k]: caps[k] for k in caps}, demand)
        return
    breakpoints = sorted({0.0, *caps.values()})
    chooser: dict[int, float] = {}
    for i, t in enumerate(breakpoints):
        b = model.var(f"b[{site},{label},{i}]", integer=True, upper=1.0)
        chooser[b] = 1.0
        big_m = demand + r * t
        coeffs = {n[k]: min(caps[k], t) for k in caps}
        coeffs[b] = -big_m
        # g_t(n) >= D - M (1 - b)  <=>  sum_k n_k min(c_k, t) - M b >= D + r t - M = 0
        model.row(f"n_plus_r[{site},{label},t={t:g}]", coeffs, demand + r * t - big_m)
    model.row(f"n_plus_r_choice[{site},{label}]", chooser, 1.0, 1.0)


def define_pod_requests(
    model: Model,
    spec: Spec,
    catalog: Catalog,
    site: str,
    pod_sets: dict[str, tuple[PodGroup, ...]],
) -> None:
    """The pods' requests fit the allocatable resources with every server up, and those
    of the pods that must run (all but deferrable ones, which may wait while a server is
    out) after losing any r servers, per scenario (necessary conditions of placement, in
    the N+r form of
    :func:`define_compute_redundancy` with c_k = cores_k - reserved, or GiB_k - reserved,
    and D = sum_g R_g x request_g). Placement itself is checked pod by pod in
    :func:`optimise`."""
    cpu_caps = {
        s.sku: s.usable_cores(spec.node_cpu_reserved(s.drive_bays)) for s in catalog.servers
    }
    mem_caps = {
        s.sku: max(0.0, s.memory_gib - spec.node_memory_reserved(s.drive_bays))
        for s in catalog.servers
    }
    for scenario, groups in pod_sets.items():
        r = spec.servers_lost
        # every pod with every server up; after a loss deferrable pods may wait
        cpu, memory = requests(groups)
        _n_plus_r(model, site, f"requested_cpu,{scenario}", cpu_caps, cpu, 0)
        _n_plus_r(model, site, f"requested_memory,{scenario}", mem_caps, memory, 0)
        must = tuple(g for g in groups if g.priority > PRIORITIES["deferrable"])
        cpu, memory = requests(must)
        _n_plus_r(model, site, f"requested_cpu_after_loss,{scenario}", cpu_caps, cpu, r)
        _n_plus_r(model, site, f"requested_memory_after_loss,{scenario}", mem_caps, memory, r)
        for label, pods, lost in (("", groups, 0), ("_after_loss", must, r)):
            define_pod_slots(model, site, f"{scenario}{label}", cpu_caps, mem_caps, pods, lost)


def define_pod_slots(
    model: Model,
    site: str,
    label: str,
    cpu_caps: dict[str, float],
    mem_caps: dict[str, float],
    groups: tuple[PodGroup, ...],
    r: int,
) -> None:
    """Large pods need servers of their own, which the summed requests do not see.

    For each request size t (of CPU, then of memory) of the pod set, the pods asking at
    least t number P_t; a server of SKU k holds at most
    s_k = min(floor(cap_k / t), sum over those workloads of their per-server cap) of them,
    so after losing the r servers with the most slots: N+r over s_k >= P_t
    (:func:`_n_plus_r`). A necessary condition of placement, so it cuts no fleet that
    places its pods; it spares the search the fleets the sums pass and placement rejects
    (ten 150 GiB pods on 256 GiB servers: one a server, not 1.7)."""
    for resource, caps in (("cpu", cpu_caps), ("memory", mem_caps)):
        size = {g.workload: g.cpu_cores if resource == "cpu" else g.memory_gib for g in groups}
        for t in sorted({v for v in size.values() if v > 0}):
            big = [g for g in groups if size[g.workload] >= t and g.replicas > 0]
            count = sum(g.replicas for g in big)
            spread = sum(g.max_per_server for g in big)
            slots = {k: float(min(math.floor(c / t + 1e-9), spread)) for k, c in caps.items()}
            if count > 0:
                _n_plus_r(model, site, f"slots_{resource}>={t:g},{label}", slots, count, r)


def define_pod_placement(
    model: Model, spec: Spec, catalog: Catalog, site: str, sizings: list[WorkloadSizing]
) -> None:
    """Each pod fits somewhere, with spread: sum_{k: pod fits k} n_k >= need_w.

    need_w = replicas_w + r for vertical workloads (one replica per server, anti-affinity),
    1 + r for horizontal ones.
    """
    for sizing in sizings:
        need = placement_need(sizing, spec)
        if need == 0:
            continue
        coeffs = {
            model.index[f"n[{site},{s.sku}]"]: 1.0
            for s in catalog.servers
            if pod_fits(s, spec, sizing)
        }
        model.row(f"placement[{site},{sizing.workload}]", coeffs, float(need))


def define_drive_layout(model: Model, spec: Spec, catalog: Catalog, env: SiteEnvelope) -> None:
    """Drives sit in the servers' bays, one drive model per site, spread evenly so that no
    server holds more than h drives; the data, its IOPS and its protection survive the loss
    of the r servers that hold the most.

    Variables: x_j (binary) chooses the drive model, d_j <= D_max x_j; y_h (binary,
    sum_h y_h = 1) chooses h; w_kh = n_k y_h (linearised: w_kh <= n_k, w_kh <= N y_h,
    w_kh >= n_k - N (1 - y_h)); p_jh = x_j y_h (p_jh >= x_j + y_h - 1). Then

        bays:     sum_j d_j <= sum_kh min(bays_k, h) w_kh
        after r:  sum_j v_j d_j - r sum_jh v_j h p_jh >= need_v    for each quantity v:
                  raw TiB (need S x overhead / fill), read IOPS (need R / c_io) and write
                  IOPS (need W x overhead / c_io), per drive v_j
        width:    sum_k n_k - r >= w and sum_j d_j - r >= w when S > 0
                  (w = k + m for erasure coding, n copies: each object spans w servers)

    Evenly spread (water-filling, :func:`planner.sizing.packing.place_drives`), the fullest
    server holds exactly the least feasible h, so these rows are exact for that layout.
    """
    from planner.inputs.units import TIB_PER_TB
    from planner.sizing.packing import protection_width

    site, r = env.site, spec.servers_lost
    big_n = 1000.0
    big_d = 100_000.0
    heights = range(max(s.drive_bays for s in catalog.servers) + 1)
    n = {s.sku: model.index[f"n[{site},{s.sku}]"] for s in catalog.servers}
    d = {j.sku: model.index[f"d[{site},{j.sku}]"] for j in catalog.drives}
    x = {j.sku: model.var(f"x[{site},{j.sku}]", integer=True, upper=1.0) for j in catalog.drives}
    y = {h: model.var(f"y[{site},h={h}]", integer=True, upper=1.0) for h in heights}
    model.row(f"one_drive_model[{site}]", dict.fromkeys(x.values(), 1.0), 0.0, 1.0)
    model.row(f"one_height[{site}]", dict.fromkeys(y.values(), 1.0), 1.0, 1.0)
    for sku, var in d.items():
        model.row(f"drive_model[{site},{sku}]", {var: 1.0, x[sku]: -big_d}, -np.inf, 0.0)
    bays: dict[int, float] = dict.fromkeys(d.values(), 1.0)
    for server in catalog.servers:
        k = server.sku
        for h in heights:
            w = model.var(f"w[{site},{k},h={h}]", integer=False)
            model.row(f"w_le_n[{site},{k},{h}]", {w: 1.0, n[k]: -1.0}, -np.inf, 0.0)
            model.row(f"w_le_y[{site},{k},{h}]", {w: 1.0, y[h]: -big_n}, -np.inf, 0.0)
            model.row(f"w_ge[{site},{k},{h}]", {w: 1.0, n[k]: -1.0, y[h]: -big_n}, -big_n)
            bays[w] = bays.get(w, 0.0) - float(min(server.drive_bays, h))
    model.row(f"drive_bays[{site}]", bays, -np.inf, 0.0)
    p = {}
    for j in catalog.drives:
        for h in heights:
            if h == 0 or r == 0:
                continue
            v = model.var(f"p[{site},{j.sku},h={h}]", integer=False, upper=1.0)
            model.row(f"p_ge[{site},{j.sku},{h}]", {v: 1.0, x[j.sku]: -1.0, y[h]: -1.0}, -1.0)
            p[(j.sku, h)] = v
    overhead = spec.protection.overhead
    quantities = (
        (
            "flash_capacity",
            lambda j: j.capacity_tb * TIB_PER_TB,
            env.design("stored_tib") * overhead / spec.fill_ceiling,
        ),
        (
            "read_iops",
            lambda j: float(j.read_iops),
            env.design("read_iops") / spec.drive_iops_ceiling,
        ),
        (
            "write_iops",
            lambda j: float(j.write_iops),
            env.design("write_iops") * overhead / spec.drive_iops_ceiling,
        ),
    )
    for name, value, need in quantities:
        coeffs = {d[j.sku]: value(j) for j in catalog.drives}
        for (drive_sku, h), v in p.items():
            coeffs[v] = -r * h * value(catalog.drive(drive_sku))
        model.row(f"{name}_after_loss[{site}]", coeffs, need)
    width = protection_width(spec)
    if env.design("stored_tib") > 0:
        model.row(f"protection_hosts[{site}]", dict.fromkeys(n.values(), 1.0), float(width + r))
        model.row(f"protection_drives[{site}]", dict.fromkeys(d.values(), 1.0), float(width + r))


def define_flash_endurance(model: Model, spec: Spec, catalog: Catalog, env: SiteEnvelope) -> None:
    """Rated writes over the service life cover the bytes written:

    sum_j d_j cap_j [TB] x DWPD_j x 365 x L >= written [TB] x WA x overhead.
    """
    life = spec.service_life_years
    coeffs = {
        model.index[f"d[{env.site},{d.sku}]"]: d.capacity_tb * d.dwpd * DAYS_PER_YEAR * life
        for d in catalog.drives
    }
    need_tb = env.written_tib_life / TIB_PER_TB * spec.write_amplification
    model.row(f"endurance[{env.site}]", coeffs, need_tb * spec.protection.overhead)


def define_energy(model: Model, spec: Spec, catalog: Catalog, env: SiteEnvelope) -> None:
    """Dynamic power of the mean load (busy cores B over the horizon):

    sum_{k,q} a_kq = B,   a_kq <= (C_k / 2) n_k,   cost(a_kq) = slope_kq x E
    (idle and drive watts are in the n and d costs). Convex curves make this exact.
    """
    per_watt = _energy_cost_per_watt(spec)
    total: dict[int, float] = {}
    for server in catalog.servers:
        n = model.index[f"n[{env.site},{server.sku}]"]
        for q, (cores, slope) in enumerate(segments(server)):
            a = model.var(f"a[{env.site},{server.sku},{q}]", integer=False, cost=slope * per_watt)
            total[a] = 1.0
            model.row(f"segment[{env.site},{server.sku},{q}]", {a: 1.0, n: -cores}, -np.inf, 0.0)
    model.row(f"mean_load[{env.site}]", total, env.mean_busy_cores, env.mean_busy_cores)


def define_design_load(
    model: Model, spec: Spec, catalog: Catalog, env: SiteEnvelope
) -> tuple[dict[int, float], float]:
    """The site's UPS load at its worst, as a linear expression plus a constant [W].

    The worst is the largest busy-core load B of any timestep of any scenario the site
    carries (grown to the horizon: the real peak, not the design percentile), placed as
    badly as the scheduler may place it: every busy core at the steepest chord w_k of its
    server's curve (:func:`~planner.sizing.server_power.server_watts_per_core`), which
    bounds every placement, packed or spread (:func:`site_power_worst_w`), so

        P_ups = sum_k P_idle,k n_k + p + sum_j P_j d_j + sum_o W_o x_o + P_other,
        p >= B w_k u_k  for every SKU k,  n_k <= N u_k  (u_k binary: SKU k is bought),

    with the drives' watts, the cooling options put on the UPS (x_o binary, W_o their
    draw) and the spec's other loads on the UPS (network, security appliances, cooling
    already on it: the constant P_other).
    """
    assert spec.power is not None
    site = env.site
    expression: dict[int, float] = {}
    spread = model.var(f"p_spread[{site}]", integer=False)
    expression[spread] = 1.0
    for server in catalog.servers:
        n = model.index[f"n[{site},{server.sku}]"]
        expression[n] = server.idle_w
        used = model.var(f"used[{site},{server.sku}]", integer=True, upper=1.0)
        model.row(f"server_used[{site},{server.sku}]", {n: 1.0, used: -MAX_SERVERS}, -np.inf, 0.0)
        slope = env.peak_busy_cores * server_watts_per_core(server)
        model.row(f"spread_power[{site},{server.sku}]", {spread: 1.0, used: -slope}, 0.0)
    for drive in catalog.drives:
        expression[model.index[f"d[{site},{drive.sku}]"]] = drive.watts
    for option in spec.power.cooling_options:
        x = model.var(
            f"cool[{site},{option.name}]",
            integer=True,
            upper=1.0,
            cost=option.price * _upkeep(spec),
        )
        expression[x] = option.ups_watts
    other = sum(load.watts for load in spec.power.ups_loads)
    if spec.power.room is not None:
        other += spec.power.room.cooling_on_ups_w
    return expression, other


def define_ups_power(
    model: Model, spec: Spec, catalog: Catalog, site: str, load: tuple[dict[int, float], float]
) -> None:
    """UPS frames carry the worst UPS load with the design margin after losing r of them.

    One frame model per site (y_u binary, sum_u y_u = 1, f_u <= F_max y_u), so losing r
    frames removes r x kW of the chosen model:

        sum_u kW_u 1000 (f_u - r y_u) >= K_margin x P_ups.
    """
    assert spec.power is not None
    expression, constant = load
    r = spec.power.ups_redundancy
    margin = spec.power.design_margin
    coeffs = {i: -c * margin for i, c in expression.items()}
    choice: dict[int, float] = {}
    for frame in catalog.ups_frames:
        f = model.var(f"f[{site},{frame.sku}]", integer=True, cost=frame.price * _upkeep(spec))
        y = model.var(f"y[{site},{frame.sku}]", integer=True, upper=1.0)
        model.row(f"ups_model[{site},{frame.sku}]", {f: 1.0, y: -MAX_UPS_FRAMES}, -np.inf, 0.0)
        coeffs[f] = frame.kw * 1000.0
        coeffs[y] = -r * frame.kw * 1000.0
        choice[y] = 1.0
    model.row(f"ups_one_model[{site}]", choice, 1.0, 1.0)
    model.row(f"ups_power[{site}]", coeffs, margin * constant)


def define_battery(
    model: Model, spec: Spec, catalog: Catalog, site: str, load: tuple[dict[int, float], float]
) -> None:
    """Battery strings behind the chosen frame model carry the worst UPS load for the
    required runtime T at end of life, with one string lost (:mod:`planner.power.battery`):

    for each (module m, frame u) pair whose string fits the frame's DC bus (s_mu modules),
    z_mu strings (integer) and w_mu (binary: this pair is the site's),

        sum_m w_mu = y_u,   S_min w_mu <= z_mu <= Z w_mu,
        sum_mu (z_mu - w_mu) P_mu(T) >= P_ups,

    with P_mu(T) the output power one string carries for T minutes at end of life
    (derated by K_temp K_aging K_margin). Cost: z_mu s_mu price_m x purchases x (1 + m Y).
    """
    from planner.power.battery import BatteryStrings
    from planner.power.ups import derating, purchases_over, site_required_runtime, string_options

    assert spec.power is not None
    expression, constant = load
    minutes = site_required_runtime(spec.power).minutes
    factors = derating(spec.power)
    carry = {i: -c for i, c in expression.items()}
    by_frame: dict[str, dict[int, float]] = {u.sku: {} for u in catalog.ups_frames}
    for option in string_options(catalog, spec.power):
        key = f"{site},{option.battery.sku},{option.frame.sku}"
        buys = purchases_over(spec.horizon_years, option.battery.service_life_years)
        price = option.modules_per_string * option.battery.price * buys * _upkeep(spec)
        z = model.var(f"z[{key}]", integer=True, cost=price)
        w = model.var(f"w[{key}]", integer=True, upper=1.0)
        strings = float(spec.power.min_battery_strings)
        model.row(f"strings_min[{key}]", {z: 1.0, w: -strings}, 0.0)
        model.row(f"strings_max[{key}]", {z: 1.0, w: -MAX_STRINGS}, -np.inf, 0.0)
        one = BatteryStrings(option.battery, option.frame, option.modules_per_string, 1)
        per_string = one.string_design_w(minutes, factors)
        carry[z] = per_string
        carry[w] = -per_string
        by_frame[option.frame.sku][w] = 1.0
    for frame in catalog.ups_frames:
        row = dict(by_frame[frame.sku])
        row[model.index[f"y[{site},{frame.sku}]"]] = -1.0
        model.row(f"battery_matches_frame[{site},{frame.sku}]", row, 0.0, 0.0)
    model.row(f"battery_one_string_lost[{site}]", carry, constant)


def define_thermal(
    model: Model, spec: Spec, site: str, load: tuple[dict[int, float], float]
) -> None:
    """The room stays under its inlet limit for the required runtime T on battery
    (:mod:`planner.power.thermal`): all the UPS load heats the room, the cooling on the
    UPS removes its part, and each cooling option chosen removes its average over T:

        P_ups - sum_o Q_o(T) x_o <= C (T_limit - T_start) / (60 T) + Q_base.
    """
    from planner.power.thermal import average_removal_w, heat_budget_w
    from planner.power.ups import site_required_runtime

    assert spec.power is not None
    assert spec.power.room is not None
    room = spec.power.room
    expression, constant = load
    minutes = site_required_runtime(spec.power).minutes
    coeffs = {i: -c for i, c in expression.items()}
    for option in spec.power.cooling_options:
        x = model.index[f"cool[{site},{option.name}]"]
        coeffs[x] = coeffs.get(x, 0.0) + average_removal_w(option, minutes)
    budget = heat_budget_w(room, minutes) + room.cooling_on_ups_removes_w
    model.row(f"thermal_ride_through[{site}]", coeffs, constant - budget)


def _upkeep(spec: Spec) -> float:
    return 1.0 + spec.maintenance_rate_per_year * spec.horizon_years


def define_rack_space(model: Model, catalog: Catalog, site: str, limit: int) -> None:
    """Servers fit the site's reserved space: sum_k U_k n_k <= U_max."""
    coeffs = {model.index[f"n[{site},{s.sku}]"]: float(s.rack_units) for s in catalog.servers}
    model.row(f"rack_units[{site}]", coeffs, -np.inf, float(limit))


def _energy_cost_per_watt(spec: Spec) -> float:
    return spec.pue * spec.energy_price_per_kwh * HOURS_PER_YEAR * spec.horizon_years / 1000.0


def solve(model: Model, options: ModelOptions) -> tuple[np.ndarray, float, float] | None:
    """Solve with HiGHS. Returns (x, objective, gap), or None when proven infeasible."""
    rows, cols, vals = [], [], []
    for i, coeffs in enumerate(model.rows):
        for j, value in coeffs.items():
            rows.append(i)
            cols.append(j)
            vals.append(value)
    matrix = coo_array((vals, (rows, cols)), shape=(len(model.rows), len(model.names))).tocsr()
    result = milp(
        c=np.array(model.cost),
        integrality=np.array(model.integer),
        bounds=Bounds(np.zeros(len(model.names)), np.array(model.upper)),
        constraints=LinearConstraint(matrix, np.array(model.row_lb), np.array(model.row_ub)),
        options={
            "time_limit": options.time_limit_s,
            "mip_rel_gap": options.mip_rel_gap,
            "presolve": True,
        },
    )
    if result.status == 2:
        return None
    if result.status != 0 or result.x is None:
        raise SolverError(f"the MILP solver stopped without a proven optimum: {result.message}")
    gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
    return np.asarray(result.x), float(result.fun), gap


def extract_fleets(
    model: Model, x: np.ndarray, spec: Spec, catalog: Catalog
) -> tuple[SiteFleet, ...]:
    """Write-back: integer counts per SKU per site (rounded: HiGHS returns 3.0000000001)."""
    from planner.power.ups import string_options

    fleets = []
    for site in spec.site_names:
        servers = {s.sku: round(x[model.index[f"n[{site},{s.sku}]"]]) for s in catalog.servers}
        drives = {d.sku: round(x[model.index[f"d[{site},{d.sku}]"]]) for d in catalog.drives}
        batteries: dict[str, int] = {}
        strings = 0
        if spec.power is not None:
            for option in string_options(catalog, spec.power):
                name = f"z[{site},{option.battery.sku},{option.frame.sku}]"
                count = round(x[model.index[name]])
                if count:
                    strings += count
                    sku = option.battery.sku
                    batteries[sku] = batteries.get(sku, 0) + count * option.modules_per_string
        ups = {
            u.sku: round(x[model.index[name]])
            for u in catalog.ups_frames
            if (name := f"f[{site},{u.sku}]") in model.index
        }
        cooling = tuple(
            option.name
            for option in (spec.power.cooling_options if spec.power is not None else ())
            if round(x[model.index[f"cool[{site},{option.name}]"]])
        )
        fleets.append(
            SiteFleet(site, servers, drives, batteries, ups, strings, cooling).without_zeros()
        )
    return tuple(fleets)
