"""The planning spec: sites, workloads, horizon, growth, ceilings, redundancy, storage, costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import InputError
from planner.inputs.measured import MeasuredOn, read_measured_on
from planner.inputs.units import METRICS
from planner.inputs.yaml_loader import Node, load_yaml_mapping

CRITICALITIES = ("critical", "degradable", "deferrable")
SCALINGS = ("horizontal", "vertical")
#: Metrics sized at a percentile (the others: stored_tib at its maximum, write_mib_s at its mean).
PERCENTILE_METRICS = ("cpu_cores", "memory_gib", "read_iops", "write_iops")


@dataclass(frozen=True)
class Site:
    name: str
    max_rack_units: int | None = None


@dataclass(frozen=True)
class Workload:
    """One clinical or supporting service.

    ``failover_fraction`` is the share of its load that must keep running in a
    lost-site scenario: 1 for critical, the stated fraction for degradable, 0 for
    deferrable. Horizontal workloads scale by replicas of a fixed size
    (``replica_cpu_cores``, ``replica_memory_gib``); vertical ones run a fixed number of
    ``replicas`` per site, each sized from the load.
    """

    name: str
    criticality: str
    failover_fraction: float
    scaling: str
    replica_cpu_cores: float | None
    replica_memory_gib: float | None
    replicas: int | None
    min_replicas: int
    stateful: bool
    growth_per_year: dict[str, float] | None = None  # overrides the spec's, per metric


@dataclass(frozen=True)
class Protection:
    """Storage protection inside a site: ``copies`` replicas, or erasure coding data+parity."""

    scheme: str
    copies: int = 1
    data: int = 1
    parity: int = 0

    @property
    def overhead(self) -> float:
        """Raw bytes stored per usable byte: n for replicas, (k + m) / k for erasure coding."""
        if self.scheme == "replicas":
            return float(self.copies)
        return (self.data + self.parity) / self.data


@dataclass(frozen=True)
class GridOutages:
    """Grid outages at one site: a Poisson rate and a duration distribution.

    ``distribution`` is ``exponential`` (``mean_minutes``) or ``lognormal``
    (``p50_minutes``, ``p95_minutes``).
    """

    outages_per_year: float
    distribution: str
    mean_minutes: float = 0.0
    p50_minutes: float = 0.0
    p95_minutes: float = 0.0
    regional_outages_per_year: float = 0.0  # outages that hit both sites at once


@dataclass(frozen=True)
class UpsLoad:
    """A load on each site's UPS besides servers and drives, with its source."""

    name: str
    watts: float
    source: str


@dataclass(frozen=True)
class Room:
    """The IT room for the thermal ride-through (lumped heat-up model).

    Air volume [m3] and an effective thermal mass [kJ/K] of what warms with the air in
    the first minutes; inlet temperature at the start and its limit [C]; cooling that
    keeps running on the UPS [W of heat removed] and the UPS power it draws [W].
    """

    air_volume_m3: float
    thermal_mass_kj_per_k: float
    start_c: float
    limit_c: float
    cooling_on_ups_removes_w: float = 0.0
    cooling_on_ups_w: float = 0.0


@dataclass(frozen=True)
class CoolingOption:
    """Cooling the sizing may put on the UPS: draws ``ups_watts``, removes ``removes_w``
    of heat while its store lasts (``stored_kwh``, 0 for no store limit), for ``price``."""

    name: str
    ups_watts: float
    removes_w: float
    stored_kwh: float
    price: float
    source: str


@dataclass(frozen=True)
class Recovery:
    """Restart after a site went dark uncleanly, stage by stage [min]."""

    core_network_min: float
    storage_min: float
    databases_min: float
    applications_min: float

    @property
    def total_min(self) -> float:
        return self.core_network_min + self.storage_min + self.databases_min + self.applications_min


