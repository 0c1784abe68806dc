"""Write the tender pack: tender.md for the documents, tender.xlsx for the bid form and
the evaluation (tendered figures in, TCO out, as live formulas)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planner.fsutil import staged_directory
from planner.outputs.report.xlsx import save_reproducibly
from planner.outputs.tender.bidform import INPUT_FILL, write_bid_form
from planner.outputs.tender.requirements import AT_LEAST, OR_EQUIVALENT, Lot, Tender

BOLD = Font(bold=True)


def render_markdown(tender: Tender) -> str:
    lines = [f"# {tender.title}", ""]
    digest = tender.plan_digest.split(":")[-1][:12]
    lines += [
        f"Derived from plan {digest}. Quantities, requirements and the "
        "evaluation follow from the plan's figures; each requirement names them in the "
        "bid form (tender.xlsx, sheet Requirements).",
        "",
        "## Equivalence",
        "",
        OR_EQUIVALENT,
        "",
    ]
    for lot in tender.lots:
        lines += _lot_markdown(lot)
    lines += ["## Support and warranty", ""]
    lines += [f"- {line}" for line in tender.support]
    lines += ["", "## Evaluation", ""]
    e = tender.evaluation
    lines += [
        f"Award to {e['rule']}.",
        "",
        f"{e['formula']}.",
        "",
        f"- PUE {e['pue']:g}; energy price {e['energy_price_per_kwh']:g} {tender.currency}/kWh; "
        f"horizon {e['horizon_years']:g} years.",
        *[
            f"- Mean CPU load at {site}: {load:,.1f} {e['mean_load_unit']}; mean UPS load "
            f"{e['mean_ups_kw'][site]:,.1f} kW."
            for site, load in e["mean_load"].items()
        ],
        f"- Prices: {e['vat']}; {e['price_date']}.",
        "",
        "The bid form (tender.xlsx) computes each offer's TCO with these formulas; `planner "
        "tender evaluate` checks each offer against every requirement and ranks them.",
        "",
        *_pods_markdown(tender),
        "## Out of scope",
        "",
        *[f"- {line}" for line in tender.out_of_scope],
        "",
        "## Left to the contracting authority",
        "",
        "This pack states what to buy and how offers are compared. Before publishing, the "
        "contracting authority adds:",
        "",
        *[f"- {line}" for line in tender.left_to_authority],
        "",
        "## Assumptions in these terms",
        "",
        *[f"- {line}" for line in tender.assumptions],
        "",
    ]
    if tender.open_items:
        lines += ["## Open before publishing", "", *[f"- {x}" for x in tender.open_items], ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _pods_markdown(tender: Tender) -> list[str]:
    """Per site, the pods its servers must place (the placement requirement's table)."""
    lines: list[str] = []
    for where, pods in tender.pods.items():
        lines += [
            f"## Pod table for {where}",
            "",
            "| Workload | Pods | CPU request (reference cores) | Memory request (GiB) | Rule |",
            "|---|---:|---:|---:|---|",
            *[
                f"| {p['workload']} | {p['replicas']} | {p['cpu_request_cores']:.3f} | "
                f"{p['memory_request_gib']:g} | {p['rule']} |"
                for p in pods
            ],
            "",
        ]
    return lines


def _lot_markdown(lot: Lot) -> list[str]:
    lines = [f"## Lot {lot.number}: {lot.title}", "", "### Functional requirements", ""]
    item = ""
    for r in lot.requirements:
        if r.item != item:
            item = r.item
            lines += ["", f"**{item}**", ""]
        proof = f" Proof: {r.verified_by}." if r.verified_by else ""
        lines.append(f"- {r.text()}. Why: {r.basis}.{proof}")
    lines += ["", "### Also required", "", *[f"- {c}" for c in lot.conditions], ""]
    lines += [
        "### Quantities",
        "",
        "Reference quantities: one configuration that meets the requirements, for orientation; "
        "the offer states its own.",
        "",
        "| Site | Item | Firm | Options (year: quantity) | Firm and options | Spares |",
        "|---|---|---:|---|---:|---:|",
    ]
    for q in lot.quantities:
        options = ", ".join(f"year {y}: {n}" for y, n in q.options) or "-"
        spares = f"{q.spares} {q.spares_of}" if q.spares else "-"
        lines.append(f"| {q.site} | {q.item} | {q.firm} | {options} | {q.total} | {spares} |")
    lines += ["", "### Reference configuration (for orientation only; not a requirement)", ""]
    lines += [f"- {line}" for line in lot.references]
    lines.append("")
    return lines


def _header(sheet: Worksheet, names: list[str]) -> None:
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = BOLD
    for i, name in enumerate(names, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(12, min(60, len(name) + 4))


def write_xlsx(tender: Tender, path: Path) -> None:
    """Requirements (with the tenderer's offered value and compliance), quantities, and an
    evaluation sheet whose TCO is a formula of the tendered prices and power figures."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Requirements"
    _header(sheet, ["Lot", "Item", "Requirement", "Bound", "Value", "Unit", "Offered",
                    "Complies", "Proof", "Why", "Plan figures"])  # fmt: skip
    for lot in tender.lots:
        for r in lot.requirements:
            row = sheet.max_row + 1
            sheet.append([lot.number, r.item, r.what, "at least" if r.bound == AT_LEAST else
                          "at most", r.value, r.unit, None, None, r.verified_by, r.basis,
                          "; ".join(r.sources)])  # fmt: skip
            op = ">=" if r.bound == AT_LEAST else "<="
            sheet.cell(row, 7).fill = INPUT_FILL
            sheet.cell(row, 8).value = f'=IF(ISBLANK(G{row}),"",IF(G{row}{op}E{row},"yes","no"))'
    quantities = book.create_sheet("Quantities")
    _header(quantities, ["Lot", "Site", "Item", "Firm", "Options", "Firm and options", "Spares",
                         "Spares of"])  # fmt: skip
    for lot in tender.lots:
        for q in lot.quantities:
            row = quantities.max_row + 1
            options = ", ".join(f"year {y}: {n}" for y, n in q.options)
            quantities.append([lot.number, q.site, q.item, q.firm, options, None, q.spares,
                               q.spares_of])  # fmt: skip
            quantities.cell(row, 6).value = f"=D{row}+{sum(n for _, n in q.options)}"
    write_bid_form(book, tender)
    save_reproducibly(book, path)  # same plan, same bytes


def write_tender(
    tender: Tender,
    out_dir: Path,
    inputs: tuple[Path, ...] = (),
    progress: Callable[[str], None] = lambda _: None,
) -> list[Path]:
    """tender.md and tender.xlsx into ``out_dir``, atomically (the report's rules)."""
    with staged_directory(out_dir, "tender", inputs) as staging:
        progress("writing Markdown and XLSX")
        (staging / "tender.md").write_text(render_markdown(tender), encoding="utf-8")
        write_xlsx(tender, staging / "tender.xlsx")
    return [out_dir / "tender.md", out_dir / "tender.xlsx"]
