"""The report's charts (matplotlib, Agg backend), as PNG bytes without timestamps."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt

from planner.outputs.report.data import ReportData
from planner.outputs.report.families import FamilyChart
from planner.outputs.report.whatif import WhatIf

COLOURS = ("#1b6ca8", "#d1495b", "#66a182", "#edae49", "#8d96a3", "#00798c")


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(figure)
    return buffer.getvalue()


def _figure(width: float = 8.0, height: float = 3.6) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt.subplots(figsize=(width, height))


def _thousands(axes: Any, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:g}")
    (axes.yaxis if axis == "y" else axes.xaxis).set_major_formatter(formatter)


def family_chart(chart: FamilyChart) -> bytes:
    """Demand of one constraint family against the ceiling the plan sized to and the
    physical capacity of what survives (linear axes, shaded headroom between them)."""
    figure, axes = _figure()
    yearly = chart.x.size < 20
    for colour, (label, values) in zip(COLOURS, chart.demand.items(), strict=False):
        axes.plot(
            chart.x, values, color=colour, linewidth=1.0 if not yearly else 1.6,
            marker="o" if yearly else None, label=f"demand, {label}",
        )  # fmt: skip
    axes.axhline(chart.ceiling, color="#333333", linestyle="--", linewidth=1.2,
                 label=chart.ceiling_label)  # fmt: skip
    axes.axhline(chart.physical, color="#8d96a3", linewidth=1.6, label=chart.physical_label)
    axes.axhspan(chart.ceiling, chart.physical, color="#8d96a3", alpha=0.12, lw=0)
    peak = max((float(v.max()) for v in chart.demand.values() if v.size), default=0.0)
    axes.set_ylim(0, 1.08 * max(chart.physical, peak, 1e-9))
    axes.set_xlim(float(chart.x.min()), float(chart.x.max()) if chart.x.size > 1 else 1.0)
    axes.set_xlabel(chart.x_label)
    axes.set_ylabel(chart.unit)
    _thousands(axes)
    axes.set_title(f"{chart.site}: {chart.family}")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=7, frameon=False)
    return _png(figure)


def cost_chart(data: ReportData) -> bytes:
    """Stacked cost over the horizon per site."""
    figure, axes = _figure(7.0, 3.4)
    parts = ("servers", "drives", "batteries", "ups", "maintenance", "energy")
    names = [s.name for s in data.sites]
    bottom = np.zeros(len(names))
    for colour, part in zip(COLOURS, parts, strict=False):
        values = np.array([s.costs.get(part, 0.0) for s in data.sites]) / 1e6
        axes.bar(names, values, bottom=bottom, color=colour, label=part)
        bottom += values
    axes.set_ylabel(f"million {data.currency}")
    axes.set_title("Total cost of ownership over the horizon")
    axes.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.0, 1.0), loc="upper left")
    return _png(figure)


def incident_chart(incident: dict[str, Any]) -> bytes:
    """The incident as reported, replayed on both designs: what carried the clinical work
    minute by minute (hours on a linear axis)."""
    old, new, reported = incident["old"], incident["new"], incident["reported"]
    end_h = max(reported.patient_record_back_at_min, 60.0) / 60.0 + 0.5
    figure, axes = _figure(7.0, 3.4)
    rows = {"old design (as it was)": 1, "new design": 0}

    def bar(
        row: str, start_min: float, stop_min: float, colour: str, label: str, height: float = 0.5
    ) -> None:
        if stop_min <= start_min:
            return
        offset = (height - 0.5) / 2  # thin bars sit at the bottom of their row
        axes.barh(
            rows[row] + offset, (stop_min - start_min) / 60.0, left=start_min / 60.0,
            height=height, color=colour, label=label,
        )  # fmt: skip

    grid = reported.grid_minutes
    # old: UPS until it ran flat, then dark until the grid and the restart brought it back
    bar("old design (as it was)", 0, min(old.ups_minutes, grid), "#f0a030", "on battery")
    if old.battery_flat_at_min is not None:
        bar("old design (as it was)", old.battery_flat_at_min, old.clinical_back_at_min,
            "#c0392b", "clinical work down")  # fmt: skip
    bar("old design (as it was)", old.clinical_back_at_min, end_h * 60, "#7fb77e",
        "clinical work running")  # fmt: skip
    # new: the lost site on battery until the grid returns; the clinical work moved at once
    moved = new.failover_minutes + 0.25
    bar("new design", 0, end_h * 60, "#7fb77e", "_")
    bar("new design", 0, grid, "#f0a030", "lost site on battery (its work runs elsewhere)", 0.15)
    if new.clinical_downtime_min > 0 and new.dark_at_min is not None:
        bar("new design", new.dark_at_min, new.dark_at_min + new.clinical_downtime_min,
            "#c0392b", "_")  # fmt: skip
    axes.axvline(grid / 60.0, color="#333333", linestyle="--", label=f"grid back ({grid:g} min)")
    axes.axvline(moved / 60.0, color="#1b6ca8", linestyle=":",
                 label=f"new design: work moved to the other site ({moved:.0f} min)")  # fmt: skip
    axes.set_yticks(list(rows.values()), list(rows))
    axes.set_xlim(0, end_h)
    axes.set_xlabel("hours after the grid was lost (the generator did not start)")
    axes.set_title("The incident as reported, replayed on both designs")
    axes.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3)
    return _png(figure)


def survival_chart(battery: dict[str, Any]) -> bytes:
    """The chance of carrying clinical work through a grid outage of X hours."""
    points = battery["survival"]
    hours = [p["outage_hours"] for p in points]
    figure, axes = _figure(7.0, 3.0)
    for colour, key, label in (
        (COLOURS[0], "sized", "new design, one site's grid lost"),
        (COLOURS[2], "sized_regional", "new design, both sites' grid lost at once"),
        (COLOURS[1], "as_was", "old design (as it was)"),
    ):
        if all(key in p for p in points):
            axes.plot(hours, [100 * p[key] for p in points], marker="o", color=colour, label=label)
    axes.set_xlabel("length of the grid outage (hours)")
    axes.set_ylabel("chance of no clinical outage (%)")
    axes.set_ylim(top=100.5)
    axes.set_title("Carrying clinical work through a grid outage")
    axes.legend(fontsize=7, frameon=False)
    return _png(figure)


def battery_chart(site: str, battery: dict[str, Any]) -> bytes:
    """Runtime against load for the installed strings: new, at end of life, and at end of
    life with one string lost; the required runtime and the worst load marked."""
    points = battery["runtime_by_load"]
    loads = [p["load_kw"] for p in points]
    design_kw = battery["design_load_kw"]
    figure, axes = _figure(7.0, 3.4)
    for colour, (key, label) in zip(
        COLOURS,
        (
            ("new", "battery new"),
            ("end_of_life", "end of life"),
            ("end_of_life_one_string_lost", "end of life, one string lost"),
        ),
        strict=False,
    ):
        axes.plot(loads, [p[key] for p in points], color=colour, marker="o", ms=3, label=label)
    axes.axhline(
        battery["required_runtime_minutes"],
        color="#333333",
        linestyle="--",
        label=f"required {battery['required_runtime_minutes']:.1f} min",
    )
    axes.axvline(design_kw, color="#999999", linestyle=":", label=f"worst load {design_kw:.1f} kW")
    axes.set_xlabel("load on the UPS (kW)")
    axes.set_ylabel("runtime (minutes)")
    axes.set_ylim(bottom=0)
    axes.set_title(f"{site}: battery runtime against load")
    axes.legend(fontsize=7, frameon=False)
    return _png(figure)


def availability_chart(samples: dict[str, npt.NDArray[np.float64]]) -> bytes:
    """Years with clinical downtime, one panel per design on linear axes, each bar labelled
    with its count so that a handful of bad years in a million stays visible."""
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, len(samples), figsize=(8.0, 3.2), squeeze=False)
    for axes, colour, (label, values) in zip(panels[0], COLOURS, samples.items(), strict=False):
        hit = values[values > 0]
        if hit.size:
            top = float(hit.max())
            edges = np.linspace(0.0, top * 1.0001 if top > 0 else 1.0, 11)
            counts, _, bars = axes.hist(hit, bins=edges, color=colour)
            axes.bar_label(bars, labels=[f"{c:,.0f}" if c else "" for c in counts], fontsize=7)
        else:
            axes.text(0.5, 0.5, "no year with downtime", ha="center", transform=axes.transAxes)
        axes.set_title(f"{label}: {hit.size:,} of {values.size:,} years", fontsize=9)
        axes.set_xlabel("clinical downtime in that year (minutes)")
        axes.set_ylabel("simulated years")
        _thousands(axes)
        _thousands(axes, "x")
    figure.suptitle("Simulated years with any clinical downtime (years without are not drawn)")
    figure.tight_layout()
    return _png(figure)


def tornado_chart(what_if: WhatIf, currency: str) -> bytes:
    """Each varied input's range of median TCO (left) and of expected downtime (right)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import StrMethodFormatter

    panels = [("TCO", what_if.tco, 1e6, f"million {currency}")]
    if any(e.high > e.low for e in what_if.downtime):
        panels.append(("expected clinical downtime", what_if.downtime, 1.0, "minutes a year"))
    rows = max(len(p[1]) for p in panels)
    figure, axes_row = plt.subplots(1, len(panels), figsize=(8.0, 1.2 + 0.45 * rows), squeeze=False)
    for axes, (title, effects, scale, unit) in zip(axes_row[0], panels, strict=True):
        ordered = list(reversed(effects))
        for y, e in enumerate(ordered):
            axes.barh(y, (e.high - e.low) / scale, left=e.low / scale, color=COLOURS[0])
            axes.annotate(
                e.low_at,
                (e.low / scale, y),
                xytext=(-3, 0),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize=7,
            )
            axes.annotate(
                e.high_at,
                (e.high / scale, y),
                xytext=(3, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=7,
            )
        axes.set_yticks(range(len(ordered)), [e.key for e in ordered], fontsize=7)
        lo = min(e.low for e in ordered) / scale
        hi = max(e.high for e in ordered) / scale
        pad = 0.35 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
        axes.set_xlim(lo - pad, hi + pad)
        axes.set_xlabel(unit)
        axes.set_title(title, fontsize=9)
        axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.2f}"))
    figure.suptitle(f"What moves the answer: median over {what_if.scenarios} sized scenarios")
    figure.tight_layout()
    return _png(figure)
