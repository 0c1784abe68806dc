"""Failover that schedules: pods placed pod by pod, drives that survive the servers they
sit in, overload measured, the link between the sites, and the committed plans."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from infra.settings import PROJECT_ROOT
from planner.inputs.spec import LinkSpec, OverloadBounds, Protection, Workload
from planner.sizing.envelope import compute_envelope
from planner.sizing.fleet import SiteFleet
from planner.sizing.link import size_link
from planner.sizing.packing import can_place, nodes_of, place_drives, removal_sets
from planner.sizing.pods import PodGroup
from planner.sizing.search import optimise
from planner.sizing.verify import verify_plan
from planner.sizing.verify_placement import Pod, _place, _search, check_storage_after_loss
from planner.sizing.workloads import WorkloadSizing
from tests.conftest import base_spec, catalog, drive, envelope, server
from tests.test_envelope import load, tiny_frame

PLANS = {name: PROJECT_ROOT / "stacks" / name / "plan.json" for name in ("prod", "dev")}


def plan_pods(site: dict[str, object], scenario: str) -> list[Pod]:
    pods = []
    for group in site["pods"][scenario]:  # type: ignore[index]
        pods += [
            Pod(
                group["workload"],
                group["cpu_request_cores"],
                group["memory_request_gib"],
                group["max_per_server"],
            )
        ] * group["replicas"]
    return sorted(pods, key=lambda p: (-p.mem, -p.cpu, p.workload))


@pytest.mark.parametrize("name", sorted(PLANS))
def test_committed_plans_place_every_declared_pod_after_any_loss(name: str) -> None:
    """Read back from the plan file alone: every scenario's pods on every site's servers
    after losing each distinct set of r servers (dev exhaustively, by search)."""
    import itertools

    from planner.inputs.catalog import read_catalog
    from planner.inputs.spec import read_spec
    from planner.jobs.size import stack_inputs

    plan = json.loads(PLANS[name].read_text())
    inputs = stack_inputs(PROJECT_ROOT, name)
    spec, catalog_ = read_spec(inputs.spec), read_catalog(inputs.catalog)
    r = spec.servers_lost
    tried = 0
    for site in plan["sites"]:
        kinds = [s["sku"] for s in site["servers"] for _ in range(s["count"])]
        alloc = [
            (
                catalog_.server(k).cores - spec.reserved_cpu_cores,
                catalog_.server(k).memory_gib - spec.reserved_memory_gib,
            )
            for k in kinds
        ]
        for scenario in site["pods"]:
            pods = plan_pods(site, scenario)
            assert pods
            for lost in itertools.combinations(range(len(kinds)), r):
                left = [a for i, a in enumerate(alloc) if i not in lost]
                assert _place(left, pods), (name, site["name"], scenario, lost)
                if name == "dev":
                    assert _search(left, pods) is True  # exhaustive, within budget
                tried += 1
    assert tried > 0


def test_packing_fails_where_the_aggregate_passes_and_the_plan_buys_what_it_takes() -> None:
    """Five 20-core pods on 32-core servers (no ceiling, N+1). The aggregate (100 cores)
    fits five servers after a loss (128 cores), but each server takes one pod: after
    losing one of five, four pods fit. The plan buys six; with five the verifier fails."""
    cat = catalog([server("s32", 32, 256, 1000.0)], [drive("d", 1.0)])
    pods = tuple(
        WorkloadSizing("api", site, "critical", 5, 5, 20.0, 8.0, 0, False, {}, {})
        for site in ("alpha", "beta")
    )
    spec = base_spec(max_pod_share_per_server=1.0)
    groups = (PodGroup("api", 5, 20.0, 8.0, 5, False),)
    five = nodes_of({"s32": 5}, cat, spec)
    assert sum(n.cpu_cores for n in five[1:]) >= 100  # the aggregate after a loss passes
    assert not can_place(five[1:], groups)  # the pods do not
    solution = optimise(spec, cat, envelope(cpu_cores=100), pods)
    assert [f.servers for f in solution.fleets] == [{"s32": 6}, {"s32": 6}]
    assert solution.candidates >= 1
    _, profile = load({}, {("alpha", "app"): [1.0, 1.0], ("beta", "app"): [1.0, 1.0]})
    undersized = (SiteFleet("alpha", {"s32": 5}, {"d": 2}), SiteFleet("beta", {"s32": 6}, {"d": 2}))
    report = verify_plan(profile, spec, cat, undersized, pods)
    failing = [c for c in report.failures() if c.name.startswith("pods placed")]
    assert [(c.site, c.scenario) for c in failing] == [("alpha", "normal"), ("alpha", "lost-beta")]
    assert "FAILS after losing 1 x s32" in failing[0].name


def test_large_database_pods_need_the_large_servers() -> None:
    """Three 300 GiB database replicas (anti-affinity) and twelve 8-core app pods. Small
    servers (256 GiB) cannot hold a database pod; the plan buys 3 + 1 large servers for the
    replicas and enough room for the apps beside them after any loss."""
    spec = base_spec(max_pod_share_per_server=0.5)
    cat = catalog(
        [server("small", 32, 256, 100.0), server("large", 32, 512, 400.0)], [drive("d", 1.0)]
    )
    sizings = tuple(
        z
        for site in ("alpha", "beta")
        for z in (
            WorkloadSizing("db", site, "critical", 3, 3, 8.0, 300.0, 0, True, {}, {}),
            WorkloadSizing("app", site, "critical", 12, 12, 8.0, 16.0, 0, False, {}, {}),
        )
    )
    solution = optimise(spec, cat, envelope(cpu_cores=10, memory_gib=100), sizings)
    for fleet in solution.fleets:
        assert fleet.servers.get("large", 0) >= 4
        groups = (
            PodGroup("db", 3, 8.0, 300.0, 1, True),
            PodGroup("app", 12, 8.0, 16.0, 6, False),
        )
        for lost in removal_sets(fleet.servers, 1):
            left = {k: n - lost.get(k, 0) for k, n in fleet.servers.items()}
            assert can_place(nodes_of(left, cat, spec), groups)


def test_losing_the_server_with_most_drives_breaks_the_old_plan_and_not_the_new() -> None:
    """10 TiB on 1 TiB drives in 4-bay servers: the old plan (3 servers, 10 drives spread
    4 + 3 + 3) keeps 6 TiB after losing the fullest server; the new one keeps 10."""
    spec = base_spec()
    cat = catalog([server("s32", 32, 256, 1000.0)], [drive("d1", 100.0)])
    old = SiteFleet("alpha", {"s32": 3}, {"d1": 10})
    assert sorted(len(p.drives) for p in place_drives(old.servers, old.drives, cat)) == [3, 3, 4]
    capacity = check_storage_after_loss(old, cat, spec, 10.0, 0.0, 0.0)[0]
    assert capacity.left == pytest.approx(6.0)
    assert capacity.left < capacity.need
    new = optimise(spec, cat, envelope(cpu_cores=64, memory_gib=10, stored_tib=10), ()).fleets[0]
    after = check_storage_after_loss(new, cat, spec, 10.0, 0.0, 0.0)[0]
    assert after.left == pytest.approx(10.0)
    assert after.left >= after.need


def test_erasure_coding_needs_hosts_beyond_its_width() -> None:
    """EC 2+1 with N+1: an object spans 3 servers, so 4 servers must hold drives."""
    spec = base_spec(protection=Protection("erasure", data=2, parity=1), fill_ceiling=1.0)
    cat = catalog([server("s", 64, 256, 1000.0, drive_bays=24)], [drive("d", 10.0)])
    solution = optimise(spec, cat, envelope(cpu_cores=1, stored_tib=1), ())
    for fleet in solution.fleets:
        assert fleet.servers == {"s": 4}
        held = [p for p in place_drives(fleet.servers, fleet.drives, cat) if p.drives]
        assert len(held) - 1 >= 3


def spike_profile(bounds: OverloadBounds):  # type: ignore[no-untyped-def]
    """Alpha runs 10 cores for a day at 5 minutes, with a 20-minute spike to 30."""
    steps = 288
    alpha = [10.0] * steps
    for t in range(100, 104):
        alpha[t] = 30.0
    spec, profile = load(
        {"percentile": dict(base_spec().percentile, cpu_cores=95.0), "overload": bounds},
        {("alpha", "app"): alpha, ("beta", "app"): [0.0] * steps},
    )
    return spec, profile


def test_overload_of_a_spike_is_measured_by_hand() -> None:
    """p95 leaves the 4 spike steps out: capacity 10 cores. The spike is 30: 200 % above,
    20 minutes long, 20 minutes in all; against the 10 raw cores as well (ceiling 1)."""
    spec, profile = spike_profile(OverloadBounds())
    cat = catalog([server("one", 1, 64, 1.0)], [drive("d", 1.0)])
    fleets = (SiteFleet("alpha", {"one": 11}), SiteFleet("beta", {"one": 11}))
    report = verify_plan(profile, spec, cat, fleets, ())
    check = next(
        c
        for c in report.checks
        if c.name == "cpu_cores N+1" and c.scenario == "normal" and c.site == "alpha"
    )
    assert check.ok
    assert (check.capacity, check.peak) == (10.0, 30.0)
    assert check.overshoot_pct == pytest.approx(200.0)
    assert (check.longest_overload_min, check.overload_min) == (20.0, 20.0)
    assert check.peak_pct_of_physical == pytest.approx(300.0)


def test_an_overload_bound_makes_the_sizing_buy_for_the_spike() -> None:
    """With max_overshoot 0.5 the capacity must reach 30 / 1.5 = 20 cores; with
    max_overload_minutes 10 at most two of the four spike steps may exceed it: 30."""
    for bounds, cores in (
        (OverloadBounds(max_overshoot=0.5), 20.0),
        (OverloadBounds(max_overload_minutes=10), 30.0),
    ):
        spec, profile = spike_profile(bounds)
        env = compute_envelope(profile, spec)
        assert env.site("alpha").demand["normal"]["cpu_cores"] == pytest.approx(cores)
        cat = catalog([server("one", 1, 64, 1.0)], [drive("d", 1.0)])
        fleets = optimise(spec, cat, env, ()).fleets
        report = verify_plan(profile, spec, cat, fleets, ())
        assert report.ok
        short = (SiteFleet("alpha", {"one": fleets[0].servers["one"] - 1}), fleets[1])
        assert not verify_plan(profile, spec, cat, short, ()).ok


def test_link_sizing_by_hand() -> None:
    """The database writes 100 MiB/s at alpha and 60 at beta, peaking at 150 at alpha;
    no growth, one copy crosses, 10 % protocol overhead: 150 x 2^20 x 8 / 10^9 x 1.1 =
    1.384 Gbit/s on each of two paths. 120 km at 5 us/km: a 1.2 ms round trip per commit."""
    workloads = (
        Workload("db", "critical", 1.0, "vertical", None, None, 3, 1, True),
        Workload("web", "critical", 1.0, "horizontal", 1.0, 1.0, None, 1, False),
    )
    link = LinkSpec(distance_km=120, latency_budget_ms=2.0)
    spec = base_spec(workloads=workloads, link=link)
    frame = tiny_frame(
        {
            ("alpha", "db"): [100.0, 150.0],
            ("beta", "db"): [60.0, 60.0],
            ("alpha", "web"): [900.0, 900.0],
            ("beta", "web"): [0.0, 0.0],
        },
        metric="write_mib_s",
    )
    from planner.inputs.profiles import profile_from_frame

    profile = profile_from_frame(frame, spec, "t.csv", lambda i: f"line {i + 2}")
    sized = size_link(profile, spec)
    assert sized is not None
    assert sized.replicated_workloads == ("db",)
    assert sized.peak_mib_s == pytest.approx(150.0)
    assert sized.required_gbit_s_per_path == pytest.approx(150 * 2**20 * 8 / 1e9 * 1.1)
    assert sized.required_gbit_s_per_path == pytest.approx(1.384, abs=1e-3)
    assert sized.added_commit_latency_ms == pytest.approx(1.2)
    assert sized.latency_ok
    far = size_link(profile, base_spec(workloads=workloads, link=LinkSpec(250, 2.0)))
    assert far is not None
    assert not far.latency_ok  # 2.5 ms > 2 ms


def test_a_generated_case_with_one_site_at_90_percent_and_a_spike(tmp_path: Path) -> None:
    """Alpha carries 90 % of the load, with a spike; the plan places every pod."""
    import yaml
    from click.testing import CliRunner

    from planner.cli import main
    from tests.conftest import CATALOG_DOC, SPEC_DOC, profile_frame

    frame = profile_frame()
    for metric in ("cpu_cores", "memory_gib", "read_iops"):
        total = frame.groupby(["timestamp", "workload"])[metric].transform("sum")
        frame[metric] = np.where(frame.site == "alpha", 0.9, 0.1) * total
    spike = (frame.index % 288 >= 150) & (frame.index % 288 < 154) & (frame.site == "alpha")
    frame.loc[spike, "cpu_cores"] *= 3
    frame["timestamp"] = frame["timestamp"].map(lambda t: t.isoformat())
    (tmp_path / "profile.csv").write_text(frame.to_csv(index=False))
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(SPEC_DOC))
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(CATALOG_DOC))
    out = tmp_path / "plan.json"
    args = [
        "size",
        "--profile",
        str(tmp_path / "profile.csv"),
        "--spec",
        str(tmp_path / "spec.yaml"),
        "--catalog",
        str(tmp_path / "catalog.yaml"),
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    plan = json.loads(out.read_text())
    placed = [c for c in plan["constraints"] if c["name"].startswith("pods placed")]
    assert len(placed) == 4
    assert all(c["ok"] for c in placed)
