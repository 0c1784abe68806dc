"""Offers as tenderers return them: the tender pack's own bid form (XLSX), read and checked.

The form has one sheet per part of the offer, a header row and one row per model:
``Servers`` and ``Drives`` (counts per site in ``count <site>`` columns) and ``Power``
(one row per site: the UPS frames and the battery strings). A part left empty is not
offered (the evaluation then counts the reference configuration for it). Cells after
the input columns are the form's own formulas and are not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import InputError

#: (header, key, kind) of the input columns; kind "text", "int" or "num" (a number > 0),
#: "num0" (a number >= 0)
SERVER_COLUMNS = (
    ("model", "model", "text"),
    ("processor", "processor", "text"),
    ("cores", "cores", "int"),
    ("threads per core", "threads_per_core", "int"),
    ("memory GiB", "memory_gib", "num"),
    ("NVMe drive bays", "drive_bays", "int"),
    ("height U", "rack_units", "int"),
    ("SPECrate2017_int_base", "int_rate_base", "num"),
    ("SPEC CPU 2017 result id", "int_rate_result", "text"),
    ("wall W at active idle", "idle_w", "num0"),
    ("wall W at 50 %", "half_w", "num"),
    ("wall W at 100 %", "full_w", "num"),
    ("SPECpower or SERT result id", "power_result", "text"),
    ("unit price", "price", "num0"),
    ("support per unit for the horizon", "support", "num0"),
)
DRIVE_COLUMNS = (
    ("model", "model", "text"),
    ("capacity TB", "capacity_tb", "num"),
    ("4 KiB random read IOPS", "read_iops", "num"),
    ("4 KiB random write IOPS", "write_iops", "num"),
    ("DWPD over the warranty", "dwpd", "num"),
    ("active W", "watts", "num0"),
    ("unit price", "price", "num0"),
    ("support per unit for the horizon", "support", "num0"),
    ("spare unit price", "spare_price", "num0"),
)
POWER_COLUMNS = (
    ("site", "site", "text"),
    ("UPS frame model", "frame", "text"),
    ("frame kW", "frame_kw", "num"),
    ("efficiency at the design load", "efficiency", "num"),
    ("DC bus lowest V", "dc_min_v", "num"),
    ("DC bus highest V", "dc_max_v", "num"),
    ("frames", "frames", "int"),
    ("frame price", "frame_price", "num0"),
    ("frame support for the horizon", "frame_support", "num0"),
    ("battery module model", "module", "text"),
    ("chemistry (lfp or vrla)", "chemistry", "text"),
    ("module kWh", "module_kwh", "num"),
    ("module V", "module_v", "num"),
    ("module kW at its rated discharge", "module_kw", "num"),
    ("module design life years", "module_life_years", "num"),
    ("modules", "modules", "int"),
    ("strings", "strings", "int"),
    ("module price", "module_price", "num0"),
    ("spare module price", "spare_module_price", "num0"),
    ("runtime table (load fraction:minutes, new, 25 C; ...)", "runtime_table", "text"),
)
INPUT_ROWS = 8  # model rows the form offers on Servers and Drives


@dataclass(frozen=True)
class BidPart:
    """One row of the form: its values by key, and per site the count offered."""

    values: dict[str, Any]
    counts: dict[str, int]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


@dataclass(frozen=True)
class Bid:
    name: str  # the tenderer, or the file's name
    path: Path
    servers: tuple[BidPart, ...]
    drives: tuple[BidPart, ...]
    power: dict[str, BidPart]  # by site


def _cell(path: Path, sheet: str, row: int, header: str, kind: str, value: Any) -> Any:
    where = f"sheet '{sheet}' row {row} column '{header}'"
    if kind == "text":
        if value is None or not str(value).strip():
            raise InputError(str(path), where, "expected a value")
        return str(value).strip()
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int":
        if not ok or value != int(value) or value < 0:
            raise InputError(str(path), where, f"expected a whole number >= 0, got {value!r}")
        return int(value)
    if not ok or value != value or value in (float("inf"), float("-inf")):
        raise InputError(str(path), where, f"expected a number, got {value!r}")
    if value < 0 or (kind == "num" and value == 0):
        raise InputError(str(path), where, f"expected a number {'>=' if kind == 'num0' else '>'} 0")
    return float(value)


def _rows(
    path: Path, book: Any, sheet: str, columns: tuple[tuple[str, str, str], ...], sites: list[str]
) -> list[BidPart]:
    if sheet not in book.sheetnames:
        raise InputError(str(path), f"sheet '{sheet}'", "missing: not the tender's bid form")
    ws = book[sheet]
    header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]
    want = [h for h, _, _ in columns]
    counts = [f"count {s}" for s in sites] if sheet != "Power" else []
    if header[: len(want) + len(counts)] != want + counts:
        raise InputError(
            str(path),
            f"sheet '{sheet}' row 1",
            "not the bid form's header",
        )
    out = []
    width = len(want) + len(counts)
    for r, raw in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        row = [*raw[:width], *[None] * max(0, width - len(raw))]
        if row[0] is None or not str(row[0]).strip():
            if any(v is not None for v in row[1:]):
                raise InputError(str(path), f"sheet '{sheet}' row {r} column '{want[0]}'",
                                 "expected a value (the row has figures)")  # fmt: skip
            continue
        values = {
            key: _cell(path, sheet, r, h, kind, row[i]) for i, (h, key, kind) in enumerate(columns)
        }
        got = {
            site: _cell(path, sheet, r, f"count {site}", "int", row[len(want) + j] or 0)
            for j, site in enumerate(sites)
        }
        out.append(BidPart(values, got if counts else {}))
    return out


def read_bid(path: Path, sites: list[str]) -> Bid:
    """One filled-in bid form; a clear error naming the sheet, row and column otherwise."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds
        raise InputError(str(path), "file", f"not a readable XLSX bid form ({exc})") from None
    try:
        servers = _rows(path, book, "Servers", SERVER_COLUMNS, sites)
        drives = _rows(path, book, "Drives", DRIVE_COLUMNS, sites)
        power = {}
        for r, part in enumerate(_rows(path, book, "Power", POWER_COLUMNS, []), start=2):
            site = part["site"]
            if site not in sites or site in power:
                raise InputError(str(path), f"sheet 'Power' row {r} column 'site'",
                                 f"expected one row for each of {', '.join(sites)}")  # fmt: skip
            if part["chemistry"] not in ("lfp", "vrla"):
                raise InputError(str(path), f"sheet 'Power' row {r}", "chemistry: lfp or vrla")
            parse_runtime_table(part["runtime_table"], path, r)
            power[site] = part
        name = _tenderer(book) or path.stem
    finally:
        book.close()
    if servers and not all(sum(p.counts.values()) for p in servers):
        raise InputError(str(path), "sheet 'Servers'", "a model offered with no count at any site")
    return Bid(name, path, tuple(servers), tuple(drives), power)


