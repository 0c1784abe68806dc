"""The hardware catalogue: server and drive SKUs with the figures the model needs."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from planner.errors import InputError
from planner.inputs.units import TIB_PER_TB
from planner.inputs.yaml_loader import Node, load_yaml_mapping

SkuT = TypeVar("SkuT", "ServerSku", "DriveSku")


@dataclass(frozen=True)
class ServerSku:
    """A server model. Power is SPECpower-style: watts at idle, 50 % and 100 % load."""

    sku: str
    cores: int
    memory_gib: float
    drive_bays: int
    rack_units: int
    idle_w: float
    half_w: float
    full_w: float
    price: float
    source: str
    #: SPECrate2017_int_base of the server as configured, and the result it comes from
    #: (spec.org result id); None where the catalogue has no published result
    spec_int_rate: float | None = None
    spec_int_rate_result: str = ""
    #: the processor model, hardware threads per core (2 with SMT), memory channels and
    #: DIMM population (count x GiB), where the catalogue states them
    cpu: str = ""
    threads_per_core: int = 1
    memory_channels: int = 0
    dimms: tuple[int, float] = (0, 0.0)
    #: where the power curve comes from: primary, secondary or proxy, with why
    power_quality: str = "primary"
    power_note: str = ""
    #: when the planning-assumption price was set (YYYY-MM)
    price_date: str = ""
    description: str = ""
    #: reference cores one of this server's cores does (:mod:`planner.inputs.measured`):
    #: its SPECrate per core over that of the hardware the profile was measured on; 1
    #: where CPU demand is not normalised
    cpu_scale: float = 1.0

    @property
    def ref_cores(self) -> float:
        """The server's cores in reference cores (the profile's hardware): C x s."""
        return self.cores * self.cpu_scale

    @property
    def int_rate_per_core(self) -> float | None:
        return None if self.spec_int_rate is None else self.spec_int_rate / self.cores

    def usable_cores(self, reserved_cores: float) -> float:
        """Reference cores left for pods after the node reservation (physical cores):
        max(0, C - reserved) x s  [reference cores]."""
        return max(0.0, self.cores - reserved_cores) * self.cpu_scale


@dataclass(frozen=True)
class DriveSku:
    """A flash drive. ``capacity_tb`` is decimal terabytes, as vendors quote it."""

    sku: str
    capacity_tb: float
    read_iops: float
    write_iops: float
    dwpd: float
    watts: float
    price: float
    source: str
    description: str = ""

    @property
    def capacity_tib(self) -> float:
        return self.capacity_tb * TIB_PER_TB


@dataclass(frozen=True)
class BatterySku:
    """A UPS battery module (or cabinet string) of one chemistry."""

    sku: str
    chemistry: str
    kwh: float
    max_kw: float
    service_life_years: float
    price: float
    source: str
    module_v: float = 12.0
    #: (load as a fraction of ``max_kw``, minutes) of a new module at 25 C to its end
    #: voltage, from a data sheet; empty: the runtime law with ``runtime_exponent``
    runtime_table: tuple[tuple[float, float], ...] = ()
    runtime_source: str = ""
    rated_minutes: float = 0.0  # the law's minutes at max_kw (only without a table)
    runtime_exponent: float = 0.0  # the law's exponent (0: the chemistry's)
    #: the share of ``kwh`` a discharge to the end voltage can deliver (depth of
    #: discharge); no runtime may draw more than ``kwh x usable_fraction`` from a module
    usable_fraction: float = 1.0


@dataclass(frozen=True)
class UpsFrameSku:
    """A UPS power frame (inverter): its rated output, efficiency and battery DC bus."""

    sku: str
    kw: float
    efficiency: float
    price: float
    source: str
    dc_min_v: float = 0.0
    dc_max_v: float = 1e9


@dataclass(frozen=True)
class Catalog:
    currency: str
    servers: tuple[ServerSku, ...]
    drives: tuple[DriveSku, ...]
    batteries: tuple[BatterySku, ...] = ()
    ups_frames: tuple[UpsFrameSku, ...] = ()

    def battery(self, sku: str) -> BatterySku:
        return next(b for b in self.batteries if b.sku == sku)

    def ups_frame(self, sku: str) -> UpsFrameSku:
        return next(u for u in self.ups_frames if u.sku == sku)

    def server(self, sku: str) -> ServerSku:
        return next(s for s in self.servers if s.sku == sku)

    def request_scale(self, counts: dict[str, int]) -> float:
        """The ``cpu_scale`` pod requests are declared in on a fleet of ``counts``: the
        slowest core the fleet has (a request in its cores is enough on every server)."""
        return min((self.server(k).cpu_scale for k, n in counts.items() if n > 0), default=1.0)

    def placement_cores(self, sku: str, reserved_cores: float, counts: dict[str, int]) -> float:
        """Reference cores the scheduler can give pods on one ``sku`` server of a fleet of
        ``counts``: its cores after the reservation, counted at the fleet's request scale
        (a pod declares R / s cores and the scheduler compares cores, whatever their speed)."""
        cores = max(0.0, self.server(sku).cores - reserved_cores)
        return cores * self.request_scale(counts)

    def drive(self, sku: str) -> DriveSku:
        return next(d for d in self.drives if d.sku == sku)


def filter_catalog(
    catalog: Catalog,
    servers: tuple[str, ...] | None,
    drives: tuple[str, ...] | None,
    source: str,
) -> Catalog:
    """Keep only the allowed SKUs; an unknown SKU name is an input error in ``source``."""
    return Catalog(
        catalog.currency,
        _keep(catalog.servers, servers, "servers", "server", source),
        _keep(catalog.drives, drives, "drives", "drive", source),
        catalog.batteries,
        catalog.ups_frames,
    )


def _keep(
    items: tuple[SkuT, ...], allowed: tuple[str, ...] | None, key: str, what: str, source: str
) -> tuple[SkuT, ...]:
    if allowed is None:
        return items
    known = {item.sku for item in items}
    for i, sku in enumerate(allowed):
        if sku not in known:
            raise InputError(
                source,
                f"key 'catalog_filter.{key}[{i}]'",
                f"unknown {what} SKU '{sku}' (the catalogue has: {', '.join(sorted(known))})",
            )
    return tuple(item for item in items if item.sku in allowed)


def default_catalog_path() -> Path:
    """The catalogue that ships with the package (figures with their public sources)."""
    return Path(str(resources.files("planner") / "data" / "catalog.yaml"))


def read_catalog(path: Path) -> Catalog:
    """Read and validate a hardware catalogue YAML file."""
    return catalog_from_mapping(load_yaml_mapping(path), str(path))


def catalog_from_mapping(data: dict[str, Any], source: str) -> Catalog:
    """Validate a hardware catalogue already loaded (``source`` names it in errors)."""
    root = Node(source, data)
    root.reject_unknown({"version", "currency", "servers", "drives", "batteries", "ups_frames"})
    version = root.integer("version", minimum=1)
    if version != 1:
        raise root.error("version", f"expected 1, got {version}")
    servers = tuple(_read_server(node) for node in root.items("servers"))
    drives = tuple(_read_drive(node) for node in root.items("drives"))
    batteries = (
        tuple(_read_battery(n) for n in root.items("batteries")) if root.has("batteries") else ()
    )
    frames = tuple(_read_ups(n) for n in root.items("ups_frames")) if root.has("ups_frames") else ()
    for kind, skus in (
        ("servers", [s.sku for s in servers]),
        ("drives", [d.sku for d in drives]),
        ("batteries", [b.sku for b in batteries]),
        ("ups_frames", [u.sku for u in frames]),
    ):
        for i, sku in enumerate(skus):
            if sku in skus[:i]:
                raise root.error(f"{kind}[{i}].sku", f"duplicate SKU '{sku}'")
    return Catalog(
        currency=root.string("currency"),
        servers=servers,
        drives=drives,
        batteries=batteries,
        ups_frames=frames,
    )


def _read_battery(node: Node) -> BatterySku:
    from planner.inputs.chemistry import CHEMISTRY_NAMES

    node.reject_unknown(
        {
            "sku",
            "description",
            "chemistry",
            "kwh",
            "max_kw",
            "service_life_years",
            "price",
            "source",
            "module_v",
            "runtime_table",
            "runtime_source",
            "rated_minutes",
            "runtime_exponent",
            "usable_fraction",
        }
    )
    table: tuple[tuple[float, float], ...] = ()
    if node.has("runtime_table"):
        raw = node.raw("runtime_table")
        rows: list[tuple[float, float]] = []
        ok = isinstance(raw, list) and len(raw) >= 2
        for row in raw if isinstance(raw, list) else []:
            if not (
                isinstance(row, list)
                and len(row) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in row)
                and 0 < row[0] <= 1
                and row[1] > 0
            ):
                ok = False
                break
            rows.append((float(row[0]), float(row[1])))
        fractions = [f for f, _ in rows]
        minutes = [m for _, m in rows]
        if (
            not ok
            or fractions != sorted(set(fractions))
            or minutes != sorted(minutes, reverse=True)
        ):
            raise node.error(
                "runtime_table",
                "expected at least two [load fraction in (0, 1], minutes > 0] rows, fractions "
                "rising and minutes falling",
            )
        table = tuple(rows)
    has_law = node.has("rated_minutes")
    if not table and not has_law:
        raise node.error("runtime_table", "required: a runtime table, or rated_minutes for the law")
    return BatterySku(
        sku=node.string("sku"),
        chemistry=node.choice("chemistry", CHEMISTRY_NAMES),
        kwh=node.number("kwh", exclusive_minimum=0),
        max_kw=node.number("max_kw", exclusive_minimum=0),
        service_life_years=node.number("service_life_years", exclusive_minimum=0),
        price=node.number("price", minimum=0),
        source=node.string("source"),
        module_v=node.number("module_v", exclusive_minimum=0),
        runtime_table=table,
        runtime_source=node.string("runtime_source") if table else "",
        rated_minutes=node.number("rated_minutes", exclusive_minimum=0) if has_law else 0.0,
        runtime_exponent=node.number("runtime_exponent", default=0.0, minimum=0),
        usable_fraction=node.number("usable_fraction", default=1.0, exclusive_minimum=0, maximum=1),
    )


def _read_ups(node: Node) -> UpsFrameSku:
    node.reject_unknown({"sku", "description", "kw", "efficiency", "price", "source", "dc_bus_v"})
    bus = node.raw("dc_bus_v")
    if (
        not isinstance(bus, list)
        or len(bus) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bus)
        or not 0 < bus[0] <= bus[1]
    ):
        raise node.error("dc_bus_v", "expected [lowest, highest] battery DC bus voltage")
    return UpsFrameSku(
        sku=node.string("sku"),
        kw=node.number("kw", exclusive_minimum=0),
        efficiency=node.number("efficiency", exclusive_minimum=0, maximum=1),
        price=node.number("price", minimum=0),
        source=node.string("source"),
        dc_min_v=float(bus[0]),
        dc_max_v=float(bus[1]),
    )


def _read_server(node: Node) -> ServerSku:
    node.reject_unknown(
        {
            "sku",
            "description",
            "cores",
            "memory_gib",
            "drive_bays",
            "rack_units",
            "power_w",
            "spec_cpu2017",
            "price",
            "price_date",
            "source",
            "vendor",
            "cpu",
            "threads_per_core",
            "memory_channels",
            "dimm_slots",
            "dimms",
            "power_source",
        }
    )
    rate: float | None = None
    result = ""
    if node.has("spec_cpu2017"):
        spec_cpu = node.child("spec_cpu2017")
        spec_cpu.reject_unknown({"int_rate_base", "result"})
        rate = spec_cpu.number("int_rate_base", exclusive_minimum=0)
        result = spec_cpu.string("result")
    power = node.child("power_w")
    power.reject_unknown({"idle", "half", "full"})
    idle = power.number("idle", minimum=0)
    half = power.number("half", minimum=idle)
    full = power.number("full", exclusive_minimum=0, minimum=half)
    if half - idle > full - half:
        raise power.error(
            "half",
            f"expected a convex power curve (half-load watts <= midpoint {0.5 * (idle + full):g})",
        )
    memory_gib = node.number("memory_gib", exclusive_minimum=0)
    channels = node.integer("memory_channels", default=0, minimum=0)
    dimms = _read_dimms(node, memory_gib, channels)
    quality, note = "primary", ""
    if node.has("power_source"):
        ps = node.child("power_source")
        ps.reject_unknown({"quality", "result", "note"})
        quality = ps.choice("quality", ("primary", "secondary", "proxy"))
        note = ps.string("note", default="")
        result_id = ps.string("result", default="")
        note = f"{result_id}: {note}" if result_id and note else result_id or note
        if quality != "primary" and not note:
            raise ps.error("note", f"required for a {quality} power curve: say what and why")
    return ServerSku(
        sku=node.string("sku"),
        cores=node.integer("cores", minimum=1),
        memory_gib=memory_gib,
        drive_bays=node.integer("drive_bays", minimum=1),
        rack_units=node.integer("rack_units", minimum=1),
        idle_w=idle,
        half_w=half,
        full_w=full,
        price=node.number("price", minimum=0),
        source=node.string("source"),
        spec_int_rate=rate,
        spec_int_rate_result=result,
        cpu=node.string("cpu", default=""),
        threads_per_core=node.integer("threads_per_core", default=1, minimum=1),
        memory_channels=channels,
        dimms=dimms,
        power_quality=quality,
        power_note=note,
        price_date=node.string("price_date", default=""),
        description=node.string("description", default=""),
    )


def _read_dimms(node: Node, memory_gib: float, channels: int) -> tuple[int, float]:
    """The DIMM population: count x GiB making ``memory_gib``, every channel populated
    alike (a multiple of the channel count) and no more DIMMs than slots."""
    if not node.has("dimms"):
        return (0, 0.0)
    dimms = node.child("dimms")
    dimms.reject_unknown({"count", "size_gib"})
    count = dimms.integer("count", minimum=1)
    size = dimms.number("size_gib", exclusive_minimum=0)
    if abs(count * size - memory_gib) > 1e-6:
        raise dimms.error("count", f"{count} x {size:g} GiB is not memory_gib {memory_gib:g}")
    if channels and count % channels:
        raise dimms.error(
            "count", f"expected a multiple of memory_channels {channels} (a balanced population)"
        )
    slots = node.integer("dimm_slots", default=count, minimum=1)
    if count > slots:
        raise dimms.error("count", f"expected at most dimm_slots {slots}")
    return (count, size)


def _read_drive(node: Node) -> DriveSku:
    node.reject_unknown(
        {
            "sku",
            "description",
            "capacity_tb",
            "read_iops",
            "write_iops",
            "dwpd",
            "watts",
            "price",
            "source",
        }
    )
    return DriveSku(
        sku=node.string("sku"),
        capacity_tb=node.number("capacity_tb", exclusive_minimum=0),
        read_iops=node.number("read_iops", exclusive_minimum=0),
        write_iops=node.number("write_iops", exclusive_minimum=0),
        dwpd=node.number("dwpd", exclusive_minimum=0),
        watts=node.number("watts", minimum=0),
        price=node.number("price", minimum=0),
        source=node.string("source"),
        description=node.string("description", default=""),
    )