@dataclass(frozen=True)
class AsReported:
    """The incident as published (Computerworld Denmark 228721, 228725, 228744): the UPS
    carried the room 27 min, the grid was back after 31 min, the core network about 3.5 h
    and the patient record about 7.5 h after the start; the standby could not be started.
    The defaults; a spec's ``power.as_was.as_reported`` overrides any of them."""

    ups_minutes: float = 27.0
    grid_minutes: float = 31.0
    core_network_back_at_min: float = 210.0
    patient_record_back_at_min: float = 450.0
    standby_works: bool = False

    @property
    def recovery_minutes(self) -> float:
        """The restart after the room went dark: from the grid's return to the record."""
        return self.patient_record_back_at_min - self.grid_minutes


@dataclass(frozen=True)
class PowerSpec:
    """The power chain: UPS battery, generator, failover, accepted risk, grid, as-was design."""

    chemistry: str
    temperature_c: float
    design_margin: float
    generator_start_s: float
    generator_transfer_s: float
    generator_stabilise_s: float
    generator_fail_to_start: float
    generator_fail_to_run_per_hour: float
    failover_p50_min: float
    failover_p95_min: float
    shutdown_min: float
    failover_failure_probability: float
    accepted_risk: float
    grid: GridOutages
    as_was_ups_runtime_min: float
    as_was_standby_takeover_min: float
    as_was_standby_failure_probability: float
    ups_redundancy: int = 1  # UPS frames: N+r, one frame model per site
    min_battery_strings: int = 2  # parallel strings, so one string fault does not drop the load
    ups_loads: tuple[UpsLoad, ...] = ()
    room: Room | None = None
    cooling_options: tuple[CoolingOption, ...] = ()
    recovery: Recovery = Recovery(0.0, 0.0, 0.0, 0.0)
    as_was_recovery: Recovery | None = None  # None: the same as ``recovery``
    as_reported: AsReported = AsReported()  # the incident's figures for the as-reported replay
    max_runtime_min: float = 120.0


@dataclass(frozen=True)
class OverloadBounds:
    """How far and how long the real load may exceed the sized capacity (None: unbounded).

    ``max_overshoot``: the real peak at most this fraction above the sized capacity;
    ``max_overload_minutes``: at most this many minutes above it over the profile.
    """

    max_overshoot: float | None = None
    max_overload_minutes: float | None = None


@dataclass(frozen=True)
class LinkSpec:
    """The link between the sites that synchronous replication crosses.

    ``distance_km`` of fibre route; ``latency_budget_ms`` the commit latency the
    replication may add; ``paths`` diverse paths, each able to carry the peak alone
    (N+1 = 2); ``protocol_overhead`` on top of the payload; ``copies_crossing`` copies of
    each committed write sent to the other site; ``replicated_workloads`` (default: the
    stateful ones).
    """

    distance_km: float
    latency_budget_ms: float
    paths: int = 2
    protocol_overhead: float = 1.1
    copies_crossing: int = 1
    replicated_workloads: tuple[str, ...] | None = None
    fibre_us_per_km: float = 5.0


