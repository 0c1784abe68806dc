"""The bid form inside tender.xlsx: what each tenderer fills in (yellow cells) and the TCO
the tender's evaluation model gives it, as live formulas.

Sheets ``Bid`` (the tenderer), ``Servers`` and ``Drives`` (one row per offered model, a
count per site), ``Power`` (one row per site: UPS frames and battery strings) and
``Evaluation`` (the model's inputs, each site's utilisation on the offered servers, and
each lot's TCO). ``planner tender evaluate`` reads the same columns
(:mod:`planner.inputs.bids`) and computes the same TCO
(:mod:`planner.jobs.tender_eval`).
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter as col
from openpyxl.worksheet.worksheet import Worksheet

from planner.inputs.bids import DRIVE_COLUMNS, INPUT_ROWS, POWER_COLUMNS, SERVER_COLUMNS
from planner.outputs.tender.model import Tender, TenderOptions

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # cells the tenderer fills in
BOLD = Font(bold=True)
FIRST, LAST = 2, 1 + INPUT_ROWS  # the input rows of Servers and Drives
SITE_ROW = 11  # the Evaluation sheet's first site row


def _sheet(book: Workbook, title: str, names: list[str]) -> Worksheet:
    sheet: Worksheet = book.create_sheet(title)
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = BOLD
    for i, name in enumerate(names, start=1):
        sheet.column_dimensions[col(i)].width = max(12, min(40, len(name) + 2))
    return sheet


def _fill(sheet: Worksheet, rows: range, columns: range) -> None:
    for r in rows:
        for c in columns:
            sheet.cell(r, c).fill = INPUT_FILL


def _energy(kw_expr: str) -> str:
    """Energy cost of a mean load in kW over the horizon: the Evaluation sheet's inputs."""
    return f"({kw_expr})*Evaluation!$B$5*Evaluation!$B$4*Evaluation!$B$2*Evaluation!$B$3"


def write_bid_form(book: Workbook, tender: Tender, options: TenderOptions | None = None) -> None:
    options = options or TenderOptions()
    sites = list(tender.evaluation["mean_load"])
    e = tender.evaluation
    bid = book.create_sheet("Bid")
    bid.append(["tenderer", None])
    bid["B1"].fill = INPUT_FILL
    bid.append(["what to fill in", "the yellow cells of Servers, Drives and Power; a part left "
                "empty is not offered"])  # fmt: skip
    site_row = {site: SITE_ROW + i for i, site in enumerate(sites)}
    _servers(book, sites, site_row)
    _drives(book, sites)
    _power(book, sites, site_row, options.spare_battery_modules)
    ev = book.create_sheet("Evaluation")
    for row in (
        ["Input", "Value"],
        ["PUE", e["pue"]],
        [f"Energy price ({tender.currency}/kWh)", e["energy_price_per_kwh"]],
        ["Horizon (years)", e["horizon_years"]],
        ["Hours per year", 8760],
        ["Spare drives: share of each model's count per site", options.spare_drive_share],
        ["Spare drives: at least, per model and site", options.min_spare_drives],
        [],
        [],
        ["Site", f"Mean CPU load ({e['mean_load_unit']})", "Offered throughput",
         "Utilisation u", "Mean UPS load (kW)"],
    ):  # fmt: skip
        ev.append(row)
    for cell in ev[10]:
        cell.font = BOLD
    rate_col = col(8) if e["mean_load_unit"] != "cores" else col(3)  # SPECrate, else cores
    for j, site in enumerate(sites):
        r = site_row[site]
        count = col(len(SERVER_COLUMNS) + 1 + j)
        ev.cell(r, 1, site)
        ev.cell(r, 2, e["mean_load"][site])
        ev.cell(r, 3, f"=SUMPRODUCT(Servers!{count}{FIRST}:{count}{LAST},"
                      f"Servers!{rate_col}{FIRST}:{rate_col}{LAST})")  # fmt: skip
        ev.cell(r, 4, f"=IF(C{r}>0,MIN(1,B{r}/C{r}),0)")
        ev.cell(r, 5, e["mean_ups_kw"][site])
    total = SITE_ROW + len(sites) + 1
    s_cost, d_cost, p_cost = _cost_columns(sites)
    ev.cell(total, 1, f"Lot 1 TCO ({tender.currency})").font = BOLD
    ev.cell(total, 2, f"=SUM(Servers!{s_cost}{FIRST}:{s_cost}{LAST})"
                      f"+SUM(Drives!{d_cost}{FIRST}:{d_cost}{LAST})")  # fmt: skip
    ev.cell(total + 1, 1, f"Lot 2 TCO ({tender.currency})").font = BOLD
    ev.cell(total + 1, 2, f"=SUM(Power!{p_cost}2:{p_cost}{1 + len(sites)})")
    ev.column_dimensions["A"].width = 50
    for c in "BCDE":
        ev.column_dimensions[c].width = 22


