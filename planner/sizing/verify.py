"""Independent verification: replay every timestep of every scenario against a fleet.

This module deliberately shares no constraint code with :mod:`planner.sizing.model` or
:mod:`planner.sizing.envelope`: it rebuilds each scenario's load from the raw profile cube,
takes N+r by sorting the actual servers and dropping the r largest, and counts, per
timestep, where demand exceeds capacity. A percentile-sized constraint passes when the
number of exceeding timesteps is within floor(n (100 - p) / 100).

Every check reports its margin (capacity minus the design demand it saw) and whether
it binds: the margin is smaller than one unit of the smallest item that counts towards
it, so one item fewer would break it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from planner.inputs.catalog import Catalog
from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec
from planner.inputs.units import BYTES_PER_MIB, BYTES_PER_TB, SECONDS_PER_YEAR, allowed_exceedances
from planner.sizing.fleet import SiteFleet, survivors
from planner.sizing.verify_placement import check_pod_placement, check_storage_after_loss
from planner.sizing.workloads import WorkloadSizing

REL_TOL = 1e-7  # relative slack for float noise only


@dataclass(frozen=True)
class Check:
    name: str
    site: str
    scenario: str
    unit: str
    capacity: float
    demand: float
    ok: bool
    binding: bool
    exceedances: int = 0
    allowed: int = 0
    kind: str = "capacity"  # or "floor": a minimum count that holds by construction
    peak: float | None = None  # the real (un-percentiled) peak of the load
    overshoot_pct: float = 0.0  # how far the peak exceeds the capacity, % of capacity
    longest_overload_min: float = 0.0  # the longest continuous run above the capacity
    overload_min: float = 0.0  # all minutes above the capacity
    peak_pct_of_physical: float | None = None  # the peak against the servers' raw cores/GiB

    @property
    def margin(self) -> float:
        return self.capacity - self.demand

    @property
    def margin_ratio(self) -> float:
        """Margin as a share of capacity; +inf with no demand and no capacity (nothing to
        carry), -inf with demand and no capacity."""
        if self.capacity > 0:
            return self.margin / self.capacity
        return float("inf") if self.no_demand else float("-inf")

    @property
    def no_demand(self) -> bool:
        return self.demand <= 0

    def describe(self) -> str:
        where = f"{self.site}/{self.scenario}" if self.scenario else self.site
        if self.no_demand:
            return f"{self.name} at {where}: capacity {self.capacity:,.1f} {self.unit}, no demand"
        return (
            f"{self.name} at {where}: capacity {self.capacity:,.1f} {self.unit}, demand "
            f"{self.demand:,.1f} {self.unit} (margin {100 * self.margin_ratio:.1f} %)"
        )


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def tightest(self, count: int, kind: str = "capacity") -> list[Check]:
        """The ``count`` checks of ``kind`` with the least margin (floors are listed apart:
        they hold by construction and always look binding)."""
        ranked = sorted(
            (c for c in self.checks if c.kind == kind),
            key=lambda c: (c.margin_ratio, c.name, c.site, c.scenario),
        )
        return ranked[:count]


def verified(
    profile: Profile,
    spec: Spec,
    catalog: Catalog,
    fleets: tuple[SiteFleet, ...],
    sizings: tuple[WorkloadSizing, ...],
) -> Report:
    """:func:`verify_plan`, raising VerificationError with every failure when one fails."""
    from planner.errors import VerificationError

    report = verify_plan(profile, spec, catalog, fleets, sizings)
    if not report.ok:
        raise VerificationError([c.describe() for c in report.failures()])
    return report


def verify_plan(
    profile: Profile,
    spec: Spec,
    catalog: Catalog,
    fleets: tuple[SiteFleet, ...],
    sizings: tuple[WorkloadSizing, ...],
) -> Report:
    """Replay the whole profile against ``fleets`` and report every constraint."""
    checks: list[Check] = []
    for fleet in fleets:
        checks.extend(_site_checks(profile, spec, catalog, fleet, sizings))
        if spec.link is not None:
            round_trip_ms = 2 * spec.link.distance_km * spec.link.fibre_us_per_km / 1000.0
            checks.append(
                _simple_check(
                    "inter-site link: commit latency added by synchronous replication",
                    fleet.site,
                    "ms",
                    spec.link.latency_budget_ms,
                    round_trip_ms,
                    0.0,
                )
            )
    return Report(tuple(checks))


def _scenario_load(
    profile: Profile, spec: Spec, site: str, lost_site: str | None, metric: str
) -> npt.NDArray[np.float64]:
    """Load on ``site`` per timestep, grown to the horizon's end, rebuilt from the cube."""
    cube = profile.values[metric]
    here = profile.sites.index(site)
    total = np.zeros(profile.n_steps)
    for w, workload in enumerate(spec.workloads):
        g = (workload.growth_per_year or {}).get(metric, spec.growth_per_year[metric])
        growth = (1.0 + g) ** spec.horizon_years
        if lost_site is None:
            if metric in ("write_iops", "write_mib_s", "stored_tib"):
                for s in range(len(profile.sites)):  # each site keeps a full copy
                    total += growth * cube[s, w]
            else:
                total += growth * cube[here, w]
        else:
            share = 1.0 if metric == "stored_tib" else workload.failover_fraction
            for s in range(len(profile.sites)):
                total += growth * share * cube[s, w]
    return total


