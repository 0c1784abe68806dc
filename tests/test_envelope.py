"""Scenario envelopes: peak of the time-aligned sum, failover fractions, growth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.inputs.profiles import profile_from_frame
from planner.inputs.spec import Workload
from planner.inputs.units import METRICS
from planner.sizing.envelope import NORMAL, compute_envelope, lost
from planner.sizing.search import optimise
from tests.conftest import base_spec, catalog, drive, server


def tiny_frame(
    loads: dict[tuple[str, str], list[float]], metric: str = "cpu_cores"
) -> pd.DataFrame:
    steps = len(next(iter(loads.values())))
    times = pd.date_range("2025-01-06T08:00:00+01:00", periods=steps, freq="5min")
    parts = []
    for (site, workload), values in loads.items():
        part = pd.DataFrame({"timestamp": times, "site": site, "workload": workload})
        for m in METRICS:
            part[m] = values if m == metric else 0.0
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def load(spec_changes: dict[str, object], loads: dict[tuple[str, str], list[float]]):  # type: ignore[no-untyped-def]
    spec = base_spec(**spec_changes)
    frame = tiny_frame(loads)
    return spec, profile_from_frame(frame, spec, "t.csv", lambda i: f"line {i + 2}")


def test_peak_of_sum_not_sum_of_peaks() -> None:
    """Alpha peaks at 10 at t0, beta at 10 at t1: the survivor needs 12, not 20."""
    spec, profile = load(
        {},
        {
            ("alpha", "app"): [10, 2, 2, 2],
            ("beta", "app"): [2, 10, 2, 2],
        },
    )
    env = compute_envelope(profile, spec)
    assert env.site("alpha").demand[lost("beta")]["cpu_cores"] == 12
    assert env.site("beta").demand[lost("alpha")]["cpu_cores"] == 12
    assert env.site("alpha").demand[NORMAL]["cpu_cores"] == 10
    # Sized by the former: 4-core servers, no redundancy -> 3 servers, not 5.
    cat = catalog([server("s4", 4, 64, 100.0)], [drive("d", 1.0)])
    solution = optimise(base_spec(servers_lost=0), cat, env, ())
    assert [f.servers for f in solution.fleets] == [{"s4": 3}, {"s4": 3}]


def test_failover_fractions_and_growth() -> None:
    """Degradable at 0.5 and deferrable at 0 in failover; normal keeps everything."""
    workloads = (
        Workload("crit", "critical", 1.0, "horizontal", 1.0, 1.0, None, 1, False),
        Workload("half", "degradable", 0.5, "horizontal", 1.0, 1.0, None, 1, False),
        Workload("later", "deferrable", 0.0, "horizontal", 1.0, 1.0, None, 1, False),
    )
    growth = dict(base_spec().growth_per_year, cpu_cores=0.1)
    spec, profile = load(
        {"workloads": workloads, "growth_per_year": growth, "horizon_years": 2.0},
        {
            ("alpha", "crit"): [4, 4],
            ("alpha", "half"): [4, 4],
            ("alpha", "later"): [4, 4],
            ("beta", "crit"): [2, 2],
            ("beta", "half"): [2, 2],
            ("beta", "later"): [2, 2],
        },
    )
    env = compute_envelope(profile, spec)
    grown = 1.1**2
    assert env.site("alpha").demand[NORMAL]["cpu_cores"] == pytest.approx(12 * grown)
    assert env.site("alpha").demand[lost("beta")]["cpu_cores"] == pytest.approx(
        (6 + 0.5 * 6) * grown
    )


def test_percentile_is_nearest_rank() -> None:
    """p75 of 4 samples is the 3rd smallest: one sample may exceed it."""
    percentile = dict(base_spec().percentile, cpu_cores=75.0)
    spec, profile = load(
        {"percentile": percentile},
        {
            ("alpha", "app"): [1, 9, 5, 3],
            ("beta", "app"): [0, 0, 0, 0],
        },
    )
    env = compute_envelope(profile, spec)
    assert env.site("alpha").demand[NORMAL]["cpu_cores"] == 5
    assert np.percentile([1, 9, 5, 3], 75, method="inverted_cdf") == 5


def test_stored_data_is_a_full_copy_in_every_site() -> None:
    spec = base_spec()
    frame = tiny_frame({("alpha", "app"): [1, 2], ("beta", "app"): [3, 3]}, metric="stored_tib")
    profile = profile_from_frame(frame, spec, "t.csv", lambda i: f"line {i + 2}")
    env = compute_envelope(profile, spec)
    for site in env.sites:
        assert site.design("stored_tib") == 5


def test_a_workload_can_override_the_growth() -> None:
    """Two workloads, 4 cores each; one grows 50 %/year over 2 years, the other the spec's 10 %."""
    workloads = (
        Workload(
            "fast",
            "critical",
            1.0,
            "horizontal",
            1.0,
            1.0,
            None,
            1,
            False,
            growth_per_year={"cpu_cores": 0.5},
        ),
        Workload("slow", "critical", 1.0, "horizontal", 1.0, 1.0, None, 1, False),
    )
    growth = dict(base_spec().growth_per_year, cpu_cores=0.1)
    spec, profile = load(
        {"workloads": workloads, "growth_per_year": growth, "horizon_years": 2.0},
        {
            ("alpha", "fast"): [4, 4],
            ("alpha", "slow"): [4, 4],
            ("beta", "fast"): [0, 0],
            ("beta", "slow"): [0, 0],
        },
    )
    env = compute_envelope(profile, spec)
    assert env.site("alpha").demand[NORMAL]["cpu_cores"] == pytest.approx(4 * 1.5**2 + 4 * 1.1**2)
    assert spec.growth_rates("cpu_cores") == [0.5, 0.1]
