"""Shared test builders: small specs, catalogues and profiles, as files or as objects."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from planner.inputs.catalog import Catalog, DriveSku, ServerSku
from planner.inputs.spec import GridOutages, PowerSpec, Protection, Site, Spec, Workload
from planner.sizing.envelope import NORMAL, Envelope, SiteEnvelope, lost

SITES = ("alpha", "beta")


def base_spec(**changes: Any) -> Spec:
    """A neutral spec: no growth, p100, ceilings 1, no reservation, N+1, free energy."""
    spec = Spec(
        name="test",
        currency="DKK",
        sites=(Site("alpha"), Site("beta")),
        workloads=(Workload("app", "critical", 1.0, "horizontal", 1.0, 1.0, None, 1, False),),
        horizon_years=1.0,
        growth_per_year=dict.fromkeys(
            ("cpu_cores", "memory_gib", "read_iops", "write_iops", "write_mib_s", "stored_tib"),
            0.0,
        ),
        percentile=dict.fromkeys(("cpu_cores", "memory_gib", "read_iops", "write_iops"), 100.0),
        cpu_ceiling=1.0,
        memory_ceiling=1.0,
        drive_iops_ceiling=1.0,
        reserved_cpu_cores=0.0,
        reserved_memory_gib=0.0,
        servers_lost=1,
        protection=Protection("replicas", copies=1),
        fill_ceiling=1.0,
        write_amplification=1.0,
        service_life_years=1.0,
        pue=1.0,
        energy_price_per_kwh=0.0,
        maintenance_rate_per_year=0.0,
        derived_metrics={},
    )
    return dataclasses.replace(spec, **changes)


def power_spec(**changes: Any) -> PowerSpec:
    """A power section for model tests; override what the test is about."""
    power = PowerSpec(
        chemistry="lfp",
        temperature_c=25.0,
        design_margin=1.1,
        generator_start_s=10,
        generator_transfer_s=5,
        generator_stabilise_s=60,
        generator_fail_to_start=0.01,
        generator_fail_to_run_per_hour=0.0,
        failover_p50_min=5,
        failover_p95_min=12,
        shutdown_min=5,
        failover_failure_probability=0.0,
        accepted_risk=1e-4,
        grid=GridOutages(0.5, "exponential", mean_minutes=30),
        as_was_ups_runtime_min=10,
        as_was_standby_takeover_min=300,
        as_was_standby_failure_probability=0.5,
        ups_redundancy=1,
        min_battery_strings=2,
    )
    return dataclasses.replace(power, **changes)


def server(sku: str, cores: int, memory_gib: float, price: float, **kw: Any) -> ServerSku:
    values: dict[str, Any] = {
        "drive_bays": 4,
        "rack_units": 2,
        "idle_w": 100.0,
        "half_w": 200.0,
        "full_w": 400.0,
        "source": "test",
    }
    values.update(kw)
    return ServerSku(sku=sku, cores=cores, memory_gib=memory_gib, price=price, **values)


TIB_IN_TB = 2**40 / 1e12  # a drive of this many TB holds exactly 1 TiB


def drive(sku: str, price: float, **kw: Any) -> DriveSku:
    values: dict[str, Any] = {
        "capacity_tb": TIB_IN_TB,
        "read_iops": 1000.0,
        "write_iops": 1000.0,
        "dwpd": 1.0,
        "watts": 0.0,
        "source": "test",
    }
    values.update(kw)
    return DriveSku(sku=sku, price=price, **values)


def site_envelope(site: str, other: str, **demand: float) -> SiteEnvelope:
    """Same demand in both scenarios unless given as normal_<metric> / failover_<metric>."""
    metrics = ("cpu_cores", "memory_gib", "read_iops", "write_iops", "stored_tib")
    normal = {m: demand.get(f"normal_{m}", demand.get(m, 0.0)) for m in metrics}
    failover = {m: demand.get(f"failover_{m}", demand.get(m, 0.0)) for m in metrics}
    return SiteEnvelope(
        site=site,
        demand={NORMAL: normal, lost(other): failover},
        mean_busy_cores=demand.get("mean_busy_cores", 0.0),
        written_tib_life=demand.get("written_tib_life", 0.0),
        peak_busy_cores=demand.get(
            "peak_busy_cores", max(normal["cpu_cores"], failover["cpu_cores"])
        ),
    )


def envelope(**demand: float) -> Envelope:
    """Both sites with the same demand."""
    return Envelope(
        (site_envelope("alpha", "beta", **demand), site_envelope("beta", "alpha", **demand))
    )


def catalog(servers: list[ServerSku], drives: list[DriveSku]) -> Catalog:
    return Catalog("DKK", tuple(servers), tuple(drives))


# ---------------------------------------------------------------------------------------
# Files for CLI and loader tests


SPEC_DOC: dict[str, Any] = {
    "version": 1,
    "name": "small test region",
    "currency": "DKK",
    "sites": [{"name": "alpha"}, {"name": "beta"}],
    "horizon_years": 2,
    "growth_per_year": {"cpu_cores": 0.1, "stored_tib": 0.2},
    "sizing_percentile": 100,
    "utilisation_ceiling": {"cpu": 0.8, "memory": 0.9, "drive_iops": 0.5},
    "node_reserved": {"cpu_cores": 1, "memory_gib": 4},
    "redundancy": {"servers": 1},
    "storage": {
        "protection": {"scheme": "replicas", "copies": 2},
        "fill_ceiling": 0.8,
        "write_amplification": 2.0,
        "service_life_years": 5,
    },
    "costs": {"pue": 1.4, "energy_price_per_kwh": 1.5, "maintenance_rate_per_year": 0.05},
    "workloads": [
        {"name": "web", "criticality": "critical", "replica": {"cpu_cores": 1, "memory_gib": 2}},
        {
            "name": "db",
            "criticality": "critical",
            "scaling": "vertical",
            "replicas": 2,
            "stateful": True,
        },
        {
            "name": "batch",
            "criticality": "deferrable",
            "replica": {"cpu_cores": 2, "memory_gib": 4},
            "min_replicas": 1,
        },
    ],
}

CATALOG_DOC: dict[str, Any] = {
    "version": 1,
    "currency": "DKK",
    "servers": [
        {
            "sku": "small",
            "cores": 16,
            "memory_gib": 128,
            "drive_bays": 4,
            "rack_units": 1,
            "power_w": {"idle": 60, "half": 150, "full": 300},
            "price": 50000,
            "source": "test",
        },
        {
            "sku": "large",
            "cores": 64,
            "memory_gib": 512,
            "drive_bays": 10,
            "rack_units": 2,
            "power_w": {"idle": 120, "half": 350, "full": 700},
            "price": 160000,
            "source": "test",
        },
    ],
    "drives": [
        {
            "sku": "read-intensive",
            "capacity_tb": 7.68,
            "read_iops": 800000,
            "write_iops": 100000,
            "dwpd": 1,
            "watts": 12,
            "price": 8000,
            "source": "test",
        },
        {
            "sku": "mixed-use",
            "capacity_tb": 3.2,
            "read_iops": 700000,
            "write_iops": 180000,
            "dwpd": 3,
            "watts": 14,
            "price": 7000,
            "source": "test",
        },
    ],
}


def profile_frame(
    steps: int = 288,
    start: str = "2025-03-29T00:00:00+01:00",
    tz: str = "Europe/Copenhagen",
    seed: int = 7,
) -> pd.DataFrame:
    """A small long-format profile for SPEC_DOC's sites and workloads (crosses a DST change)."""
    rng = np.random.default_rng(seed)
    times = pd.date_range(pd.Timestamp(start).tz_convert("UTC"), periods=steps, freq="15min")
    local = times.tz_convert(tz)
    rows = []
    scale = {"web": 6.0, "db": 10.0, "batch": 8.0}
    memory = {"web": 12.0, "db": 120.0, "batch": 16.0}
    for site_i, site in enumerate(("alpha", "beta")):
        for workload in ("web", "db", "batch"):
            load = 0.5 + 0.5 * rng.random(steps)
            rows.append(
                pd.DataFrame(
                    {
                        "timestamp": local,
                        "site": site,
                        "workload": workload,
                        "cpu_cores": np.round(scale[workload] * load * (1 + site_i), 3),
                        "memory_gib": np.round(memory[workload] * (0.8 + 0.2 * load), 3),
                        "read_iops": np.round(2000 * load, 1),
                        "write_iops": np.round(500 * load, 1),
                        "write_mib_s": np.round(5 * load, 3),
                        "stored_tib": np.round(1.0 + 0.001 * np.arange(steps), 4),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def frame_to_csv_text(frame: pd.DataFrame) -> str:
    out = frame.copy()
    out["timestamp"] = out["timestamp"].map(lambda t: t.isoformat())
    return str(out.to_csv(index=False))


@pytest.fixture
def small_inputs(tmp_path: Path) -> dict[str, Path]:
    """Spec, catalogue and CSV profile files for a small two-site case."""
    spec_path = tmp_path / "spec.yaml"
    catalog_path = tmp_path / "catalog.yaml"
    profile_path = tmp_path / "profile.csv"
    spec_path.write_text(yaml.safe_dump(SPEC_DOC, sort_keys=False))
    catalog_path.write_text(yaml.safe_dump(CATALOG_DOC, sort_keys=False))
    profile_path.write_text(frame_to_csv_text(profile_frame()))
    return {"spec": spec_path, "catalog": catalog_path, "profile": profile_path}


POWER_DOC: dict[str, Any] = {
    "chemistry": "lfp",
    "temperature_c": 25,
    "design_margin": 1.1,
    "generator": {
        "start_s": 10,
        "transfer_s": 5,
        "stabilise_s": 60,
        "fail_to_start": 0.0094,
        "fail_to_run_per_hour": 0.00157,
    },
    "failover": {
        "p50_minutes": 4,
        "p95_minutes": 10,
        "shutdown_minutes": 6,
        "failure_probability": 0.01,
    },
    "accepted_risk": 1.0e-4,
    "grid": {
        "outages_per_year": 0.4,
        "duration": {"distribution": "lognormal", "p50_minutes": 30, "p95_minutes": 240},
    },
    "as_was": {
        "ups_runtime_minutes": 10,
        "standby_takeover_minutes": 480,
        "standby_failure_probability": 0.5,
    },
}

BATTERY_DOCS: dict[str, Any] = {
    "batteries": [
        {
            "sku": "lfp-1k",
            "chemistry": "lfp",
            "kwh": 1.0,
            "module_v": 48,
            "max_kw": 2.0,
            "rated_minutes": 27.0,
            "service_life_years": 10,
            "price": 5000,
            "source": "test",
        },
    ],
    "ups_frames": [
        {
            "sku": "ups-10",
            "kw": 10,
            "efficiency": 0.94,
            "price": 20000,
            "dc_bus_v": [192, 240],
            "source": "test",
        },
    ],
}


@pytest.fixture
def powered_inputs(small_inputs: dict[str, Path]) -> dict[str, Path]:
    """The small case with a power section and battery and UPS SKUs."""
    spec = yaml.safe_load(small_inputs["spec"].read_text())
    spec["power"] = POWER_DOC
    small_inputs["spec"].write_text(yaml.safe_dump(spec, sort_keys=False))
    catalog_doc = yaml.safe_load(small_inputs["catalog"].read_text())
    catalog_doc.update(BATTERY_DOCS)
    small_inputs["catalog"].write_text(yaml.safe_dump(catalog_doc, sort_keys=False))
    return small_inputs


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m planner ARGS` in a subprocess, as a user runs it (CI set: no progress)."""
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CI": "1"},
    )


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One closing line when tests that need a Debian package were skipped, so that a
    newcomer's `make test` says what did not run and how to run it."""
    skipped = terminalreporter.stats.get("skipped", [])
    packages = sorted(
        {
            name
            for report in skipped
            for name in ("chromium", "prometheus")
            if name in str(getattr(report, "longrepr", ""))
        }
    )
    if packages:
        terminalreporter.write_line(
            f"{len(skipped)} skipped: they drive Debian's {' and '.join(packages)}, not "
            f"installed here; `sudo apt-get install {' '.join(packages)}` (or `.ci/run`, which "
            "installs them) runs them"
        )