def _percentile_check(
    name: str,
    site: str,
    scenario: str,
    unit: str,
    load: npt.NDArray[np.float64],
    capacity: float,
    percentile: float,
    smallest_unit: float,
    *,
    step_s: float = 60.0,
    spec: Spec | None = None,
    physical: float | None = None,
) -> Check:
    """Percentile sizing, and what it leaves out: the real peak, how far above the
    capacity it goes, the longest run above it and all minutes above it. The spec's
    ``overload`` bounds, where set, must hold too."""
    allowed = allowed_exceedances(load.shape[0], percentile)
    above = load > capacity * (1 + REL_TOL) + 1e-9
    over = int(np.count_nonzero(above))
    ranked = np.sort(load)[::-1]
    demand = float(ranked[allowed])  # the largest load that must be served
    margin = capacity - demand
    peak = float(ranked[0]) if ranked.size else 0.0
    overshoot = (
        max(0.0, peak / capacity - 1.0) * 100 if capacity > 0 else (100.0 if peak > 0 else 0.0)
    )
    minutes = step_s / 60.0
    ok = over <= allowed
    if spec is not None:
        bounds = spec.overload
        if bounds.max_overshoot is not None:
            ok = ok and overshoot <= 100 * bounds.max_overshoot * (1 + 1e-9) + 1e-9
        if bounds.max_overload_minutes is not None:
            ok = ok and over * minutes <= bounds.max_overload_minutes + 1e-9
    return Check(
        name=name,
        site=site,
        scenario=scenario,
        unit=unit,
        capacity=capacity,
        demand=demand,
        ok=ok,
        binding=margin < smallest_unit,
        exceedances=over,
        allowed=allowed,
        peak=peak,
        overshoot_pct=overshoot,
        longest_overload_min=_longest_run(above) * minutes,
        overload_min=over * minutes,
        peak_pct_of_physical=100 * peak / physical if physical else None,
    )


def _longest_run(mask: npt.NDArray[np.bool_]) -> int:
    """Length of the longest run of True."""
    if not mask.any():
        return 0
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())


def _simple_check(
    name: str, site: str, unit: str, capacity: float, demand: float, smallest_unit: float
) -> Check:
    ok = demand <= capacity * (1 + REL_TOL) + 1e-9
    return Check(
        name=name,
        site=site,
        scenario="",
        unit=unit,
        capacity=capacity,
        demand=demand,
        ok=ok,
        binding=capacity - demand < smallest_unit,
    )


