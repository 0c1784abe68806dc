"""The bill of materials as a spreadsheet (openpyxl): a sheet per site, totals, TCO.

Line totals and sums are spreadsheet formulas, so procurement can change a quantity or a
price and see the totals follow; the figures the planner computed sit beside them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planner.outputs.report.data import ReportData

HEADER_FILL = PatternFill("solid", fgColor="EEF3F8")
BOLD = Font(bold=True)
THIN = Border(bottom=Side(style="thin", color="C9D3DD"))
MONEY = "#,##0"
FIXED_TIME = datetime(2000, 1, 1)


def save_reproducibly(book: Workbook, path: Path) -> None:
    """Save ``book`` so that the same content gives the same bytes: openpyxl stamps the
    save time into docProps/core.xml and every zip entry; both become :data:`FIXED_TIME`."""
    import io
    import re
    import zipfile

    buffer = io.BytesIO()
    book.save(buffer)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, data)
    path.write_bytes(out.getvalue())


SITE_COLUMNS = (
    "Item",
    "SKU",
    "Description",
    "Quantity",
    "Unit price",
    "Purchases",
    "Line total",
    "Rack units each",
    "Rack units",
    "Source",
    "Service life (years)",
)


#: A text cell starting with one of these would be read as a formula by a spreadsheet
#: (formula injection, OWASP "CSV injection"): such values are stored as text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _text(ws: Worksheet, row: int, column: int, value: str) -> Cell | MergedCell:
    """Write a string from an input file as text, never as a formula."""
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _print_setup(ws: Worksheet, header_row: int, widths: list[int]) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.freeze_panes = f"A{header_row + 1}"
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _header(ws: Worksheet, row: int, names: tuple[str, ...] | list[str]) -> None:
    for col, name in enumerate(names, start=1):
        cell = ws.cell(row=row, column=col, value=name)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.border = THIN
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_xlsx(data: ReportData, path: Path) -> None:
    wb = Workbook()
    wb.properties.creator = "planner"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    currency = data.currency
    first = wb.active
    assert first is not None
    wb.remove(first)
    site_totals: dict[str, tuple[str, str]] = {}
    site_rows: dict[str, list[tuple[int, bool]]] = {}
    for site in data.sites:
        ws = wb.create_sheet(site.name)
        ws.cell(row=1, column=1, value=f"Bill of materials: {site.name} ({currency})").font = Font(
            bold=True, size=13
        )
        _header(ws, 3, SITE_COLUMNS)
        row = 4
        for item in site.items:
            _text(ws, row, 1, item.category)
            _text(ws, row, 2, item.sku)
            _text(ws, row, 3, item.note)
            ws.cell(row=row, column=4, value=item.quantity)
            ws.cell(row=row, column=5, value=item.unit_price).number_format = MONEY
            ws.cell(row=row, column=6, value=item.purchases)
            ws.cell(row=row, column=7, value=f"=D{row}*E{row}*F{row}").number_format = MONEY
            ws.cell(row=row, column=8, value=item.rack_units)
            ws.cell(row=row, column=9, value=f"=D{row}*H{row}")
            _text(ws, row, 10, data.sources.get(item.sku, ""))
            ws.cell(row=row, column=11, value=item.service_life_years or None)
            row += 1
        total_row = row
        ws.cell(row=total_row, column=1, value="Total").font = BOLD
        total = ws.cell(row=total_row, column=7, value=f"=SUM(G4:G{total_row - 1})")
        total.number_format = MONEY
        total.font = BOLD
        ws.cell(row=total_row, column=9, value=f"=SUM(I4:I{total_row - 1})").font = BOLD
        info = total_row + 2
        ws.cell(row=info, column=1, value="IT power (servers, drives), mean (kW)")
        ws.cell(row=info, column=4, value=round(site.power_kw["mean"], 2))
        for offset, (scenario, kw) in enumerate(
            (k, v) for k, v in site.power_kw.items() if k != "mean"
        ):
            ws.cell(
                row=info + 1 + offset,
                column=1,
                value=f"IT power (servers, drives) at the sized demand, {scenario} (kW)",
            )
            ws.cell(row=info + 1 + offset, column=4, value=round(kw, 2))
        _print_setup(ws, 3, [15, 24, 34, 9, 12, 10, 14, 10, 10, 50, 10])
        site_totals[site.name] = (f"'{site.name}'!G{total_row}", f"'{site.name}'!I{total_row}")
        site_rows[site.name] = [
            (4 + k, item.service_life_years > 0) for k, item in enumerate(site.items)
        ]

    totals = wb.create_sheet("Totals", 0)
    totals.cell(row=1, column=1, value=f"Purchase totals ({currency})").font = Font(
        bold=True, size=13
    )
    _header(totals, 3, ["Site", "Purchase", "Rack units"])
    row = 4
    for name, (money_ref, units_ref) in site_totals.items():
        _text(totals, row, 1, name)
        totals.cell(row=row, column=2, value=f"={money_ref}").number_format = MONEY
        totals.cell(row=row, column=3, value=f"={units_ref}")
        row += 1
    totals.cell(row=row, column=1, value="Both sites").font = BOLD
    cell = totals.cell(row=row, column=2, value=f"=SUM(B4:B{row - 1})")
    cell.number_format = MONEY
    cell.font = BOLD
    totals.cell(row=row, column=3, value=f"=SUM(C4:C{row - 1})").font = BOLD
    _print_setup(totals, 3, [18, 16, 12])

    inputs = _inputs_sheet(wb, data)
    tco = wb.create_sheet("TCO", 1)
    years = data.plan["assumptions"]["horizon_years"]
    tco.cell(
        row=1, column=1, value=f"Total cost of ownership over {years:g} years ({currency})"
    ).font = Font(bold=True, size=13)
    _header(tco, 3, ["Site", "Purchase", "Maintenance", "Energy", "TCO", "Mean IT power (kW)"])
    row = 4
    for i, site in enumerate(data.sites):
        _text(tco, row, 1, site.name)
        tco.cell(row=row, column=2, value=f"=Totals!B{4 + i}").number_format = MONEY
        # maintenance: every purchase over the horizon x the yearly rate x the years
        tco.cell(
            row=row, column=3, value=f"=B{row}*{inputs['rate']}*{inputs['horizon']}"
        ).number_format = MONEY
        # energy: mean IT power x PUE x price x hours a year x years
        tco.cell(
            row=row,
            column=4,
            value=f"=F{row}*{inputs['pue']}*{inputs['price']}*8760*{inputs['horizon']}",
        ).number_format = MONEY
        tco.cell(row=row, column=5, value=f"=SUM(B{row}:D{row})").number_format = MONEY
        tco.cell(row=row, column=6, value=site.costs_mean_kw)
        row += 1
    tco.cell(row=row, column=1, value="Both sites").font = BOLD
    for col in "BCDE":
        cell = tco[f"{col}{row}"]
        cell.value = f"=SUM({col}4:{col}{row - 1})"
        cell.number_format = MONEY
        cell.font = BOLD
    tco.cell(
        row=row + 2,
        column=1,
        value="Every figure is a formula of the bill of materials and the Inputs sheet: change a "
        "price, a quantity, the maintenance rate, the PUE or the energy price there.",
    )
    _print_setup(tco, 3, [18, 16, 16, 16, 16, 16])
    _cash_flow_sheet(wb, data, inputs, site_rows)
    save_reproducibly(wb, path)


def _maintenance_rate(data: ReportData) -> float:
    """The spec's rate as the plan states it (older plans: read back from the costs)."""
    a = data.plan["assumptions"]
    if "maintenance_rate_per_year" in a:
        return float(a["maintenance_rate_per_year"])
    costs = data.plan["costs"]
    return float(costs["maintenance"]) / (float(costs["capex"]) * float(a["horizon_years"]))


