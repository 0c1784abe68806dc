"""The report's charts (matplotlib, Agg backend), as PNG bytes without timestamps."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt

from planner.outputs.report.data import ReportData, Series

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


def envelope_chart(site: str, series: Series) -> bytes:
    """Daily peak CPU demand per scenario over the profile's year vs the sized capacity."""
    figure, axes = _figure()
    for colour, (scenario, values) in zip(COLOURS, series.demand.items(), strict=False):
        axes.plot(
            series.days,
            values,
            color=colour,
            linewidth=1.0,
            label=f"demand, {scenario} (daily peak, at horizon end)",
        )
        if scenario in series.capacity:
            axes.axhline(
                series.capacity[scenario],
                color=colour,
                linestyle="--",
                linewidth=1.2,
                label=f"capacity after N+r, {scenario}",
            )
    axes.set_xlabel("day of the profile")
    axes.set_ylabel("CPU cores")
    axes.set_title(f"{site}: CPU demand envelope against the sized capacity")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=7, frameon=False)
    axes.set_ylim(bottom=0)
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
        (COLOURS[0], "sized", "new design"),
        (COLOURS[1], "as_was", "old design (as it was)"),
    ):
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
    """Distribution of clinical downtime per simulated year (years with any downtime)."""
    figure, axes = _figure(7.0, 3.4)
    top = max((float(v.max()) for v in samples.values() if v.size and v.max() > 0), default=1.0)
    bins = np.logspace(-1, np.log10(max(top, 1.0)) + 0.1, 40)
    for colour, (label, values) in zip(COLOURS, samples.items(), strict=False):
        hit = values[values > 0]
        share = 100.0 * hit.size / max(values.size, 1)
        axes.hist(
            np.maximum(hit, 0.1),
            bins=bins,
            color=colour,
            alpha=0.6,
            label=f"{label}: {share:.3f} % of years have downtime",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("clinical downtime in a year (minutes)")
    axes.set_ylabel("simulated years")
    axes.set_title("Availability: downtime per simulated year")
    axes.legend(fontsize=7, frameon=False)
    return _png(figure)
