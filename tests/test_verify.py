"""The independent verifier: exceedance counting, N+r by dropping the largest, margins."""

from __future__ import annotations

from pathlib import Path

from planner.inputs.catalog import default_catalog_path
from planner.sizing.fleet import SiteFleet
from planner.sizing.verify import verify_plan
from tests.conftest import base_spec, catalog, drive, server
from tests.test_envelope import load


def checks_by_name(report, name, site="alpha", scenario="normal"):  # type: ignore[no-untyped-def]
    return next(
        c for c in report.checks if c.name == name and c.site == site and c.scenario == scenario
    )


def test_percentile_allows_exactly_the_permitted_exceedances() -> None:
    percentile = dict(base_spec().percentile, cpu_cores=75.0)
    spec, profile = load(
        {"percentile": percentile, "servers_lost": 0},
        {
            ("alpha", "app"): [1, 9, 5, 3],
            ("beta", "app"): [0, 0, 0, 0],
        },
    )
    cat = catalog([server("one", 1, 64, 1.0)], [drive("d", 1.0)])
    fleets = (SiteFleet("alpha", {"one": 5}), SiteFleet("beta", {"one": 9}))
    report = verify_plan(profile, spec, cat, fleets, ())
    cpu = checks_by_name(report, "cpu_cores N+0")
    assert (cpu.exceedances, cpu.allowed, cpu.ok, cpu.demand) == (1, 1, True, 5.0)
    assert cpu.binding  # one core fewer and two samples would exceed
    short = verify_plan(profile, spec, cat, (SiteFleet("alpha", {"one": 4}), fleets[1]), ())
    assert not checks_by_name(short, "cpu_cores N+0").ok
    assert not short.ok


def test_n_plus_r_drops_the_largest_servers() -> None:
    """Capacity 100 + 40 + 40 with r = 1 leaves 80: a demand of 90 fails, 80 passes."""
    for demand, ok in ((90.0, False), (80.0, True)):
        spec, profile = load({}, {("alpha", "app"): [demand, 0.0], ("beta", "app"): [0.0, 0.0]})
        cat = catalog(
            [server("big", 100, 999, 1.0), server("small", 40, 999, 1.0)], [drive("d", 1.0)]
        )
        fleets = (SiteFleet("alpha", {"big": 1, "small": 2}), SiteFleet("beta", {"big": 3}))
        report = verify_plan(profile, spec, cat, fleets, ())
        check = checks_by_name(report, "cpu_cores N+1")
        assert check.capacity == 80.0
        assert check.ok is ok


def test_failover_scenario_is_checked_on_the_survivor() -> None:
    spec, profile = load({"servers_lost": 0}, {("alpha", "app"): [3, 1], ("beta", "app"): [1, 3]})
    cat = catalog([server("one", 1, 64, 1.0)], [drive("d", 1.0)])
    fleets = (SiteFleet("alpha", {"one": 3}), SiteFleet("beta", {"one": 4}))
    report = verify_plan(profile, spec, cat, fleets, ())
    assert not checks_by_name(report, "cpu_cores N+0", "alpha", "lost-beta").ok
    assert checks_by_name(report, "cpu_cores N+0", "beta", "lost-alpha").ok


def test_the_string_loss_check_fails_the_old_battery_at_twice_the_scale(
    tmp_path: Path,
) -> None:
    """The example at twice its load, 14 days. The old sizing counted each 51.2 V module as
    a parallel string and bought two per site; the verifier now sees strings as built on
    the frame's 384-480 V bus, and with one lost the rest must still carry the peak for the
    required runtime at end of life: the old battery fails that, the new sizing passes."""
    import dataclasses

    from planner.inputs.example import example_spec_path, generate_example_frame
    from planner.jobs.size import SizeInputs, run_size

    frame = generate_example_frame(days=14, scale=2.0)
    profile_path = tmp_path / "profile.parquet"
    frame.to_parquet(profile_path)
    catalog_2017 = default_catalog_path().with_name("catalog-2017.yaml")  # about batteries
    result = run_size(SizeInputs(profile_path, example_spec_path(), catalog_2017))
    for site in result.plan["sites"]:
        battery = site["battery"]
        assert battery["strings"] >= 2
        assert (
            battery["runtime_minutes_at_design_load"]["sizing_view_one_string_lost"]
            >= battery["required_runtime_minutes"]
        )
    old = tuple(
        dataclasses.replace(fleet, batteries={"lfp-rack-5k12": 2}, strings=2)
        for fleet in result.solution.fleets
    )
    report = verify_plan(result.profile, result.spec, result.catalog, old, result.sizings)
    failed = {c.name for c in report.failures()}
    assert "battery runtime at peak load, end of life, one string lost" in failed
    assert "battery string voltage on the frame's DC bus" in failed


def _one_fewer(fleet: SiteFleet, kind: str) -> SiteFleet:
    import dataclasses

    counts = dict(getattr(fleet, kind))
    sku = sorted(counts)[0]
    counts[sku] -= 1
    return dataclasses.replace(fleet, **{kind: counts})


def test_decides_marks_what_one_unit_less_breaks() -> None:
    """On the bundled example: a check marked as deciding (binding) fails with one unit
    fewer of what it counts (one drive for flash after a loss, one server for placement),
    and an unmarked placement check still holds with one server fewer."""
    from tests.test_example import bundled_result

    result = bundled_result()
    report = result.report
    by_key = {(c.name, c.site, c.scenario): c for c in report.checks}
    for fleet in result.solution.fleets:
        others = tuple(f for f in result.solution.fleets if f.site != fleet.site)
        for kind, prefix in (("drives", "flash usable capacity after losing"),
                             ("servers", "pods placed after losing")):  # fmt: skip
            marked = {k: c.binding for k, c in by_key.items()
                      if k[1] == fleet.site and k[0].startswith(prefix)}  # fmt: skip
            assert marked, prefix
            fewer = verify_plan(result.profile, result.spec, result.catalog,
                                (_one_fewer(fleet, kind), *others), result.sizings)  # fmt: skip
            after = {(c.name.split(" (FAILS")[0], c.site, c.scenario): c.ok
                     for c in fewer.checks}  # fmt: skip
            for key, binding in marked.items():
                assert after[key] is (not binding), (key, binding)
    flash = [c for c in report.checks if c.name.startswith("flash usable capacity after")]
    assert all(c.binding for c in flash)  # 5.5 TiB of slack, less than one drive's 7 TiB
