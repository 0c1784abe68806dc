"""Per-workload Kubernetes sizing: replicas, requests, volumes."""

from __future__ import annotations

import math

from planner.inputs.spec import Workload
from planner.sizing.envelope import NORMAL, lost
from planner.sizing.workloads import WorkloadSizing, size_workloads
from tests.test_envelope import load


def test_horizontal_and_vertical_sizing() -> None:
    _check_sizing(hot=False)


def test_hot_failover_runs_the_failover_count_of_critical_work_all_the_time() -> None:
    """Hot (the default): a critical workload runs its failover count in normal operation
    too, its floor is that count; other workloads keep their normal count and may scale
    down to their failover count (or the spec's minimum when they stop in a failover)."""
    sized = _check_sizing(hot=True)
    web = sized[("web", "alpha")]
    assert (web.replicas_normal, web.replicas_failover, web.replicas_floor) == (13, 13, 13)
    later = sized[("later", "beta")]
    assert (later.replicas_normal, later.replicas_failover, later.replicas_floor) == (2, 0, 1)
    assert web.priority_tier == "critical"
    assert later.priority_tier == "deferrable"
    assert sized[("db", "alpha")].priority_tier == "database"


def _check_sizing(hot: bool) -> dict[tuple[str, str], WorkloadSizing]:
    workloads = (
        Workload("web", "critical", 1.0, "horizontal", 2.0, 4.0, None, 2, False),
        Workload("db", "critical", 1.0, "vertical", None, None, 3, 2, True),
        Workload("later", "deferrable", 0.0, "horizontal", 1.0, 1.0, None, 1, False),
    )
    spec, profile = load(
        {"workloads": workloads, "cpu_ceiling": 0.5, "hot_failover": hot},
        {
            ("alpha", "web"): [10, 4],
            ("beta", "web"): [3, 9],
            ("alpha", "db"): [6, 6],
            ("beta", "db"): [3, 3],
            ("alpha", "later"): [5, 5],
            ("beta", "later"): [1, 1],
        },
    )
    sized = {(z.workload, z.site): z for z in size_workloads(profile, spec)}
    web = sized[("web", "alpha")]
    # normal: 10 cores / (2 x 0.5) = 10 replicas; failover: peak of sum 13 -> 13 replicas
    assert (web.replicas_normal, web.replicas_failover) == ((13 if hot else 10), 13)
    assert web.replicas_floor == (13 if hot else 10)
    assert web.design_cpu_cores == {NORMAL: 10.0, lost("beta"): 13.0}
    db = sized[("db", "alpha")]
    # vertical: 3 pods share the larger of normal 6 and failover 9, under the 0.5 ceiling
    assert (db.replicas_normal, db.replicas_failover) == (3, 3)
    assert math.isclose(db.cpu_request_cores, 6.0)
    assert db.anti_affinity
    later = sized[("later", "beta")]
    # 1 core on 1-core pods under a 0.5 ceiling needs 2; deferrable: none in failover
    assert (later.replicas_normal, later.replicas_failover) == (2, 0)
    return sized
