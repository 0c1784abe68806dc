"""The self-contained HTML report: a Jinja2 template (autoescaped) with inline CSS, charts
as data: URIs, no scripts, no network."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from planner.outputs.plan import margin_key, margin_text, plan_digest
from planner.outputs.report.data import ReportData, SiteReport
from planner.outputs.report.text import (
    ASSUMPTION_SOURCES,
    board_summary,
    executive_summary,
    normalisation_rows,
)

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1000px;
       color: #1d1d1d; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #1b6ca8;
     padding-bottom: 0.2em; margin-top: 1.8em; }
table { border-collapse: collapse; width: 100%; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #c9d3dd; padding: 0.3em 0.5em; text-align: left; }
th { background: #eef3f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; background: #f6f8fa; }
.summary { background: #f3f8fc; border-left: 4px solid #1b6ca8; padding: 0.6em 1em; }
.note { color: #555; font-size: 0.85em; } img { max-width: 100%; }
h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
figure, tr, .summary p, .keep, figcaption { break-inside: avoid; page-break-inside: avoid; }
thead { display: table-header-group; } p { orphans: 3; widows: 3; }
.wide { overflow-x: auto; }
@media print { body { margin: 0; max-width: none; font-size: 10pt; } }
@media (max-width: 600px) { body { margin: 0.5em; font-size: 0.95em; }
  table { font-size: 0.8em; } th, td { padding: 0.2em 0.3em; } }
"""


def page_css(footer: str) -> str:
    """A4 with margins and the plan's identity in the footer of every printed page."""
    safe = footer.replace("\\", "").replace('"', "'")
    return (
        "@page { size: A4; margin: 18mm 15mm 20mm 15mm; "
        f'@bottom-center {{ content: "{safe}  |  page " counter(page); font-size: 8pt; '
        "color: #555; } }"
    )


def report_date() -> str:
    """Today (UTC), or SOURCE_DATE_EPOCH's date for a reproducible build."""
    import datetime
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
        if epoch and epoch.isdigit()
        else datetime.datetime.now(datetime.UTC)
    )
    return now.date().isoformat()


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Any]]
    numeric: frozenset[int]
    total: list[Any] | None = None


@dataclass(frozen=True)
class Chart:
    png: str  # base64
    alt: str
    caption: str = ""


def _chart(charts: dict[str, bytes], key: str, alt: str, caption: str = "") -> Chart | None:
    if key not in charts:
        return None
    return Chart(base64.b64encode(charts[key]).decode("ascii"), alt, caption)


