"""Placement in every arrival order: the bound, the orders played, and the sizing."""

from __future__ import annotations

import random

import pytest

from planner.sizing.arrival import (
    SAMPLED_ORDERS,
    SEARCH_STARTS,
    arrival_orders,
    orders_that_strand,
    stranded_in_some_order,
    strands_in_some_order,
)
from planner.sizing.fleet import survivors
from planner.sizing.packing import nodes_of, removal_sets
from planner.sizing.pods import PRIORITIES, queued_pods, site_pod_sets
from planner.sizing.scheduler import Allocatable, QueuedPod, schedule
from planner.sizing.search import optimise
from planner.sizing.workloads import WorkloadSizing
from tests.conftest import base_spec, catalog, drive, envelope, server

CRITICAL = PRIORITIES["critical"]


def pod(workload: str, cpu: float, memory: float, *, anti: bool = False) -> QueuedPod:
    return QueuedPod(workload, CRITICAL, cpu, memory, anti, None if anti else 1_000)


def test_the_bound_proves_what_no_order_can_break_and_refuses_what_one_can() -> None:
    """Two 16-core servers, one 12-core pod and four 4-core pods (28 of 32 cores): big
    first, everything fits; small first, the scheduler spreads them 8 and 8 and the big
    pod is stranded. The bound must refuse it; with an 8-core pod and 2-core ones it
    proves that no order strands anything."""
    servers = [Allocatable(16.0, 64.0)] * 2
    tight = [pod("big", 12.0, 1.0)] + [pod("small", 4.0, 1.0)] * 4
    assert {x.workload for x in stranded_in_some_order(servers, tight, CRITICAL)} >= {"big"}
    assert schedule(servers, tight, [0, 1, 2, 3, 4]).pending == ()
    assert schedule(servers, tight, [1, 2, 3, 4, 0]).pending == (0,)
    roomy = [pod("big", 8.0, 1.0)] + [pod("small", 2.0, 1.0)] * 4
    assert stranded_in_some_order(servers, roomy, CRITICAL) == []
    for order in arrival_orders(roomy, samples=200):
        assert schedule(servers, roomy, order).pending == ()


def test_the_scheduler_takes_pods_first_in_first_out_within_a_priority() -> None:
    """The real queue: priority first, then arrival; not larger pods first."""
    servers = [Allocatable(16.0, 64.0)]
    pods = [pod("a", 10.0, 1.0), pod("b", 10.0, 1.0)]
    assert schedule(servers, pods, [1, 0]).pending == (0,)
    assert schedule(servers, pods, [0, 1]).pending == (1,)


@pytest.mark.parametrize("seed", range(24))
def test_no_sized_fleet_strands_a_critical_pod_in_random_arrival_orders(seed: int) -> None:
    """Small critical pods beside larger ones on 16-core servers, one loss: whatever the
    sizing buys must place every critical pod after any loss in 120 random arrival orders
    of the real queue (drawn here, not the orders the sizing tried)."""
    rng = random.Random(seed)
    spec = base_spec(servers_lost=1)
    cat = catalog([server("s16", 16, 128, 1000.0)], [drive("d", 1.0)])
    sizings = []
    for k in range(rng.randint(2, 4)):
        cpu = float(rng.choice([1, 2, 3, 5, 6, 7]))
        replicas = rng.randint(2, 8)
        sizings.append(
            WorkloadSizing(
                f"w{k}", "alpha", "critical", replicas, replicas, cpu, 4.0, 0, False, {}, {}
            )
        )
    total = sum(z.replicas_max * z.cpu_request_cores for z in sizings)
    solution = optimise(spec, cat, envelope(cpu_cores=total / 2), tuple(sizings))
    fleet = solution.fleets[0]
    draw = random.Random(1000 + seed)
    for scenario, groups in site_pod_sets(tuple(sizings), spec, "alpha").items():
        pods = queued_pods(groups)
        for lost in removal_sets(fleet.servers, spec.servers_lost):
            nodes = nodes_of(survivors(fleet.servers, lost), cat, spec, fleet.servers)
            servers = [Allocatable(n.cpu_cores, n.memory_gib) for n in nodes]
            for _ in range(120):
                order = list(range(len(pods)))
                draw.shuffle(order)
                assert schedule(servers, pods, order).pending == (), (scenario, lost, order)


def test_orders_that_strand_counts_the_orders_and_names_the_workloads() -> None:
    servers = [Allocatable(16.0, 64.0)] * 2
    tight = [pod("big", 12.0, 1.0)] + [pod("small", 4.0, 1.0)] * 4
    bad, tried, stuck = orders_that_strand(servers, tight, CRITICAL)
    assert tried == 4 + SAMPLED_ORDERS + SEARCH_STARTS or tried == 4 + SAMPLED_ORDERS
    assert 0 < bad < tried
    assert stuck == {"big"}


def test_the_exhaustive_search_finds_every_stranding_order_of_small_cases() -> None:
    """Random small pod sets on 2-3 servers: whenever some permutation, played through the
    scheduler, strands a pod, the search over every order must say so; and when the
    search says no order does, no permutation may."""
    import itertools

    rng = random.Random(5)
    checked = stranding = 0
    for _ in range(150):
        servers = [Allocatable(float(rng.choice([8, 12, 16])), 64.0)] * rng.randint(2, 3)
        pods = []
        for w in range(rng.randint(1, 3)):
            cpu = float(rng.choice([1, 2, 3, 4, 5, 6, 8, 12]))
            anti = rng.random() < 0.2
            skew = None if anti else rng.choice([1, 2, 3])
            pods += [QueuedPod(f"w{w}", CRITICAL, cpu, 1.0, anti, skew)] * rng.randint(1, 3)
        if len(pods) > 7:
            continue
        found = strands_in_some_order(servers, pods, CRITICAL)
        assert found is not None
        by_permutation = any(
            schedule(servers, pods, list(order)).pending
            for order in itertools.permutations(range(len(pods)))
        )
        assert found or not by_permutation
        checked += 1
        stranding += by_permutation
    assert checked > 80
    assert stranding > 5  # the cases do exercise stranding