@dataclass(frozen=True)
class Spec:
    name: str
    currency: str
    sites: tuple[Site, Site]
    workloads: tuple[Workload, ...]
    horizon_years: float
    growth_per_year: dict[str, float]
    percentile: dict[str, float]
    cpu_ceiling: float
    memory_ceiling: float
    drive_iops_ceiling: float
    reserved_cpu_cores: float  # per server: kubelet and system daemons
    reserved_memory_gib: float
    servers_lost: int
    protection: Protection
    fill_ceiling: float
    write_amplification: float
    service_life_years: float
    pue: float
    energy_price_per_kwh: float
    maintenance_rate_per_year: float
    derived_metrics: dict[str, tuple[str, float]]
    allowed_servers: tuple[str, ...] | None = None
    allowed_drives: tuple[str, ...] | None = None
    power: PowerSpec | None = None
    max_pod_share_per_server: float = 0.25
    hot_failover: bool = True
    witness_votes: int = 1
    overload: OverloadBounds = OverloadBounds()
    link: LinkSpec | None = None
    #: costs in later years are divided by (1 + r)^t (0: undiscounted, the plan's TCO)
    discount_rate_per_year: float = 0.0
    #: yearly fall of purchase prices per SKU class (servers, drives, batteries,
    #: ups_frames) for phased purchasing, and where the rates come from
    price_decline_per_year: dict[str, float] = field(default_factory=dict)
    price_decline_source: str = ""
    #: the hardware the profile's CPU was measured on (None: CPU is not normalised)
    measured_on: MeasuredOn | None = None
    #: reserved per drive bay for the storage daemon (a Ceph OSD) each drive runs
    reserved_cpu_cores_per_drive: float = 0.0
    reserved_memory_gib_per_drive: float = 0.0
    reserved_per_drive_source: str = ""

    def node_cpu_reserved(self, drive_bays: int) -> float:
        """Cores a server with ``drive_bays`` bays keeps from pods: kubelet and system
        daemons, and one storage daemon per bay (a bay filled later brings its daemon
        without a new reservation, so every bay is counted)."""
        return self.reserved_cpu_cores + drive_bays * self.reserved_cpu_cores_per_drive

    def node_memory_reserved(self, drive_bays: int) -> float:
        """GiB a server with ``drive_bays`` bays keeps from pods (as :meth:`node_cpu_reserved`)."""
        return self.reserved_memory_gib + drive_bays * self.reserved_memory_gib_per_drive

    @property
    def site_names(self) -> tuple[str, str]:
        return (self.sites[0].name, self.sites[1].name)

    def growth_rates(self, metric: str) -> list[float]:
        """Yearly growth of ``metric`` for each workload, in workload order (the spec's
        rate unless the workload overrides it)."""
        return [
            (w.growth_per_year or {}).get(metric, self.growth_per_year[metric])
            for w in self.workloads
        ]

    def workload(self, name: str) -> Workload:
        for workload in self.workloads:
            if workload.name == name:
                return workload
        raise KeyError(name)


#: SKU classes whose prices may fall year by year (costs.price_decline_per_year)
PRICE_CLASSES = ("servers", "drives", "batteries", "ups_frames")

TOP_KEYS = {
    "version",
    "measured_on",
    "name",
    "currency",
    "sites",
    "workloads",
    "horizon_years",
    "growth_per_year",
    "sizing_percentile",
    "utilisation_ceiling",
    "node_reserved",
    "redundancy",
    "storage",
    "costs",
    "derived_metrics",
    "catalog_filter",
    "power",
    "overload",
    "link",
}


def read_spec(path: Path) -> Spec:
    """Read and validate a planning spec YAML file."""
    return spec_from_mapping(load_yaml_mapping(path), str(path))


