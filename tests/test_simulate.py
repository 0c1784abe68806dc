"""Incident replay and availability, through the library and the CLI."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.simulate.incident import replay_as_was, replay_incident
from planner.simulate.plan_fleet import fleets_from_plan
from tests.test_cli import size_args
from tests.test_example import bundled_result


@cache
def bundled_fleets():  # type: ignore[no-untyped-def]
    result = bundled_result()
    return result, fleets_from_plan(result.plan, "plan")


@pytest.mark.parametrize("site", ["holstebro", "skejby"])
@pytest.mark.parametrize("end_of_life", [False, True], ids=["new", "end-of-life"])
def test_bundled_plan_survives_the_incident(site: str, end_of_life: bool) -> None:
    result, fleets = bundled_fleets()
    outcome = replay_incident(
        result.profile, result.spec, result.catalog, fleets, site=site, end_of_life=end_of_life
    )
    assert outcome.clinical_downtime_min == 0.0
    assert outcome.battery_empty_at_min is None
    assert not outcome.unclean_shutdown
    assert outcome.soc_at_handover is not None
    assert 0.0 < outcome.soc_at_handover < 1.0
    # the survivor carries the time-aligned failover load under its ceiling's headroom
    assert 0.1 < outcome.survivor_peak_cpu_utilisation < 0.7  # above p99 sizing, below 1


def test_the_as_was_design_does_not_survive() -> None:
    result, _ = bundled_fleets()
    for works in (True, False):
        old = replay_as_was(result.spec, standby_works=works, grid_minutes=1440)
        assert old.clinical_downtime_min > 60


def test_a_slow_failover_drains_the_battery() -> None:
    result, fleets = bundled_fleets()
    outcome = replay_incident(
        result.profile,
        result.spec,
        result.catalog,
        fleets,
        site="skejby",
        failover_minutes=600.0,
        grid_minutes=1440.0,
    )
    dark = outcome.dark_at_min
    assert dark is not None
    handover = 15 / 60 + 600.0  # noticed after start + transfer time, then 600 minutes
    assert outcome.clinical_downtime_min == pytest.approx(handover - dark)
    assert outcome.clinical_downtime_min > 60
    assert outcome.unclean_shutdown


def test_the_incident_as_reported_costs_hours_before_and_nothing_now() -> None:
    """Grid back after 31 minutes, the old UPS flat after 27, the old standby not starting,
    the old site's restart until 7.5 h after the start: the as-was design is down for
    hours; the new design, same event, generator failing too, loses no clinical minute."""
    from planner.simulate.incident import AS_REPORTED

    result, fleets = bundled_fleets()
    old = replay_as_was(
        result.spec,
        standby_works=AS_REPORTED.standby_works,
        grid_minutes=AS_REPORTED.grid_minutes,
        ups_minutes=AS_REPORTED.ups_minutes,
        recovery_minutes=AS_REPORTED.recovery_minutes,
    )
    assert old.clinical_back_at_min == pytest.approx(AS_REPORTED.patient_record_back_at_min)
    assert old.clinical_downtime_min == pytest.approx(450 - 27)
    for site in ("holstebro", "skejby"):
        for end_of_life in (False, True):
            new = replay_incident(
                result.profile,
                result.spec,
                result.catalog,
                fleets,
                site=site,
                end_of_life=end_of_life,
                grid_minutes=AS_REPORTED.grid_minutes,
            )
            assert new.clinical_downtime_min == 0.0
            assert new.dark_at_min is None


@pytest.mark.parametrize("failover", [10.0, 240.0])
def test_with_the_grid_back_at_30_no_battery_runs_flat_after_30(failover: float) -> None:
    result, fleets = bundled_fleets()
    new = replay_incident(
        result.profile,
        result.spec,
        result.catalog,
        fleets,
        site="skejby",
        failover_minutes=failover,
        grid_minutes=30.0,
    )
    assert new.battery_empty_at_min is None or new.battery_empty_at_min <= 30.0
    assert "grid back at skejby" in " ".join(e.text for e in new.events)
    for works in (True, False):
        old = replay_as_was(result.spec, standby_works=works, grid_minutes=30.0)
        assert old.battery_flat_at_min is None or old.battery_flat_at_min <= 30.0


def test_generator_that_starts_needs_only_the_bridge() -> None:
    result, fleets = bundled_fleets()
    outcome = replay_incident(
        result.profile,
        result.spec,
        result.catalog,
        fleets,
        site="holstebro",
        generator_starts=True,
    )
    assert outcome.clinical_downtime_min == 0.0
    assert outcome.soc_at_handover is None


def test_cli_simulations_on_a_small_plan(powered_inputs: dict[str, Path], tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    assert CliRunner().invoke(main, size_args(powered_inputs, plan)).exit_code == 0
    inputs = size_args(powered_inputs, plan)[1:-2]
    incident = CliRunner().invoke(main, ["simulate", "incident", str(plan), *inputs])
    assert incident.exit_code == 0, incident.output
    assert incident.output.count("clinical downtime 0.0 min") == 2
    assert "As-was design" in incident.output
    slow = CliRunner().invoke(
        main,
        [
            "simulate",
            "incident",
            str(plan),
            *inputs,
            "--site",
            "alpha",
            "--failover-minutes",
            "5000",
        ],
    )
    assert "battery at alpha empty" in slow.output
    reported = CliRunner().invoke(
        main, ["simulate", "incident", str(plan), *inputs, "--as-reported"]
    )
    assert reported.exit_code == 0, reported.output
    assert "grid back after 31 min (as reported)" in reported.output
    assert "clinical downtime 423 min (7.0 h)" in reported.output
    availability = CliRunner().invoke(
        main, ["simulate", "availability", str(plan), *inputs, "--years", "20000"]
    )
    assert availability.exit_code == 0, availability.output
    assert "sized design (both sites)" in availability.output
    assert "as-was design" in availability.output
    assert (
        "chance of no clinical downtime in a grid outage at one site of 0.5 h"
        in availability.output
    )
    assert "in a grid outage at both sites at once of 0.5 h" in availability.output
    as_json = CliRunner().invoke(
        main, ["simulate", "availability", str(plan), *inputs, "--years", "2000", "--json"]
    )
    assert as_json.exit_code == 0, as_json.stderr
    doc = json.loads(as_json.stdout)
    for name in ("sized", "as_was"):
        curve = doc["designs"][name]["survival"]
        assert [p["outage_hours"] for p in curve] == [0.5, 1.0, 2.0, 4.0, 8.0, 24.0]
        assert all(0.0 <= p["p_no_clinical_downtime"] <= 1.0 for p in curve)


def test_cli_refuses_a_plan_from_other_inputs(
    powered_inputs: dict[str, Path], tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    assert CliRunner().invoke(main, size_args(powered_inputs, plan)).exit_code == 0
    powered_inputs["spec"].write_text(powered_inputs["spec"].read_text() + "\n# edited\n")
    inputs = size_args(powered_inputs, plan)[1:-2]
    result = CliRunner().invoke(main, ["simulate", "incident", str(plan), *inputs])
    assert result.exit_code == 2
    assert "is out of date: the spec spec.yaml changed since the plan was made" in result.output


def test_the_replay_heats_the_room_by_the_plans_own_room_model() -> None:
    """With the chilled-water buffer on the UPS and a failover too slow to matter, the
    replay reaches the inlet limit between the steady-load answers of the plan's model
    at the window's highest and lowest load: the buffer removes only the heat there is
    (it does not drain at its full rate while the room is cooler than it could be)."""
    import dataclasses

    from planner.power.thermal import minutes_to_limit
    from planner.simulate.incident import _grown, design_peak_index
    from planner.sizing.power_chain import ups_load

    result, fleets = bundled_fleets()
    spec, catalog, profile = result.spec, result.catalog, result.profile
    option = spec.power.cooling_options[0]
    cooled = tuple(dataclasses.replace(f, cooling=(option.name,)) for f in fleets)
    outcome = replay_incident(
        profile, spec, catalog, cooled, site="skejby", failover_minutes=600.0, grid_minutes=1440.0
    )
    hot = outcome.room_at_limit_at_min
    assert hot is not None
    fleet = cooled[1]
    start = design_peak_index(profile, spec, "skejby")
    cpu = _grown(profile, spec, "cpu_cores")[profile.sites.index("skejby")].sum(axis=0)
    steps = int(hot // (profile.step_s / 60.0)) + 1
    loads = [ups_load(fleet, catalog, spec, float(c)).total_w for c in cpu[start : start + steps]]
    room = spec.power.room
    assert (
        minutes_to_limit(room, max(loads), [option])
        <= hot
        <= minutes_to_limit(room, min(loads), [option])
    )
    # the buffer's store of 20 kWh at its full 25 kW would last 48 min: the room then
    # heats at the whole load; the plan's model lets the store last as long as the heat needs
    assert hot > 48.0 + 1.0


def test_the_as_reported_replay_takes_the_specs_figures(
    powered_inputs: dict[str, Path], tmp_path: Path
) -> None:
    """The published figures are defaults: a spec whose incident had a 20-minute UPS and
    the grid back after 45 minutes replays those, not 27 and 31 (the rest published)."""
    import yaml

    doc = yaml.safe_load(powered_inputs["spec"].read_text())
    doc["power"]["as_was"]["as_reported"] = {"ups_minutes": 20, "grid_minutes": 45}
    powered_inputs["spec"].write_text(yaml.safe_dump(doc))
    plan = tmp_path / "plan.json"
    assert CliRunner().invoke(main, size_args(powered_inputs, plan)).exit_code == 0
    inputs = size_args(powered_inputs, plan)[1:-2]
    run = CliRunner().invoke(main, ["simulate", "incident", str(plan), *inputs, "--as-reported"])
    assert run.exit_code == 0, run.output
    assert "grid back after 45 min (as reported)" in run.output
    # flat at 20, the record back 450 min after the start (published): 430 min down
    assert "clinical downtime 430 min" in run.output