def _power_checks(spec: Spec, catalog: Catalog, fleet: SiteFleet, peak_cpu: float) -> list[Check]:
    """The power chain at the site's real peak CPU load (any timestep, any scenario),
    placed as badly as the scheduler may (packed onto the fewest servers): UPS power
    after losing r frames, string voltage on the frames' DC bus, battery runtime at end
    of life with one string lost, and the room's thermal ride-through. Computed here from
    the SPECpower points and the data sheet's curve, not from the model's linear bounds."""
    if spec.power is None:
        return []
    from planner.power.battery import curve_of
    from planner.power.thermal import minutes_to_limit
    from planner.power.ups import derating, site_required_runtime

    power = spec.power
    site = fleet.site
    # the worst placement: busy cores packed onto the fewest servers, the steepest first
    # (on a convex curve a full server draws more than two half-busy ones)
    boxes = sorted(
        (catalog.server(k) for k, n in fleet.servers.items() for _ in range(n)),
        key=lambda sv: -(sv.full_w - sv.idle_w) / sv.ref_cores,
    )
    left = peak_cpu
    load_w = 0.0
    for sv in boxes:
        busy = min(left, sv.ref_cores)
        left -= busy
        u = busy / sv.ref_cores
        load_w += float(np.interp(u, [0.0, 0.5, 1.0], [sv.idle_w, sv.half_w, sv.full_w]))
    load_w += sum(n * catalog.drive(k).watts for k, n in fleet.drives.items())
    load_w += sum(x.watts for x in power.ups_loads)
    load_w += power.room.cooling_on_ups_w if power.room is not None else 0.0
    options = [o for o in power.cooling_options if o.name in fleet.cooling]
    load_w += sum(o.ups_watts for o in options)
    required = site_required_runtime(power).minutes
    frames = [catalog.ups_frame(k) for k, n in fleet.ups.items() for _ in range(n)]
    r = power.ups_redundancy
    surviving_kw = sum(sorted((f.kw for f in frames), reverse=True)[r:])
    checks = [
        _simple_check(
            f"UPS power after losing {r} frame(s) (peak load x margin)",
            site,
            "kW",
            surviving_kw,
            load_w * power.design_margin / 1000.0,
            min((f.kw for f in frames), default=0.0),
        )
    ]
    if len(fleet.batteries) != 1 or len(fleet.ups) != 1 or fleet.strings < 1:
        checks.append(_simple_check("battery strings of one model", site, "models", 0.0, 1.0, 1.0))
        return checks
    battery = catalog.battery(next(iter(fleet.batteries)))
    frame = frames[0]
    modules = fleet.batteries[battery.sku]
    per_string = modules // fleet.strings
    string_v = per_string * battery.module_v
    checks.append(
        _floor(
            _simple_check(
                "battery strings",
                site,
                "strings",
                float(fleet.strings),
                float(power.min_battery_strings),
                1.0,
            )
        )
    )
    checks.append(
        _simple_check(
            "battery string voltage on the frame's DC bus",
            site,
            "V",
            string_v if frame.dc_min_v <= string_v <= frame.dc_max_v else 0.0,
            frame.dc_min_v,
            battery.module_v,
        )
    )
    checks[-1] = _floor(checks[-1])
    k = derating(power).factor
    curve = curve_of(battery)

    def runtime(strings: int) -> float:
        if strings <= 0:
            return 0.0
        per_module_kw = load_w * k / (frame.efficiency * strings * per_string) / 1000.0
        return curve.minutes(per_module_kw / battery.max_kw)

    lost_one = runtime(fleet.strings - 1)
    checks.append(
        _simple_check(
            "battery runtime at peak load, end of life, one string lost",
            site,
            "min",
            lost_one,
            required,
            lost_one - runtime(fleet.strings - 2),
        )
    )
    if power.room is not None:
        minutes = minutes_to_limit(power.room, load_w, options)
        checks.append(
            _simple_check(
                "room under its inlet limit on battery (thermal ride-through)",
                site,
                "min",
                min(minutes, 1e9),
                required,
                1.0,
            )
        )
    return checks