def _tenderer(book: Any) -> str:
    if "Bid" not in book.sheetnames:
        return ""
    for row in book["Bid"].iter_rows(values_only=True):
        if row and row[0] == "tenderer" and row[1]:
            return str(row[1]).strip()
    return ""


def parse_runtime_table(text: str, path: Path, row: int) -> tuple[tuple[float, float], ...]:
    """``0.2:60; 0.5:20; 1:8`` as ((fraction, minutes), ...): at least two rows, load
    rising and minutes falling."""
    where = f"sheet 'Power' row {row} column 'runtime table'"
    try:
        rows = tuple(
            (float(a), float(b))
            for a, b in (part.split(":") for part in text.split(";") if part.strip())
        )
    except ValueError:
        raise InputError(str(path), where, "expected 'fraction:minutes; ...'") from None
    fractions = [f for f, _ in rows]
    minutes = [m for _, m in rows]
    if (
        len(rows) < 2
        or not all(0 < f <= 1 for f in fractions)
        or not all(m > 0 for m in minutes)
        or fractions != sorted(set(fractions))
        or minutes != sorted(minutes, reverse=True)
    ):
        raise InputError(
            str(path),
            where,
            "expected 2+ rows, fractions in (0, 1] rising, minutes falling",
        )
    return rows