def _inputs_sheet(wb: Workbook, data: ReportData) -> dict[str, str]:
    """The assumptions every cost formula reads, as named cells procurement can change."""
    a = data.plan["assumptions"]
    ws = wb.create_sheet("Inputs", 1)
    ws.cell(row=1, column=1, value="Inputs of the cost formulas").font = Font(bold=True, size=13)
    _header(ws, 3, ["Input", "Value", "Source or note"])
    rows = [
        ("Maintenance, share of purchase per year", _maintenance_rate(data), "spec"),
        ("PUE", a["pue"], "spec"),
        (f"Energy price ({data.currency}/kWh)", a["energy_price_per_kwh"], "spec"),
        (
            "Discount rate per year",
            float(a.get("discount_rate_per_year", 0.0)),
            "the spec's; 0 reproduces the plan's TCO",
        ),
        ("Horizon (years)", a["horizon_years"], "spec"),
        ("Price date", "planning prices (catalogue); replace with tendered prices", ""),
        ("VAT basis", "all prices exclude VAT", ""),
    ]
    names = ["rate", "pue", "price", "discount", "horizon", "date", "vat"]
    refs: dict[str, str] = {}
    for offset, ((label, value, note), name) in enumerate(zip(rows, names, strict=True)):
        row = 4 + offset
        _text(ws, row, 1, label)
        cell = ws.cell(row=row, column=2, value=value)
        if isinstance(value, str):
            _text(ws, row, 2, value)
        else:
            cell.number_format = "0.0000"
        _text(ws, row, 3, note)
        refs[name] = f"Inputs!$B${row}"
    _print_setup(ws, 3, [40, 20, 40])
    return refs


