"""The bundled synthetic example and the whole `size` job on it."""

from __future__ import annotations

import hashlib
from functools import cache

import numpy as np
import pandas as pd
import pytest

from planner.inputs.example import SITES, WORKLOADS, generate_example_frame
from planner.jobs.size import SizeInputs, SizeResult, run_size
from planner.outputs.plan import dumps_plan


@cache
def example() -> pd.DataFrame:
    return generate_example_frame()


@cache
def bundled_result() -> SizeResult:
    return run_size(SizeInputs.bundled())


def test_example_shape_and_rhythm() -> None:
    frame = example()
    steps = 365 * 288
    assert len(frame) == steps * len(SITES) * len(WORKLOADS)
    assert len(WORKLOADS) >= 8
    offsets = {t.utcoffset() for t in frame["timestamp"].iloc[:: len(SITES) * len(WORKLOADS)]}
    assert len(offsets) == 2  # local time, across both DST changes
    web = frame[(frame.workload == "epr-web") & (frame.site == "skejby")]
    local = web["timestamp"]
    weekday_noon = web[(local.dt.day_of_week < 5) & (local.dt.hour == 11)].cpu_cores.mean()
    sunday_noon = web[(local.dt.day_of_week == 6) & (local.dt.hour == 11)].cpu_cores.mean()
    night = web[local.dt.hour == 3].cpu_cores.mean()
    assert weekday_noon > 1.5 * sunday_noon
    assert sunday_noon > 1.5 * night
    batch = frame[frame.workload == "reporting-batch"]
    assert (
        batch[batch.timestamp.dt.hour == 3].cpu_cores.mean()
        > 3 * batch[batch.timestamp.dt.hour == 14].cpu_cores.mean()
    )
    per_site = frame.groupby("site").cpu_cores.sum()
    assert per_site["skejby"] > per_site["holstebro"]


def test_example_is_generated_deterministically() -> None:
    first = pd.util.hash_pandas_object(example(), index=False).to_numpy()
    again = pd.util.hash_pandas_object(generate_example_frame(), index=False).to_numpy()
    assert np.array_equal(first, again)


def test_bundled_plan_is_verified_and_byte_identical() -> None:
    result = bundled_result()
    assert result.report.ok
    assert (
        hashlib.sha256(dumps_plan(result.plan).encode()).hexdigest()
        == hashlib.sha256(dumps_plan(run_size(SizeInputs.bundled()).plan).encode()).hexdigest()
    )


def test_bundled_plan_declares_every_critical_workload_in_both_sites() -> None:
    plan = bundled_result().plan
    for workload in plan["workloads"]:
        assert set(workload["sites"]) == set(SITES)
        for site in workload["sites"].values():
            if workload["criticality"] == "critical":
                assert site["replicas_failover"] >= site["replicas_normal"] >= 1
                assert site["cpu_request_cores"] > 0
                assert site["memory_request_gib"] > 0
            if workload["stateful"]:
                assert site["storage_gib"] > 0


@pytest.mark.parametrize("site", SITES)
def test_bundled_plan_costs_add_up(site: str) -> None:
    plan = bundled_result().plan
    doc = next(s for s in plan["sites"] if s["name"] == site)
    costs = doc["costs"]
    assert costs["capex"] == pytest.approx(
        costs["servers"] + costs["drives"] + costs["batteries"] + costs["ups"]
    )
    assert costs["tco"] == pytest.approx(costs["capex"] + costs["maintenance"] + costs["energy"])
    servers = sum(x["count"] * x["unit_price"] for x in doc["servers"])
    assert costs["servers"] == pytest.approx(servers)


def test_the_bundled_profile_built_directly_equals_the_validated_frame() -> None:
    """`planner size` builds the bundled profile straight from the generator (no long
    frame); it must be the very profile the frame gives through validation, byte for byte."""
    from planner.inputs.example import example_profile, example_spec_path
    from planner.inputs.profiles import profile_from_frame
    from planner.inputs.spec import read_spec

    spec = read_spec(example_spec_path())
    direct = example_profile(spec, "spec")
    validated = profile_from_frame(
        generate_example_frame(ordered=False), spec, "bundled", lambda i: f"row {i + 1}"
    )
    assert direct.content_hash() == validated.content_hash()
    assert direct.step_s == validated.step_s == 300