def spec_from_mapping(data: dict[str, Any], source: str) -> Spec:
    """Validate a planning spec already loaded (``source`` names it in errors)."""
    root = Node(source, data)
    root.reject_unknown(TOP_KEYS)
    version = root.integer("version", minimum=1)
    if version != 1:
        raise root.error("version", f"expected 1, got {version}")

    sites = _read_sites(root)
    workloads = _read_workloads(root)

    growth_node = root.child("growth_per_year")
    growth_node.reject_unknown(set(METRICS))
    growth = {m: growth_node.number(m, default=0.0, minimum=-0.5, maximum=5.0) for m in METRICS}

    percentile = _read_percentiles(root)

    ceiling = root.child("utilisation_ceiling")
    ceiling.reject_unknown({"cpu", "memory", "drive_iops"})
    reserved = root.child("node_reserved") if root.has("node_reserved") else None
    per_drive = None
    if reserved is not None:
        reserved.reject_unknown({"cpu_cores", "memory_gib", "per_drive"})
        per_drive = reserved.child("per_drive") if reserved.has("per_drive") else None
    if per_drive is not None:
        per_drive.reject_unknown({"cpu_cores", "memory_gib", "source"})

    redundancy = root.child("redundancy")
    redundancy.reject_unknown(
        {"servers", "max_pod_share_per_server", "hot_failover", "witness_votes"}
    )

    storage = root.child("storage")
    storage.reject_unknown(
        {"protection", "fill_ceiling", "write_amplification", "service_life_years"}
    )
    costs = root.child("costs")
    costs.reject_unknown(
        {
            "pue",
            "energy_price_per_kwh",
            "maintenance_rate_per_year",
            "discount_rate_per_year",
            "price_decline_per_year",
        }
    )
    decline: dict[str, float] = {}
    decline_source = ""
    if costs.has("price_decline_per_year"):
        node = costs.child("price_decline_per_year")
        node.reject_unknown({*PRICE_CLASSES, "source"})
        decline = {c: node.number(c, minimum=0, maximum=0.9) for c in PRICE_CLASSES if node.has(c)}
        decline_source = node.string("source")

    return Spec(
        name=root.string("name"),
        currency=root.string("currency"),
        sites=sites,
        workloads=workloads,
        horizon_years=root.number("horizon_years", exclusive_minimum=0, maximum=30),
        growth_per_year=growth,
        percentile=percentile,
        cpu_ceiling=ceiling.number("cpu", exclusive_minimum=0, maximum=1),
        memory_ceiling=ceiling.number("memory", exclusive_minimum=0, maximum=1),
        drive_iops_ceiling=ceiling.number("drive_iops", exclusive_minimum=0, maximum=1),
        reserved_cpu_cores=0.0 if reserved is None else reserved.number("cpu_cores", minimum=0),
        reserved_memory_gib=0.0 if reserved is None else reserved.number("memory_gib", minimum=0),
        reserved_cpu_cores_per_drive=0.0
        if per_drive is None
        else per_drive.number("cpu_cores", minimum=0, maximum=64),
        reserved_memory_gib_per_drive=0.0
        if per_drive is None
        else per_drive.number("memory_gib", minimum=0, maximum=1024),
        reserved_per_drive_source="" if per_drive is None else per_drive.string("source"),
        servers_lost=redundancy.integer("servers", minimum=0),
        protection=_read_protection(storage.child("protection")),
        fill_ceiling=storage.number("fill_ceiling", exclusive_minimum=0, maximum=1),
        write_amplification=storage.number("write_amplification", minimum=1),
        service_life_years=storage.number("service_life_years", exclusive_minimum=0, maximum=30),
        pue=costs.number("pue", minimum=1, maximum=5),
        energy_price_per_kwh=costs.number("energy_price_per_kwh", minimum=0),
        maintenance_rate_per_year=costs.number("maintenance_rate_per_year", minimum=0, maximum=1),
        discount_rate_per_year=costs.number(
            "discount_rate_per_year", default=0.0, minimum=0, maximum=0.5
        ),
        price_decline_per_year=decline,
        price_decline_source=decline_source,
        measured_on=read_measured_on(root.child("measured_on"))
        if root.has("measured_on")
        else None,
        derived_metrics=_read_derived(root),
        allowed_servers=_read_filter(root, "servers"),
        allowed_drives=_read_filter(root, "drives"),
        power=_read_power(root.child("power")) if root.has("power") else None,
        max_pod_share_per_server=redundancy.number(
            "max_pod_share_per_server", default=0.25, exclusive_minimum=0, maximum=1
        ),
        hot_failover=redundancy.boolean("hot_failover", default=True),
        witness_votes=redundancy.integer("witness_votes", default=1, minimum=0),
        overload=_read_overload(root),
        link=_read_link(root, {w.name: w for w in workloads}),
    )


