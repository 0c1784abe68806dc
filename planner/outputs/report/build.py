"""Gather the report's figures from a plan and its inputs, and write every format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from planner.fsutil import staged_directory
from planner.inputs.catalog import Catalog
from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec
from planner.outputs.report.data import ReportData, site_reports
from planner.outputs.report.families import family_charts, stored_by_year
from planner.outputs.tender.requirements import build_tender
from planner.simulate import SEED, YEARS


def gather(
    plan: dict[str, Any],
    spec: Spec,
    catalog: Catalog,
    profile: Profile,
    *,
    years: int = YEARS,
    seed: int = SEED,
) -> ReportData:
    data = ReportData(
        plan=plan,
        currency=plan["assumptions"]["currency"],
        sites=site_reports(plan),
        families=family_charts(profile, spec, catalog, plan),
    )
    _, stored = stored_by_year(profile, spec)
    data.tender = build_tender(plan, spec, catalog, list(stored))
    data.sources = {
        **{s.sku: s.source for s in catalog.servers},
        **{d.sku: d.source for d in catalog.drives},
        **{b.sku: b.source for b in catalog.batteries},
        **{u.sku: u.source for u in catalog.ups_frames},
    }
    if spec.power is not None and all(s.battery.get("status") == "sized" for s in data.sites):
        from planner.simulate.runs import run_availability

        data.incident = incident_as_reported(plan, spec, catalog, profile)
        runs = run_availability(spec, plan, years, seed)
        for label, name in (("sized design", "sized"), ("as-was design", "as-was")):
            result = runs[name].result
            data.availability[label] = result.downtime_per_year
            data.availability_summary[label] = {
                "mean_downtime_min": result.mean_downtime_min,
                "ci_low": result.ci99_downtime_min[0],
                "ci_high": result.ci99_downtime_min[1],
                "nines": result.nines,
                "p_outage_over_hour": result.p_outage_over_hour,
                "years_with_downtime": float(result.years_with_downtime),
                "p_downtime_year_upper99": result.p_downtime_year_upper99,
                "years": float(years),
                "seed": float(seed),
            }
    return data


def incident_as_reported(
    plan: dict[str, Any], spec: Spec, catalog: Catalog, profile: Profile
) -> dict[str, Any]:
    """The incident's published figures replayed on the old design and on the new one
    (each site losing the grid in turn; the worse kept), for the board summary."""
    from planner.simulate.incident import replay_as_was, replay_incident
    from planner.simulate.plan_fleet import fleets_from_plan

    assert spec.power is not None
    reported = spec.power.as_reported
    fleets = fleets_from_plan(plan, "plan")
    new = max(
        (
            replay_incident(
                profile,
                spec,
                catalog,
                fleets,
                site=site,
                end_of_life=True,
                grid_minutes=reported.grid_minutes,
            )
            for site in spec.site_names
        ),
        key=lambda o: o.clinical_downtime_min,
    )
    old = replay_as_was(
        spec,
        standby_works=reported.standby_works,
        grid_minutes=reported.grid_minutes,
        ups_minutes=reported.ups_minutes,
        recovery_minutes=reported.recovery_minutes,
    )
    return {"reported": reported, "new": new, "old": old}


def write_report(
    data: ReportData,
    out_dir: Path,
    progress: Callable[[str], None] = lambda _: None,
    inputs: tuple[Path, ...] = (),
) -> list[Path]:
    """Write report.html, bill-of-materials.xlsx and summary.md (and the tender pack,
    tender.md and tender.xlsx, linked from the report) into ``out_dir`` atomically."""
    from planner.outputs.report import figures
    from planner.outputs.report.html import render_html
    from planner.outputs.report.markdown import render_markdown
    from planner.outputs.report.xlsx import write_xlsx
    from planner.outputs.tender.write import render_markdown as tender_markdown
    from planner.outputs.tender.write import write_xlsx as tender_xlsx

    progress("drawing charts")
    charts: dict[str, bytes] = {}
    for family in data.families:
        charts[f"family-{family.key}"] = figures.family_chart(family)
    charts["costs"] = figures.cost_chart(data)
    if data.incident is not None:
        charts["incident"] = figures.incident_chart(data.incident)
        charts["survival"] = figures.survival_chart(data.sites[0].battery)
    for site in data.sites:
        if site.battery.get("status") == "sized":
            charts[f"battery-{site.name}"] = figures.battery_chart(site.name, site.battery)
    if data.availability:
        charts["availability"] = figures.availability_chart(data.availability)
    if data.what_if is not None and data.what_if.tco:
        charts["tornado"] = figures.tornado_chart(data.what_if, data.currency)
    with staged_directory(out_dir, "report", inputs) as staging:
        progress("writing HTML, XLSX and Markdown")
        (staging / "report.html").write_text(render_html(data, charts), encoding="utf-8")
        write_xlsx(data, staging / "bill-of-materials.xlsx")
        (staging / "summary.md").write_text(render_markdown(data), encoding="utf-8")
        written = ["report.html", "bill-of-materials.xlsx", "summary.md"]
        if data.tender is not None:
            (staging / "tender.md").write_text(tender_markdown(data.tender), encoding="utf-8")
            tender_xlsx(data.tender, staging / "tender.xlsx")
            written += ["tender.md", "tender.xlsx"]
    return [out_dir / name for name in written]
