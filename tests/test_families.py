"""The report's constraint-family charts: drawn from the same figures the plan checks."""

from __future__ import annotations

import pytest

from planner.outputs.report.families import family_charts
from tests.test_example import bundled_result


def charts_by_key() -> dict[str, object]:
    result = bundled_result()
    return {
        c.key: c for c in family_charts(result.profile, result.spec, result.catalog, result.plan)
    }


def constraint(name: str, site: str, scenario: str = "") -> dict[str, object]:
    plan = bundled_result().plan
    return next(
        c
        for c in plan["constraints"]
        if c["name"] == name and c["site"] == site and c["scenario"] == scenario
    )


def test_every_family_of_every_site_is_charted() -> None:
    keys = set(charts_by_key())
    for site in ("holstebro", "skejby"):
        for metric in ("cpu_cores", "memory_gib", "read_iops", "write_iops", "stored_tib", "power"):
            assert f"{metric}-{site}" in keys


@pytest.mark.parametrize("site", ["holstebro", "skejby"])
def test_cpu_chart_draws_the_checked_capacity_ceiling_and_peak(site: str) -> None:
    chart = charts_by_key()[f"cpu_cores-{site}"]
    other = "skejby" if site == "holstebro" else "holstebro"
    check = constraint("cpu_cores N+1", site, f"lost-{other}")
    assert chart.ceiling == pytest.approx(check["capacity"])
    ceiling = bundled_result().plan["assumptions"]["utilisation_ceiling"]["cpu"]
    assert chart.physical == pytest.approx(check["capacity"] / ceiling)
    # the daily maxima reach the verifier's own peak of the failover load
    failover = chart.demand[f"lost-{other} (failover)"]
    assert float(failover.max()) == pytest.approx(check["peak"], rel=1e-9)
    assert any("steps above the ceiling" in line for line in chart.overload)


@pytest.mark.parametrize("site", ["holstebro", "skejby"])
def test_storage_chart_ends_at_the_checked_demand(site: str) -> None:
    chart = charts_by_key()[f"stored_tib-{site}"]
    check = constraint("flash usable capacity after losing 1 server(s)", site)
    (stored,) = chart.demand.values()
    assert chart.x[0] == 0
    assert chart.x[-1] == bundled_result().spec.horizon_years
    assert float(stored[-1]) == pytest.approx(check["demand"], rel=1e-9)
    assert list(stored) == sorted(stored)  # the example's data only grows
    assert chart.ceiling == pytest.approx(check["capacity"])


@pytest.mark.parametrize("site", ["holstebro", "skejby"])
def test_power_chart_peak_times_margin_is_the_ups_check(site: str) -> None:
    chart = charts_by_key()[f"power-{site}"]
    check = constraint("UPS power after losing 1 frame(s) (peak load x margin)", site)
    margin = bundled_result().spec.power.design_margin
    peak = max(float(v.max()) for v in chart.demand.values())
    # the chart draws the sizing's bound (every busy core on its server's steepest chord);
    # the verifier packs the busy cores onto the fewest servers, a placement that exists:
    # the bound covers it, within one part-busy server's gap under its chord
    assert peak * margin >= check["demand"] * (1 - 1e-9)
    assert peak * margin <= check["demand"] * 1.05
    assert chart.physical == pytest.approx(check["capacity"])
    assert chart.ceiling == pytest.approx(check["capacity"] / margin)