def _read_overload(root: Node) -> OverloadBounds:
    if not root.has("overload"):
        return OverloadBounds()
    node = root.child("overload")
    node.reject_unknown({"max_overshoot", "max_overload_minutes"})
    return OverloadBounds(
        max_overshoot=node.number("max_overshoot", minimum=0, maximum=10)
        if node.has("max_overshoot")
        else None,
        max_overload_minutes=node.number("max_overload_minutes", minimum=0)
        if node.has("max_overload_minutes")
        else None,
    )


def _read_link(root: Node, workloads: dict[str, Workload]) -> LinkSpec | None:
    if not root.has("link"):
        return None
    node = root.child("link")
    node.reject_unknown(
        {
            "distance_km",
            "latency_budget_ms",
            "paths",
            "protocol_overhead",
            "copies_crossing",
            "replicated_workloads",
            "fibre_us_per_km",
        }
    )
    replicated = None
    if node.has("replicated_workloads"):
        names = node.raw("replicated_workloads")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise node.error("replicated_workloads", "expected a list of workload names")
        for i, name in enumerate(names):
            if name not in workloads:
                raise node.error(f"replicated_workloads[{i}]", f"unknown workload '{name}'")
        replicated = tuple(names)
    return LinkSpec(
        distance_km=node.number("distance_km", minimum=0, maximum=20_000),
        latency_budget_ms=node.number("latency_budget_ms", exclusive_minimum=0),
        paths=node.integer("paths", default=2, minimum=1),
        protocol_overhead=node.number("protocol_overhead", default=1.1, minimum=1, maximum=3),
        copies_crossing=node.integer("copies_crossing", default=1, minimum=1),
        replicated_workloads=replicated,
        fibre_us_per_km=node.number("fibre_us_per_km", default=5.0, exclusive_minimum=0),
    )


