"""The Markdown summary: the same figures as the HTML report, for a wiki or a PR."""

from __future__ import annotations

from planner.outputs.plan import margin_key, margin_text
from planner.outputs.report.data import ReportData
from planner.outputs.report.text import (
    board_summary,
    executive_summary,
    money,
    normalisation_rows,
)


def render_markdown(data: ReportData) -> str:
    plan, currency = data.plan, data.currency
    lines = [f"# Sizing summary: {plan['assumptions']['name']}", "", "## For the board", ""]
    for sentence in board_summary(data):  # each its own paragraph
        lines += [sentence, ""]
    lines += ["## Executive summary", ""]
    for sentence in executive_summary(data):
        lines += [sentence, ""]
    for site in data.sites:
        lines += [
            f"## {site.name.capitalize()}",
            "",
            f"| Item | SKU | Qty | Unit price ({currency}) | Purchases | Line total |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for i in site.items:
            lines.append(
                f"| {i.category} | {i.sku} | {i.quantity} | {i.unit_price:,.0f} | "
                f"{i.purchases} | {i.total:,.0f} |"
            )
        lines.append(f"| **Total** | | | | | **{sum(i.total for i in site.items):,.0f}** |")
        lines += [
            "",
            f"Rack space {site.rack_units} U; TCO {money(site.costs['tco'], currency)}.",
            "",
        ]
    lines += [
        "## Costs over the horizon",
        "",
        "| | Purchase | Maintenance | Energy | TCO |",
        "|---|---:|---:|---:|---:|",
    ]
    for site in data.sites:
        c = site.costs
        lines.append(
            f"| {site.name} | {c['capex']:,.0f} | {c['maintenance']:,.0f} | "
            f"{c['energy']:,.0f} | {c['tco']:,.0f} |"
        )
    c = plan["costs"]
    lines.append(
        f"| **both sites** | **{c['capex']:,.0f}** | **{c['maintenance']:,.0f}** | "
        f"**{c['energy']:,.0f}** | **{c['tco']:,.0f}** |"
    )
    lines += ["", "## CPU counted in cores of the measured hardware", ""]
    lines += [f"- {name}: {value} ({source})" for name, value, source in
              normalisation_rows(plan["cpu_normalisation"])]  # fmt: skip
    lines += ["", "## Tightest constraints", ""]
    for check in sorted(plan["constraints"], key=margin_key)[:5]:
        where = f"{check['site']}/{check['scenario']}" if check["scenario"] else check["site"]
        lines.append(
            f"- {check['name']} at {where}: margin {margin_text(check)}"
            + (" (decides: one unit less breaks it)" if check["binding"] else "")
        )
    return "\n".join(lines) + "\n"