def quantity(value: float, unit: str = "") -> str:
    """A figure as people read it: whole numbers without decimals ("2 strings",
    "15,100,000 IOPS"), others to one decimal, or three significant digits below 1."""
    if value == int(value):
        text = f"{int(value):,}"
    elif abs(value) < 1:
        text = f"{value:.3g}"
    else:
        text = f"{value:,.1f}"
    return f"{text} {unit}".strip()


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("planner.outputs.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(data: ReportData, charts: dict[str, bytes]) -> str:
    """The report from its template (autoescaped)."""
    return _environment().get_template("report.html.j2").render(**_context(data, charts))


def _context(data: ReportData, charts: dict[str, bytes]) -> dict[str, Any]:
    plan, currency = data.plan, data.currency
    a = plan["assumptions"]
    digest = plan.get("digest") or plan_digest(plan)
    footer = f"plan {digest[:12]}, generated {report_date()}"
    provenance = (
        f"Plan {plan['inputs']['profile']['name']} / {plan['inputs']['spec']['name']}, planner "
        f"{plan['planner_version']}, profile {plan['profile']['start_utc']} to "
        f"{plan['profile']['end_utc']}. Prices marked as planning assumptions in the catalogue "
        "must be replaced by tender prices."
    )
    families = [
        {
            "key": f.key,
            "title": f"{f.site.capitalize()}: {f.family}",
            "chart": _chart(charts, f"family-{f.key}", f"{f.family}, {f.site}"),
            "explanation": f.explanation,
            "overload": f.overload,
        }
        for f in data.families
    ]
    contents = [
        ("board", "For the board"),
        ("summary", "Summary"),
        ("bom", "Bill of materials"),
        *([("purchases", "Purchase schedule")] if "purchases" in plan else []),
        ("costs", "Costs"),
        ("families", "Demand against capacity"),
        *([("battery", "Battery")] if any(k.startswith("battery-") for k in charts) else []),
        *([("availability", "Availability")] if "availability" in charts else []),
        *([("whatif", "What if")] if data.what_if is not None else []),
        ("constraints", "What decided each quantity"),
        ("assumptions", "Assumptions"),
    ]
    return {
        "name": a["name"],
        "css": _style(CSS + page_css(footer)),
        "provenance": provenance,
        "contents": contents,
        "board": board_summary(data),
        "executive": executive_summary(data),
        "tender": data.tender is not None,
        "charts": {
            "incident": _chart(
                charts, "incident", "The incident as reported, replayed on both designs"
            ),
            "survival": _chart(charts, "survival", "Carrying clinical work through a grid outage"),
            "costs": _chart(charts, "costs", "Cost breakdown per site"),
            "availability": _chart(
                charts, "availability", "Simulated years with clinical downtime per design"
            ),
            "tornado": _chart(charts, "tornado", "What moves the answer: the varied inputs"),
        },
        "bom": [_bom(site, data, currency) for site in data.sites],
        "costs": _costs(data, currency),
        "families": families,
        "batteries": [
            {
                "title": site.name.capitalize(),
                "reason": site.battery["required_runtime_reason"],
                "chart": _chart(charts, f"battery-{site.name}", f"Battery runtime, {site.name}"),
            }
            for site in data.sites
            if site.battery.get("status") == "sized" and f"battery-{site.name}" in charts
        ],
        "availability": _availability(data) if "availability" in charts else None,
        "constraints": _constraints(plan),
        "what_if": _what_if(data) if data.what_if is not None else None,
        "purchases": _purchases(plan) if "purchases" in plan else None,
        "assumptions": _assumptions(a, currency, plan["cpu_normalisation"]),
    }


def _style(css: str) -> Markup:
    """Our own style sheet, kept verbatim inside <style> (escaping would break its quotes);
    it holds no markup, and nothing from a plan but the digest and a date."""
    if "<" in css:
        raise ValueError("a style sheet must not contain '<'")
    return Markup(css)


def _bom(site: SiteReport, data: ReportData, currency: str) -> dict[str, Any]:
    rows = [
        [
            i.category,
            i.sku,
            i.note,
            quantity(i.quantity),
            f"{i.unit_price:,.0f}",
            quantity(i.purchases),
            f"{i.total:,.0f}",
            data.sources.get(i.sku, ""),
        ]
        for i in site.items
    ]
    capex = sum(i.total for i in site.items)
    design = ", ".join(
        f"{v:.1f} kW at the sized demand ({k})" for k, v in site.power_kw.items() if k != "mean"
    )
    ups = site.battery.get("design_load_kw")
    if ups is not None:
        design += (
            f"; UPS design load (servers at the worst peak, drives, network and cooling on "
            f"the UPS) {ups:.1f} kW"
        )
    return {
        "title": site.name.capitalize(),
        "table": Table(
            [
                "Item",
                "SKU",
                "What",
                "Qty",
                f"Unit price ({currency})",
                "Purchases",
                f"Line total ({currency})",
                "Source",
            ],
            rows,
            frozenset({3, 4, 5, 6}),
            ["Total", "", "", "", "", "", f"{capex:,.0f}", ""],
        ),
        "note": f"{site.rack_units} U of rack space; IT power (servers, drives) "
        f"{site.power_kw['mean']:.1f} kW on average, {design}.",
    }


def _costs(data: ReportData, currency: str) -> Table:
    keys = ("capex", "maintenance", "energy", "tco")
    return Table(
        ["Site", f"Purchase ({currency})", "Maintenance", "Energy", "TCO"],
        [[s.name, *[f"{s.costs[k]:,.0f}" for k in keys]] for s in data.sites],
        frozenset({1, 2, 3, 4}),
        ["Both sites", *[f"{data.plan['costs'][k]:,.0f}" for k in keys]],
    )


def _availability(data: ReportData) -> dict[str, Any]:
    rows = []
    first: dict[str, float] = {}
    for label, s in data.availability_summary.items():
        first = first or s
        rows.append(
            [
                label,
                f"{s['mean_downtime_min']:.4f}",
                f"{s['ci_low']:.4f} to "
                + ("n/a" if math.isnan(s["ci_high"]) else f"{s['ci_high']:.4f}"),
                "inf" if math.isinf(s["nines"]) else f"{s['nines']:.2f}",
                f"{s['years_with_downtime']:,.0f} of {s['years']:,.0f} "
                f"(99 % bound {s['p_downtime_year_upper99']:.1e})",
                f"{s['p_outage_over_hour']:.2e}",
            ]
        )
    run = (
        f"Simulated over {first.get('years', 0):,.0f} years with seed "
        f"{first.get('seed', 0):.0f}: the same run as `planner simulate availability "
        f"--years {first.get('years', 0):.0f} --seed {first.get('seed', 0):.0f}`."
    )
    return {
        "run": run,
        "table": Table(
            [
                "Design",
                "Downtime (min/year)",
                "99 % CI",
                "Nines",
                "Years with downtime",
                "P(outage > 1 h in a year)",
            ],
            rows,
            frozenset({1, 3, 5}),
        ),
    }


def _purchases(plan: dict[str, Any]) -> dict[str, Any]:
    p = plan["purchases"]
    currency = plan["assumptions"]["currency"]
    rows = [
        [f"{step['year']:g}", f"{step['carries_to_year']:g}", site,
         ", ".join(f"{n} x {sku}" for sku, n in counts.items()) or "nothing"]
        for step in p["schedule"]
        for site, counts in step["sites"].items()
    ]  # fmt: skip
    decline = ", ".join(f"{k} {100 * v:g} %" for k, v in p["price_decline_per_year"].items())
    return {
        "intro": f"Bought in years {', '.join(f'{y:g}' for y in p['years'])}; each purchase "
        f"carries the load to the next. Present value {p['present_value']:,.0f} {currency} "
        f"against {p['present_value_all_at_start']:,.0f} {currency} buying everything at the "
        f"start: {p['saving']:,.0f} {currency} less. Discount rate "
        f"{100 * p['discount_rate_per_year']:g} % a year; prices falling "
        f"{decline or 'not at all'} a year"
        + (f" ({p['price_decline_source']})" if p["price_decline_source"] else "")
        + ". The bill of materials below is the fleet at the horizon's end.",
        "table": Table(["Year", "Carries to year", "Site", "Bought"], rows, frozenset()),
    }


def _what_if(data: ReportData) -> dict[str, Any]:
    w = data.what_if
    assert w is not None
    chosen = data.plan["costs"]["tco"]

    def money(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    rows = [
        [a.key, a.value, a.scenarios, money(a.tco),
         "-" if a.difference is None else f"{a.difference:+,.0f}", a.fleet]
        for a in w.alternatives
    ]  # fmt: skip
    return {
        "intro": f"{w.scenarios} scenarios sized ({w.failed} infeasible or failed); the plan "
        f"above costs {chosen:,.0f} {data.currency} over the horizon.",
        "table": Table(
            ["Input", "Value", "Feasible scenarios", f"Cheapest TCO ({data.currency})",
             "Against this plan", "Its fleet"],
            rows,
            frozenset({2, 3, 4}),
        ),
    }  # fmt: skip


def _constraints(plan: dict[str, Any]) -> Table:
    rows = [
        [
            c["name"],
            c["site"],
            c["scenario"] or "-",
            quantity(c["capacity"], c["unit"]),
            quantity(c["demand"], c["unit"]),
            margin_text(c),
            "decides" if c["binding"] else "",
        ]
        for c in sorted(plan["constraints"], key=margin_key)
    ]
    return Table(
        ["Constraint", "Site", "Scenario", "Capacity", "Demand", "Margin", "Decides"],
        rows,
        frozenset({3, 4, 5}),
    )


def _assumptions(a: dict[str, Any], currency: str, norm: dict[str, Any]) -> Table:
    rows: list[list[Any]] = [
        *normalisation_rows(norm),
        ["Horizon", f"{a['horizon_years']:g} years", "planning spec"],
        [
            "Growth per year",
            ", ".join(f"{k} {100 * v:g} %" for k, v in a["growth_per_year"].items()),
            ASSUMPTION_SOURCES["growth_per_year"],
        ],
        [
            "Sizing percentiles",
            ", ".join(f"{k} p{v:g}" for k, v in a["sizing_percentile"].items()),
            ASSUMPTION_SOURCES["sizing_percentile"],
        ],
        [
            "Utilisation ceilings",
            ", ".join(f"{k} {100 * v:g} %" for k, v in a["utilisation_ceiling"].items()),
            ASSUMPTION_SOURCES["utilisation_ceiling"],
        ],
        ["Redundancy", f"N+{a['redundancy_servers_lost']} servers in each site", "planning spec"],
        [
            "Energy",
            f"PUE {a['pue']:g}, {a['energy_price_per_kwh']:g} {currency}/kWh",
            ASSUMPTION_SOURCES["energy_price_per_kwh"],
        ],
        *[[k, "", v] for k, v in ASSUMPTION_SOURCES.items() if " " in k],
    ]
    return Table(["Assumption", "Value", "Source"], rows, frozenset())