def _cost_columns(sites: list[str]) -> tuple[str, str, str]:
    n = len(sites)
    return (
        col(len(SERVER_COLUMNS) + 2 * n + 2),
        col(len(DRIVE_COLUMNS) + n + 3),
        col(len(POWER_COLUMNS) + 3),
    )


def _servers(book: Workbook, sites: list[str], site_row: dict[str, int]) -> None:
    n = len(sites)
    base = len(SERVER_COLUMNS)
    names = [h for h, _, _ in SERVER_COLUMNS] + [f"count {s}" for s in sites]
    names += [f"wall W at u, {s}" for s in sites] + ["energy", "TCO"]
    sheet = _sheet(book, "Servers", names)
    _fill(sheet, range(FIRST, LAST + 1), range(1, base + n + 1))
    idle, half, full, price, support = "J", "K", "L", "N", "O"
    for r in range(FIRST, LAST + 1):
        watts = []
        for j, site in enumerate(sites):
            u = f"Evaluation!$D${site_row[site]}"
            c = base + n + 1 + j
            sheet.cell(r, c, f"=IF({u}<=0.5,{idle}{r}+({half}{r}-{idle}{r})*{u}/0.5,"
                             f"{half}{r}+({full}{r}-{half}{r})*({u}-0.5)/0.5)")  # fmt: skip
            watts.append(f"{col(base + 1 + j)}{r}*{col(c)}{r}")
        energy = col(base + 2 * n + 1)
        sheet[f"{energy}{r}"] = "=" + _energy(f"({'+'.join(watts)})/1000")
        counts = "+".join(f"{col(base + 1 + j)}{r}" for j in range(n))
        sheet[f"{col(base + 2 * n + 2)}{r}"] = f"=({counts})*({price}{r}+{support}{r})+{energy}{r}"


def _drives(book: Workbook, sites: list[str]) -> None:
    n = len(sites)
    base = len(DRIVE_COLUMNS)
    names = [h for h, _, _ in DRIVE_COLUMNS] + [f"count {s}" for s in sites]
    names += ["energy", "spare drives", "TCO"]
    sheet = _sheet(book, "Drives", names)
    _fill(sheet, range(FIRST, LAST + 1), range(1, base + n + 1))
    watts, price, support, spare = "F", "G", "H", "I"
    for r in range(FIRST, LAST + 1):
        counts = [f"{col(base + 1 + j)}{r}" for j in range(n)]
        energy, spares, tco = (f"{col(base + n + k)}{r}" for k in (1, 2, 3))
        sheet[energy] = "=" + _energy(f"({'+'.join(counts)})*{watts}{r}/1000")
        sheet[spares] = "=" + "+".join(
            f"IF({c}>0,MAX(ROUNDUP({c}*Evaluation!$B$6,0),Evaluation!$B$7),0)" for c in counts
        )
        sheet[tco] = f"=({'+'.join(counts)})*({price}{r}+{support}{r})+{spares}*{spare}{r}+{energy}"


def _power(book: Workbook, sites: list[str], site_row: dict[str, int], spares: int) -> None:
    base = len(POWER_COLUMNS)
    names = [h for h, _, _ in POWER_COLUMNS] + ["purchases of modules", "UPS losses", "TCO"]
    sheet = _sheet(book, "Power", names)
    for i, site in enumerate(sites):
        r = 2 + i
        sheet.cell(r, 1, site)
        _fill(sheet, range(r, r + 1), range(2, base + 1))
        u_kw = f"Evaluation!$E${site_row[site]}"
        buys, losses = f"{col(base + 1)}{r}", f"{col(base + 2)}{r}"
        sheet[buys] = f"=IF(O{r}>0,MAX(1,ROUNDUP(Evaluation!$B$4/O{r}-1E-9,0)),0)"
        sheet[losses] = f"=IF(D{r}>0,{_energy(f'{u_kw}*(1/D{r}-1)')},0)"
        cost = f"=G{r}*(H{r}+I{r})+P{r}*R{r}*{buys}+{spares}*S{r}+{losses}"
        sheet[f"{col(base + 3)}{r}"] = cost
