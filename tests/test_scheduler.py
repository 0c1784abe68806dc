"""The scheduler model, rule by rule, and the sizing's use of it (hand-checked cases)."""

from __future__ import annotations

from planner.sizing.packing import packing_failures
from planner.sizing.pods import PRIORITIES, PodGroup
from planner.sizing.scheduler import Allocatable, QueuedPod, schedule
from tests.conftest import base_spec, catalog, drive, server


def pod(
    workload: str, cpu: float, priority: int = 1, *, anti: bool = False, skew: int | None = None
) -> QueuedPod:
    return QueuedPod(workload, priority, cpu, cpu, anti, skew)


def test_higher_priority_is_placed_first_whatever_the_queue_order() -> None:
    servers = [Allocatable(4, 4)]
    result = schedule(servers, [pod("low", 4, priority=1), pod("high", 4, priority=2)])
    assert result.pending == (0,)
    assert result.placement == ((1,),)


def test_least_allocated_server_wins_and_ties_go_to_the_first() -> None:
    servers = [Allocatable(8, 8), Allocatable(8, 8), Allocatable(16, 16)]
    result = schedule(servers, [pod("a", 2), pod("b", 2)])
    # a (2 cores) on the 16-core server leaves a free share of 14/16 x 2 = 1.75, the best;
    # then b: 8-core servers 6/8 x 2 = 1.5, the 16-core one 12/16 x 2 = 1.5: a tie, the first
    assert result.placement == ((1,), (), (0,))
    result = schedule(servers[:2], [pod("a", 2), pod("b", 2)])
    assert result.placement == ((0,), (1,))  # a tie goes first, then the emptier server


def test_required_anti_affinity_keeps_one_pod_per_server() -> None:
    servers = [Allocatable(100, 100), Allocatable(1, 1)]
    result = schedule(servers, [pod("db", 1, anti=True) for _ in range(3)])
    assert [len(p) for p in result.placement] == [1, 1]
    assert len(result.pending) == 1


def test_hostname_spread_bounds_the_skew_not_the_count() -> None:
    # maxSkew 1 on two servers: counts may differ by one at most; the second server only
    # fits one pod, so the first stops at two and the rest stay Pending
    servers = [Allocatable(100, 100), Allocatable(1, 1)]
    result = schedule(servers, [pod("web", 1, skew=1) for _ in range(5)])
    assert [len(p) for p in result.placement] == [2, 1]
    assert len(result.pending) == 2
    # with one server the least count is its own: the skew never blocks
    result = schedule(servers[:1], [pod("web", 1, skew=1) for _ in range(5)])
    assert result.pending == ()


def test_fragmentation_a_packing_exists_the_scheduler_does_not_find() -> None:
    """Two 4-core servers; two 2-core critical pods and one 4-core degradable pod. A packing
    exists (both small pods on one server), but the scheduler spreads the small pods, so
    the large one stays Pending: the sizing rejects the fleet, and buys a third server."""
    spec = base_spec(servers_lost=0)
    cat = catalog([server("s4", 4, 4, 100.0)], [drive("d", 1.0)])
    groups = (
        PodGroup("small", 2, 2.0, 2.0, 2, False, PRIORITIES["critical"]),
        PodGroup("large", 1, 4.0, 4.0, 1, False, PRIORITIES["degradable"]),
    )
    failures = packing_failures({"s4": 2}, cat, spec, {"normal": groups})
    assert len(failures) == 1
    assert failures[0].startswith("normal: after losing none, ")
    assert failures[0].endswith(
        "arrival orders leave large Pending (the scheduler's queue is first-in-first-out "
        "within a priority)"
    )
    assert packing_failures({"s4": 3}, cat, spec, {"normal": groups}) == []
    # one rule for deferrable work: with every server up it runs; after a loss it may
    # wait for room (three servers, one lost: the small pods spread over the other two)
    one_lost = base_spec(servers_lost=1)
    deferrable = (groups[0], PodGroup("large", 1, 4.0, 4.0, 1, False, PRIORITIES["deferrable"]))
    assert packing_failures({"s4": 3}, cat, one_lost, {"normal": deferrable}) == []
    assert packing_failures({"s4": 2}, cat, one_lost, {"normal": deferrable}) != []
    degradable = packing_failures({"s4": 3}, cat, one_lost, {"normal": groups})
    assert degradable
    assert "after losing 1 x s4" in degradable[0]
    # and no packing at all is the other message
    too_many = (PodGroup("small", 5, 2.0, 2.0, 5, False),)
    assert packing_failures({"s4": 2}, cat, spec, {"normal": too_many}) == [
        "normal: pods do not fit after losing none"
    ]