def _site_checks(
    profile: Profile,
    spec: Spec,
    catalog: Catalog,
    fleet: SiteFleet,
    sizings: tuple[WorkloadSizing, ...],
) -> list[Check]:
    site = fleet.site
    other = next(s for s in spec.site_names if s != site)
    servers = [catalog.server(sku) for sku, n in sorted(fleet.servers.items()) for _ in range(n)]
    drives = [catalog.drive(sku) for sku, n in sorted(fleet.drives.items()) for _ in range(n)]
    r = spec.servers_lost
    checks: list[Check] = []

    cpu_each = [
        s.usable_cores(spec.node_cpu_reserved(s.drive_bays)) * spec.cpu_ceiling for s in servers
    ]
    mem_each = [
        max(0.0, s.memory_gib - spec.node_memory_reserved(s.drive_bays)) * spec.memory_ceiling
        for s in servers
    ]
    for lost_site, scenario in ((None, "normal"), (other, f"lost-{other}")):
        for metric, each, unit in (
            ("cpu_cores", cpu_each, "cores"),
            ("memory_gib", mem_each, "GiB"),
        ):
            kept = sorted(each, reverse=True)[r:]  # the r largest servers are lost
            smallest = min(each) if each else 0.0
            ceiling = spec.cpu_ceiling if metric == "cpu_cores" else spec.memory_ceiling
            checks.append(
                _percentile_check(
                    f"{metric} N+{r}",
                    site,
                    scenario,
                    unit,
                    _scenario_load(profile, spec, site, lost_site, metric),
                    float(sum(kept)),
                    spec.percentile[metric],
                    smallest,
                    step_s=profile.step_s,
                    spec=spec,
                    physical=float(sum(kept)) / ceiling,
                )
            )
        read_cap = sum(d.read_iops for d in drives) * spec.drive_iops_ceiling
        write_cap = sum(d.write_iops for d in drives) * spec.drive_iops_ceiling
        overhead = spec.protection.overhead
        checks.append(
            _percentile_check(
                "read_iops",
                site,
                scenario,
                "IOPS",
                _scenario_load(profile, spec, site, lost_site, "read_iops"),
                read_cap,
                spec.percentile["read_iops"],
                min((d.read_iops * spec.drive_iops_ceiling for d in drives), default=0.0),
                step_s=profile.step_s,
                spec=spec,
            )
        )
        checks.append(
            _percentile_check(
                "write_iops (raw, after protection)",
                site,
                scenario,
                "IOPS",
                _scenario_load(profile, spec, site, lost_site, "write_iops") * overhead,
                write_cap,
                spec.percentile["write_iops"],
                min((d.write_iops * spec.drive_iops_ceiling for d in drives), default=0.0),
                step_s=profile.step_s,
                spec=spec,
            )
        )

    peak_cpu = max(
        float(_scenario_load(profile, spec, site, lost, "cpu_cores").max())
        for lost in (None, other)
    )
    checks.extend(_power_checks(spec, catalog, fleet, peak_cpu))

    stored = float(_scenario_load(profile, spec, site, None, "stored_tib").max())
    usable_each = [
        d.capacity_tb * BYTES_PER_TB / 2**40 * spec.fill_ceiling / spec.protection.overhead
        for d in drives
    ]
    checks.append(
        _simple_check(
            "flash usable capacity",
            site,
            "TiB",
            float(sum(usable_each)),
            stored,
            min(usable_each, default=0.0),
        )
    )

    life = spec.service_life_years
    # bytes written over the service life: each workload's mean write rate times the mean
    # of (1 + g)^t over the life (trapezoid rule on a fine grid)
    years = np.linspace(0.0, life, 10_001)
    cube = profile.values["write_mib_s"]
    mib_s = 0.0
    for w, workload in enumerate(spec.workloads):
        g = (workload.growth_per_year or {}).get("write_mib_s", spec.growth_per_year["write_mib_s"])
        mean_growth = float(np.trapezoid((1.0 + g) ** years, years) / life)
        mib_s += float(cube[:, w].sum(axis=0).mean()) * mean_growth
    written_tb = mib_s * BYTES_PER_MIB * SECONDS_PER_YEAR * life / BYTES_PER_TB
    need_tb = written_tb * spec.write_amplification * spec.protection.overhead
    rated_each = [d.capacity_tb * d.dwpd * 365 * life for d in drives]
    checks.append(
        _simple_check(
            "flash endurance (TB written over service life)",
            site,
            "TB",
            float(sum(rated_each)),
            need_tb,
            min(rated_each, default=0.0),
        )
    )

    bays = sum(s.drive_bays for s in servers)
    checks.append(
        _simple_check(
            "drive bays",
            site,
            "bays",
            float(bays),
            float(len(drives)),
            float(min((s.drive_bays for s in servers), default=0)),
        )
    )
    limit = next(s.max_rack_units for s in spec.sites if s.name == site)
    if limit is not None:
        used = sum(s.rack_units for s in servers)
        one_server = float(min((sv.rack_units for sv in servers), default=0))
        checks.append(_simple_check("rack space", site, "U", float(limit), float(used), one_server))

    for z in sizings:
        if z.site != site or z.replicas_max == 0:
            continue
        hosts = [
            s
            for s in servers
            if z.cpu_request_cores <= s.usable_cores(spec.node_cpu_reserved(s.drive_bays)) + 1e-9
            and z.memory_request_gib
            <= s.memory_gib - spec.node_memory_reserved(s.drive_bays) + 1e-9
        ]
        need = (z.replicas_max if z.anti_affinity else 1) + r
        checks.append(
            _floor(
                _simple_check(
                    f"placement {z.workload} (servers able to host a pod, N+{r})",
                    site,
                    "servers",
                    float(len(hosts)),
                    float(need),
                    1.0,
                )
            )
        )
    checks.extend(_placement_checks(fleet, catalog, spec, sizings))
    read_design = max(c.demand for c in checks if c.name == "read_iops")
    write_design = (
        max(c.demand for c in checks if c.name.startswith("write_iops (raw"))
        / spec.protection.overhead
    )
    # one drive fewer of any model, laid out the same way: which checks would then fail
    short = {
        item.name
        for k in sorted(fleet.drives)
        for item in check_storage_after_loss(
            replace(fleet, drives=survivors(fleet.drives, {k: 1})),
            catalog,
            spec,
            stored,
            read_design,
            write_design,
        )
        if item.left < item.need * (1 - REL_TOL) - 1e-9
    }
    for item in check_storage_after_loss(fleet, catalog, spec, stored, read_design, write_design):
        check = _simple_check(item.name, site, item.unit, item.left, item.need, 0.0)
        fewer = item.left - item.need < 1.0 if item.unit == "servers" else item.name in short
        check = replace(check, binding=fewer or item.left < item.need)
        checks.append(_floor(check) if item.unit == "servers" else check)
    return checks