def _read_power(node: Node) -> PowerSpec:
    """The ``power`` section; every probability in [0, 1], every duration >= 0."""
    from planner.inputs.chemistry import CHEMISTRY_NAMES, IEEE485_TEMPERATURE_TABLE

    node.reject_unknown(
        {
            "chemistry",
            "temperature_c",
            "design_margin",
            "generator",
            "failover",
            "accepted_risk",
            "grid",
            "as_was",
            "ups_redundancy",
            "min_battery_strings",
            "ups_loads",
            "room",
            "cooling_options",
            "recovery",
            "max_runtime_minutes",
        }
    )
    gen = node.child("generator")
    gen.reject_unknown(
        {"start_s", "transfer_s", "stabilise_s", "fail_to_start", "fail_to_run_per_hour"}
    )
    fail = node.child("failover")
    fail.reject_unknown({"p50_minutes", "p95_minutes", "shutdown_minutes", "failure_probability"})
    p50 = fail.number("p50_minutes", exclusive_minimum=0)
    p95 = fail.number("p95_minutes", exclusive_minimum=0)
    if p95 < p50:
        raise fail.error("p95_minutes", f"expected p95 >= p50 ({p50:g}), got {p95:g}")
    grid = node.child("grid")
    grid.reject_unknown({"outages_per_year", "duration", "regional_outages_per_year"})
    regional = grid.number("regional_outages_per_year", default=0.0, minimum=0)
    duration = grid.child("duration")
    kind = duration.choice("distribution", ("exponential", "lognormal"))
    if kind == "exponential":
        duration.reject_unknown({"distribution", "mean_minutes"})
        outages = GridOutages(
            grid.number("outages_per_year", minimum=0),
            kind,
            mean_minutes=duration.number("mean_minutes", exclusive_minimum=0),
            regional_outages_per_year=regional,
        )
    else:
        duration.reject_unknown({"distribution", "p50_minutes", "p95_minutes"})
        d50 = duration.number("p50_minutes", exclusive_minimum=0)
        d95 = duration.number("p95_minutes", exclusive_minimum=0)
        if d95 < d50:
            raise duration.error("p95_minutes", f"expected p95 >= p50 ({d50:g}), got {d95:g}")
        outages = GridOutages(
            grid.number("outages_per_year", minimum=0),
            kind,
            p50_minutes=d50,
            p95_minutes=d95,
            regional_outages_per_year=regional,
        )
    as_was = node.child("as_was")
    as_was.reject_unknown(
        {
            "ups_runtime_minutes",
            "standby_takeover_minutes",
            "standby_failure_probability",
            "recovery",
            "as_reported",
        }
    )
    lowest = IEEE485_TEMPERATURE_TABLE[0][0]
    return PowerSpec(
        chemistry=node.choice("chemistry", CHEMISTRY_NAMES),
        temperature_c=node.number("temperature_c", minimum=lowest, maximum=60),
        design_margin=node.number("design_margin", minimum=1, maximum=3),
        generator_start_s=gen.number("start_s", minimum=0),
        generator_transfer_s=gen.number("transfer_s", minimum=0),
        generator_stabilise_s=gen.number("stabilise_s", minimum=0),
        generator_fail_to_start=gen.number("fail_to_start", minimum=0, maximum=1),
        generator_fail_to_run_per_hour=gen.number("fail_to_run_per_hour", minimum=0, maximum=1),
        failover_p50_min=p50,
        failover_p95_min=p95,
        shutdown_min=fail.number("shutdown_minutes", minimum=0),
        failover_failure_probability=fail.number("failure_probability", minimum=0, maximum=1),
        accepted_risk=node.number("accepted_risk", exclusive_minimum=0, maximum=1),
        grid=outages,
        as_was_ups_runtime_min=as_was.number("ups_runtime_minutes", minimum=0),
        as_was_standby_takeover_min=as_was.number("standby_takeover_minutes", minimum=0),
        as_was_standby_failure_probability=as_was.number(
            "standby_failure_probability", minimum=0, maximum=1
        ),
        ups_redundancy=node.integer("ups_redundancy", default=1, minimum=0),
        min_battery_strings=node.integer("min_battery_strings", default=2, minimum=2),
        ups_loads=tuple(_read_ups_load(n) for n in node.items("ups_loads"))
        if node.has("ups_loads")
        else (),
        room=_read_room(node.child("room")) if node.has("room") else None,
        cooling_options=tuple(_read_cooling(n) for n in node.items("cooling_options"))
        if node.has("cooling_options")
        else (),
        recovery=_read_recovery(node.child("recovery"))
        if node.has("recovery")
        else Recovery(0.0, 0.0, 0.0, 0.0),
        as_was_recovery=_read_recovery(as_was.child("recovery"))
        if as_was.has("recovery")
        else None,
        max_runtime_min=node.number("max_runtime_minutes", default=120.0, exclusive_minimum=0),
        as_reported=_read_as_reported(as_was.child("as_reported"))
        if as_was.has("as_reported")
        else AsReported(),
    )


def _read_as_reported(node: Node) -> AsReported:
    """The incident's figures; each key left out keeps the published one."""
    node.reject_unknown(
        {
            "ups_minutes",
            "grid_minutes",
            "core_network_back_at_minutes",
            "patient_record_back_at_minutes",
            "standby_works",
        }
    )
    d = AsReported()
    grid = node.number("grid_minutes", default=d.grid_minutes, exclusive_minimum=0)
    core = node.number(
        "core_network_back_at_minutes", default=d.core_network_back_at_min, minimum=grid
    )
    record = node.number(
        "patient_record_back_at_minutes", default=d.patient_record_back_at_min, minimum=core
    )
    works = node.raw("standby_works") if node.has("standby_works") else d.standby_works
    if not isinstance(works, bool):
        raise node.error("standby_works", "expected true or false")
    return AsReported(
        ups_minutes=node.number("ups_minutes", default=d.ups_minutes, minimum=0),
        grid_minutes=grid,
        core_network_back_at_min=core,
        patient_record_back_at_min=record,
        standby_works=works,
    )


