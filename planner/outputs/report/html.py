"""The self-contained HTML report: inline CSS, charts as data: URIs, no scripts, no network."""

from __future__ import annotations

import base64
import math
from html import escape
from typing import Any

from planner.outputs.plan import margin_key, margin_text, plan_digest
from planner.outputs.report.data import ReportData
from planner.outputs.report.text import ASSUMPTION_SOURCES, board_summary, executive_summary

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
figure, tr, .summary p, .keep { break-inside: avoid; page-break-inside: avoid; }
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


def _table(
    headers: list[str], rows: list[list[Any]], numeric: set[int], total: list[Any] | None = None
) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in [*rows, *([total] if total else [])]:
        cells = "".join(
            f'<td class="num">{escape(str(v))}</td>'
            if i in numeric
            else f"<td>{escape(str(v))}</td>"
            for i, v in enumerate(row)
        )
        css = ' class="total"' if total is not None and row is total else ""
        body.append(f"<tr{css}>{cells}</tr>")
    return (
        f'<div class="wide"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def render_html(data: ReportData, charts: dict[str, bytes]) -> str:
    plan, currency = data.plan, data.currency
    a = plan["assumptions"]
    digest = plan.get("digest") or plan_digest(plan)
    footer = f"plan {digest[:12]}, generated {report_date()}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Sizing report: {escape(a['name'])}</title>",
        f"<style>{CSS}{page_css(footer)}</style></head><body>",
        f"<h1>Sizing report: {escape(a['name'])}</h1>",
        f'<p class="note">Plan {escape(plan["inputs"]["profile"]["name"])} / '
        f"{escape(plan['inputs']['spec']['name'])}, planner {escape(plan['planner_version'])}, "
        f"profile {escape(plan['profile']['start_utc'])} to {escape(plan['profile']['end_utc'])}"
        ". Prices marked as planning assumptions in the catalogue must be replaced by tender "
        "prices.</p>",
        '<h2 id="board">For the board</h2><div class="summary board">',
        *[f"<p>{escape(line)}</p>" for line in board_summary(data)],
        "</div>",
        *(
            [_img(charts["incident"], "The incident as reported, replayed on both designs")]
            if "incident" in charts
            else []
        ),
        *(
            [_img(charts["survival"], "Carrying clinical work through a grid outage")]
            if "survival" in charts
            else []
        ),
        '<h2 id="summary">Executive summary</h2><div class="summary">',
        *[f"<p>{escape(line)}</p>" for line in executive_summary(data)],
        "</div>",
        '<h2 id="bom">Bill of materials</h2>',
    ]
    for site in data.sites:
        rows = [
            [
                i.category,
                i.sku,
                i.note,
                i.quantity,
                f"{i.unit_price:,.0f}",
                i.purchases,
                f"{i.total:,.0f}",
                data.sources.get(i.sku, ""),
            ]
            for i in site.items
        ]
        capex = sum(i.total for i in site.items)
        parts.append(f"<h3>{escape(site.name.capitalize())}</h3>")
        parts.append(
            _table(
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
                {3, 4, 5, 6},
                total=["Total", "", "", "", "", "", f"{capex:,.0f}", ""],
            )
        )
        parts.append(
            f'<p class="note">{site.rack_units} U of rack space; IT power '
            f"{site.power_kw['mean']:.1f} kW on average, "
            + ", ".join(
                f"{v:.1f} kW at design load ({k})" for k, v in site.power_kw.items() if k != "mean"
            )
            + ".</p>"
        )
    parts.append('<h2 id="costs">Cost over the horizon</h2>')
    cost_rows = [
        [s.name, *[f"{s.costs[k]:,.0f}" for k in ("capex", "maintenance", "energy", "tco")]]
        for s in data.sites
    ]
    parts.append(
        _table(
            ["Site", f"Purchase ({currency})", "Maintenance", "Energy", "TCO"],
            cost_rows,
            {1, 2, 3, 4},
            total=[
                "Both sites",
                *[f"{plan['costs'][k]:,.0f}" for k in ("capex", "maintenance", "energy", "tco")],
            ],
        )
    )
    parts.append(_img(charts["costs"], "Cost breakdown per site"))
    parts.append('<h2 id="envelopes">Demand against capacity</h2>')
    for site in data.sites:
        parts.append(_img(charts[f"envelope-{site.name}"], f"Demand envelope, {site.name}"))
    battery_charts = [k for k in charts if k.startswith("battery-")]
    if battery_charts:
        parts.append('<h2 id="battery">UPS battery</h2>')
        for site in data.sites:
            b = site.battery
            if b.get("status") != "sized":
                continue
            parts.append(
                f"<p><b>{escape(site.name.capitalize())}</b>: "
                f"{escape(b['required_runtime_reason'])}.</p>"
            )
            parts.append(_img(charts[f"battery-{site.name}"], f"Battery runtime, {site.name}"))
    if "availability" in charts:
        parts.append('<h2 id="availability">Availability</h2>')
        rows = [
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
            for label, s in data.availability_summary.items()
        ]
        parts.append(
            _table(
                [
                    "Design",
                    "Downtime (min/year)",
                    "99 % CI",
                    "Nines",
                    "Years with downtime",
                    "P(outage > 1 h in a year)",
                ],
                rows,
                {1, 3, 5},
            )
        )
        parts.append(_img(charts["availability"], "Distribution of downtime per year"))
    parts.append('<h2 id="constraints">What decided each quantity</h2>')
    ranked = sorted(plan["constraints"], key=margin_key)
    rows = [
        [
            c["name"],
            c["site"],
            c["scenario"] or "-",
            f"{c['capacity']:,.1f} {c['unit']}",
            f"{c['demand']:,.1f} {c['unit']}",
            margin_text(c),
            "binding" if c["binding"] else "",
        ]
        for c in ranked
    ]
    parts.append(
        _table(
            ["Constraint", "Site", "Scenario", "Capacity", "Demand", "Margin", ""], rows, {3, 4, 5}
        )
    )
    parts.append('<h2 id="assumptions">Assumptions and sources</h2>')
    assumptions: list[list[Any]] = [
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
    parts.append(_table(["Assumption", "Value", "Source"], assumptions, set()))
    parts.append("</body></html>")
    return "\n".join(_keep_headings_with_content(parts)) + "\n"


def _keep_headings_with_content(parts: list[str]) -> list[str]:
    """Each heading that stands alone, together with what follows it, in a block that a
    printed page never splits: no heading ends a page with its content on the next."""
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        alone = part.startswith(("<h2", "<h3")) and part.endswith(("</h2>", "</h3>"))
        if alone and i + 1 < len(parts):
            out.append(f'<div class="keep">{part}{parts[i + 1]}</div>')
            i += 2
            continue
        out.append(part)
        i += 1
    return out