def _floor(check: Check) -> Check:
    return replace(check, kind="floor")


def _placement_checks(
    fleet: SiteFleet, catalog: Catalog, spec: Spec, sizings: tuple[WorkloadSizing, ...]
) -> list[Check]:
    """Every scenario's declared pods, placed pod by pod after each distinct loss of r
    servers. It passes when every loss leaves a placement of every pod; capacity and
    demand report the allocatable CPU after the worst loss against the pods' requests.
    It decides the server count (binding) when one server fewer of some model, placed the
    same way, leaves a pod out: tried, not estimated from the CPU margin (memory, the
    spread rules and the pods' sizes decide as often)."""
    out = []
    fewer = [
        replace(fleet, servers=survivors(fleet.servers, {k: 1})) for k in sorted(fleet.servers)
    ]
    breaks = {
        r.scenario
        for f in fewer
        for r in check_pod_placement(f, catalog, spec, sizings)
        if r.placed < r.losses
    }
    for result in check_pod_placement(fleet, catalog, spec, sizings):
        ok = result.placed == result.losses
        out.append(
            Check(
                name=f"pods placed after losing any {spec.servers_lost} server(s)"
                + ("" if ok else f" (FAILS after losing {result.failed_loss})"),
                site=fleet.site,
                scenario=result.scenario,
                unit="cores requested",
                capacity=result.least_allocatable_cpu,
                demand=result.requested_cpu,
                ok=ok,
                binding=result.scenario in breaks,
            )
        )
    return out