def _read_ups_load(node: Node) -> UpsLoad:
    node.reject_unknown({"name", "watts", "source"})
    return UpsLoad(node.string("name"), node.number("watts", minimum=0), node.string("source"))


def _read_room(node: Node) -> Room:
    node.reject_unknown(
        {
            "air_volume_m3",
            "thermal_mass_kj_per_k",
            "start_c",
            "limit_c",
            "cooling_on_ups_removes_w",
            "cooling_on_ups_w",
            "source",
        }
    )
    start = node.number("start_c", minimum=-20, maximum=60)
    limit = node.number("limit_c", minimum=-20, maximum=60)
    if limit <= start:
        raise node.error("limit_c", f"expected a limit above start_c ({start:g}), got {limit:g}")
    return Room(
        air_volume_m3=node.number("air_volume_m3", exclusive_minimum=0),
        thermal_mass_kj_per_k=node.number("thermal_mass_kj_per_k", minimum=0),
        start_c=start,
        limit_c=limit,
        cooling_on_ups_removes_w=node.number("cooling_on_ups_removes_w", default=0.0, minimum=0),
        cooling_on_ups_w=node.number("cooling_on_ups_w", default=0.0, minimum=0),
    )


def _read_cooling(node: Node) -> CoolingOption:
    node.reject_unknown({"name", "ups_watts", "removes_w", "stored_kwh", "price", "source"})
    return CoolingOption(
        name=node.string("name"),
        ups_watts=node.number("ups_watts", minimum=0),
        removes_w=node.number("removes_w", minimum=0),
        stored_kwh=node.number("stored_kwh", default=0.0, minimum=0),
        price=node.number("price", minimum=0),
        source=node.string("source"),
    )


def _read_recovery(node: Node) -> Recovery:
    node.reject_unknown(
        {"core_network_minutes", "storage_minutes", "databases_minutes", "applications_minutes"}
    )
    return Recovery(
        core_network_min=node.number("core_network_minutes", minimum=0),
        storage_min=node.number("storage_minutes", minimum=0),
        databases_min=node.number("databases_minutes", minimum=0),
        applications_min=node.number("applications_minutes", minimum=0),
    )


def _read_filter(root: Node, kind: str) -> tuple[str, ...] | None:
    """``catalog_filter: {servers: [sku, ...], drives: [...]}``: only these SKUs are bought."""
    if not root.has("catalog_filter"):
        return None
    node = root.child("catalog_filter")
    node.reject_unknown({"servers", "drives"})
    if not node.has(kind):
        return None
    value = node.raw(kind)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise node.error(kind, "expected a non-empty list of SKU names")
    return tuple(value)


def _read_sites(root: Node) -> tuple[Site, Site]:
    nodes = root.items("sites")
    if len(nodes) != 2:
        raise root.error("sites", f"expected exactly two sites (active-active), got {len(nodes)}")
    sites = []
    for node in nodes:
        node.reject_unknown({"name", "max_rack_units"})
        limit = node.integer("max_rack_units", minimum=1) if node.has("max_rack_units") else None
        sites.append(Site(name=_identifier(node, "name"), max_rack_units=limit))
    if sites[0].name == sites[1].name:
        raise root.error("sites[1].name", f"duplicate site name '{sites[1].name}'")
    return sites[0], sites[1]