def _cash_flow_sheet(
    wb: Workbook,
    data: ReportData,
    inputs: dict[str, str],
    site_rows: dict[str, list[tuple[int, bool]]],
) -> None:
    """Year by year: purchases in year 0, each battery line bought again at the end of its
    life, maintenance and energy every year; discounted at the Inputs rate to an NPV.
    With a rate of 0 the NPV is the plan's TCO."""
    years = data.plan["assumptions"]["horizon_years"]
    whole = int(years) if float(years).is_integer() else int(years) + 1
    ws = wb.create_sheet("Cash flow")
    ws.cell(row=1, column=1, value=f"Cash flow and NPV ({data.currency})").font = Font(
        bold=True, size=13
    )
    _header(
        ws, 3, ["Year", "Purchases", "Maintenance", "Energy", "Total", "Discount", "Present value"]
    )
    for year in range(whole + 1):
        row = 4 + year
        ws.cell(row=row, column=1, value=year)
        buys = []
        for site, rows in site_rows.items():
            sheet = f"'{site}'"
            for r, lasts in rows:
                if year == 0:
                    buys.append(f"{sheet}!D{r}*{sheet}!E{r}")
                elif lasts:  # bought again when a life ends within the line's purchases
                    buys.append(
                        f"IF({sheet}!K{r}>0,IF(AND(MOD({year},{sheet}!K{r})=0,"
                        f"{year}<{sheet}!K{r}*{sheet}!F{r}),{sheet}!D{r}*{sheet}!E{r},0),0)"
                    )
        ws.cell(
            row=row, column=2, value=("=" + "+".join(buys)) if buys else 0
        ).number_format = MONEY
        share = 1.0 if year < years or float(years).is_integer() else years - int(years)
        if year == 0:
            ws.cell(row=row, column=3, value=0)
            ws.cell(row=row, column=4, value=0)
        else:
            ws.cell(
                row=row, column=3, value=f"=TCO!C{4 + len(data.sites)}/{inputs['horizon']}*{share}"
            ).number_format = MONEY
            ws.cell(
                row=row, column=4, value=f"=TCO!D{4 + len(data.sites)}/{inputs['horizon']}*{share}"
            ).number_format = MONEY
        ws.cell(row=row, column=5, value=f"=SUM(B{row}:D{row})").number_format = MONEY
        ws.cell(
            row=row, column=6, value=f"=1/(1+{inputs['discount']})^A{row}"
        ).number_format = "0.0000"
        ws.cell(row=row, column=7, value=f"=E{row}*F{row}").number_format = MONEY
    last = 4 + whole
    ws.cell(row=last + 1, column=1, value="NPV").font = BOLD
    npv = ws.cell(row=last + 1, column=7, value=f"=SUM(G4:G{last})")
    npv.number_format = MONEY
    npv.font = BOLD
    ws.cell(row=last + 1, column=5, value=f"=SUM(E4:E{last})").number_format = MONEY
    _print_setup(ws, 3, [8, 16, 16, 16, 16, 10, 16])