def _read_workloads(root: Node) -> tuple[Workload, ...]:
    seen: set[str] = set()
    workloads = []
    allowed = {
        "name",
        "criticality",
        "failover_fraction",
        "scaling",
        "replica",
        "replicas",
        "min_replicas",
        "stateful",
        "growth_per_year",
    }
    for node in root.items("workloads"):
        node.reject_unknown(allowed)
        name = _identifier(node, "name")
        if name in seen:
            raise node.error("name", f"duplicate workload name '{name}'")
        seen.add(name)
        criticality = node.choice("criticality", CRITICALITIES)
        if criticality == "critical":
            fraction = 1.0
        elif criticality == "deferrable":
            fraction = 0.0
        else:
            fraction = node.number("failover_fraction", exclusive_minimum=0, maximum=1)
        if criticality != "degradable" and node.has("failover_fraction"):
            raise node.error(
                "failover_fraction", f"only degradable workloads take a fraction ({criticality})"
            )
        scaling = node.choice("scaling", SCALINGS, default="horizontal")
        cpu = memory = None
        replicas = None
        if scaling == "horizontal":
            replica = node.child("replica")
            replica.reject_unknown({"cpu_cores", "memory_gib"})
            cpu = replica.number("cpu_cores", exclusive_minimum=0)
            memory = replica.number("memory_gib", exclusive_minimum=0)
            if node.has("replicas"):
                raise node.error("replicas", "horizontal workloads set min_replicas, not replicas")
        else:
            replicas = node.integer("replicas", minimum=1)
            if node.has("replica"):
                raise node.error("replica", "vertical workloads are sized from the load")
        workloads.append(
            Workload(
                name=name,
                criticality=criticality,
                failover_fraction=fraction,
                scaling=scaling,
                replica_cpu_cores=cpu,
                replica_memory_gib=memory,
                replicas=replicas,
                min_replicas=node.integer("min_replicas", default=2, minimum=1),
                stateful=node.boolean("stateful", False),
                growth_per_year=_read_growth_override(node),
            )
        )
    return tuple(workloads)


def _read_growth_override(node: Node) -> dict[str, float] | None:
    if not node.has("growth_per_year"):
        return None
    growth = node.child("growth_per_year")
    growth.reject_unknown(set(METRICS))
    return {m: growth.number(m, minimum=-0.5, maximum=5.0) for m in growth.data}


def _read_percentiles(root: Node) -> dict[str, float]:
    value = root.raw("sizing_percentile")
    if isinstance(value, dict):
        node = root.child("sizing_percentile")
        node.reject_unknown(set(PERCENTILE_METRICS))
        return {m: node.number(m, exclusive_minimum=0, maximum=100) for m in PERCENTILE_METRICS}
    one = root.number("sizing_percentile", exclusive_minimum=0, maximum=100)
    return dict.fromkeys(PERCENTILE_METRICS, one)


def _read_protection(node: Node) -> Protection:
    scheme = node.choice("scheme", ("replicas", "erasure"))
    if scheme == "replicas":
        node.reject_unknown({"scheme", "copies"})
        return Protection(scheme, copies=node.integer("copies", minimum=1))
    node.reject_unknown({"scheme", "data", "parity"})
    return Protection(
        scheme, data=node.integer("data", minimum=1), parity=node.integer("parity", minimum=1)
    )


def _read_derived(root: Node) -> dict[str, tuple[str, float]]:
    """``derived_metrics: {write_mib_s: {from: write_iops, factor: 0.0625}}``.

    The derived metric is factor x the source metric, per row.
    """
    if not root.has("derived_metrics"):
        return {}
    node = root.child("derived_metrics")
    node.reject_unknown(set(METRICS))
    derived = {}
    for metric in node.data:
        rule = node.child(metric)
        rule.reject_unknown({"from", "factor"})
        source = rule.choice("from", METRICS)
        if source == metric:
            raise rule.error("from", f"a metric cannot be derived from itself ({metric})")
        derived[metric] = (source, rule.number("factor", minimum=0))
    for metric, (source, _) in derived.items():
        if source in derived:
            raise node.error(metric, f"'{source}' is itself derived; derive from a measured metric")
    return derived


def _identifier(node: Node, name: str) -> str:
    value = node.string(name)
    ok = value.replace("-", "").isalnum() and value.islower() and value[0].isalpha()
    if not ok or len(value) > 40:
        raise InputError(
            node.source,
            f"key '{node.key(name)}'",
            "expected a lower-case name of letters, digits and '-' (a Kubernetes name), "
            f"got '{value}'",
        )
    return value
