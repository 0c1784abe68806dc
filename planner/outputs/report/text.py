"""Plain-words sentences shared by the HTML and Markdown reports."""

from __future__ import annotations

from typing import Any

from planner.outputs.report.data import ReportData, SiteReport


def money(value: float, currency: str) -> str:
    return f"{value:,.0f} {currency}"


def buy_sentence(site: SiteReport) -> str:
    parts = [f"{i.quantity} x {i.sku} ({i.category.lower()}, {i.note})" for i in site.items]
    return f"{site.name.capitalize()}: " + "; ".join(parts) + "."


def one_in(probability: float) -> str:
    """A chance in words: "about 1 in 400", "almost certainly", "practically never"."""
    if probability <= 0:
        return "practically never"
    if probability >= 0.9:
        return "almost certainly"
    n = 1.0 / probability
    digits = max(0, len(str(int(n))) - 2)
    rounded = round(n, -digits)
    return f"about 1 in {rounded:,.0f}"


#: What an active-active design with a witness does not protect against.
NOT_PROTECTED = (
    "both sites losing power at once for longer than either can ride through (a regional "
    "blackout with both generators failing)",
    "software faults, bad updates and cyber attacks, which synchronous replication copies "
    "to both sites within milliseconds",
    "data corruption or deletion, likewise copied to both sites (only backups and "
    "point-in-time copies kept apart protect against it)",
    "the link between the sites: if both fibre paths are cut, only the side with the "
    "witness keeps writing; the other stops",
    "human error in operating both sites, and anything the drills have not practised",
)


def board_summary(data: ReportData) -> list[str]:
    """The case in plain words, for a board: the design, its cost, the incident replayed,
    the chances, and what it does not protect against."""
    plan = data.plan
    a = plan["assumptions"]
    costs = plan["costs"]
    lines = [
        f"The region gets two hospital datacentres that each run all clinical work alone. "
        f"Over {a['horizon_years']:g} years this costs {money(costs['tco'], data.currency)} "
        f"in all, of which {money(costs['capex'], data.currency)} is equipment.",
    ]
    incident = data.incident
    if incident is not None:
        old, new, reported = incident["old"], incident["new"], incident["reported"]
        lines.append(
            f"The incident that started this, replayed with its published figures: the grid "
            f"failed, the generator did not start, the old battery ran flat after "
            f"{reported.ups_minutes:g} minutes and the grid came back after "
            f"{reported.grid_minutes:g}; restarting the dark datacentre took until about "
            f"{reported.patient_record_back_at_min / 60:.1f} hours after the start. The old "
            f"design lost {old.clinical_downtime_min / 60:.1f} hours of clinical work. The new "
            f"design loses "
            + (
                "none: "
                if new.clinical_downtime_min == 0
                else f"{new.clinical_downtime_min:.0f} minutes: "
            )
            + f"the other site takes over the clinical work within "
            f"{new.failover_minutes + 0.25:.0f} minutes, and the battery, even at the end of "
            f"its life, still holds when the grid returns."
        )
        ride = min(
            s.battery.get("ride_through_minutes", 0.0)
            for s in data.sites
            if s.battery.get("status") == "sized"
        )
        repeat = 0.0 if ride > reported.grid_minutes else 1.0
        lines.append(
            f"If the same incident happens again, the chance of losing clinical work is "
            f"{one_in(repeat)} with the new design (its battery and room ride through "
            f"{ride:.0f} minutes at the worst load, longer than the {reported.grid_minutes:g}"
            f"-minute outage) and {one_in(1.0)} with the old one."
        )
    summary = data.availability_summary.get("sized design")
    old_summary = data.availability_summary.get("as-was design")
    if summary and old_summary:
        p_new = summary["years_with_downtime"] / summary["years"]
        p_old = old_summary["years_with_downtime"] / old_summary["years"]
        lines.append(
            f"In any one year, counting every grid outage the Danish grid's record suggests, "
            f"the chance of any clinical outage caused by power is {one_in(p_new)} with the "
            f"new design and {one_in(p_old)} with the old one (simulated over "
            f"{summary['years']:,.0f} years, seed {summary.get('seed', 0):.0f})."
        )
    sized = [s for s in data.sites if s.battery.get("status") == "sized"]
    if sized:
        curve = {p["outage_hours"]: p for p in sized[0].battery["survival"]}
        if 8.0 in curve:
            lines.append(
                f"Through a grid outage of 8 hours the new design carries on with a chance of "
                f"{100 * curve[8.0]['sized']:.2f} %, the old one "
                f"{100 * curve[8.0]['as_was']:.2f} %."
            )
            if "sized_regional" in curve[8.0]:
                lines.append(
                    f"If both sites lose the grid at once for 8 hours, the new design carries "
                    f"on with a chance of {100 * curve[8.0]['sized_regional']:.2f} %: with both "
                    "generators lost there is no site left to fail over to."
                )
    lines.append("What the design does not protect against: " + "; ".join(NOT_PROTECTED) + ".")
    return lines


def executive_summary(data: ReportData) -> list[str]:
    plan = data.plan
    a = plan["assumptions"]
    costs = plan["costs"]
    lines = [
        f"Buy the hardware below for each of the {len(data.sites)} sites. Over "
        f"{a['horizon_years']:g} years it costs {money(costs['capex'], data.currency)} to buy "
        f"(battery replacements included) and {money(costs['tco'], data.currency)} in total "
        f"with maintenance and energy.",
    ]
    lines += [buy_sentence(site) for site in data.sites]
    lines.append(
        f"Either site alone carries all clinical work at the design peak (the time-aligned "
        f"load of both sites, grown to the horizon's end), even with "
        f"{a['redundancy_servers_lost']} of its own servers failed."
    )
    placed = [c for c in plan["constraints"] if c["name"].startswith("pods placed")]
    if placed and all(c["ok"] for c in placed):
        lines.append(
            f"Kubernetes can place every declared pod, in normal operation and with the "
            f"other site lost, after any {a['redundancy_servers_lost']} server(s) of the "
            f"site fail: checked pod by pod against each server's allocatable resources and "
            f"the placement rules the stacks declare."
        )
    worst = max(
        (c for c in plan["constraints"] if c["name"].startswith("cpu_cores") and "peak" in c),
        key=lambda c: c["overshoot_pct"],
        default=None,
    )
    if worst is not None and worst["overshoot_pct"] > 0:
        lines.append(
            f"The sizing percentile leaves the rarest peaks out: at {worst['site']} "
            f"({worst['scenario']}) the real CPU peak is {worst['overshoot_pct']:.1f} % above "
            f"the sized capacity for at most {worst['longest_overload_minutes']:.0f} minutes "
            f"at a time ({worst['overload_minutes']:.0f} minutes over the whole profile); "
            f"that peak uses {worst.get('peak_pct_of_physical', 0.0):.0f} % of the physical "
            f"cores left after a server loss"
            + (
                ", so it runs slower but runs."
                if worst.get("peak_pct_of_physical", 0.0) <= 100
                else ": work would queue; consider an overload bound in the spec."
            )
        )
    link = plan.get("link")
    if link:
        lines.append(
            f"Synchronous replication needs {link['paths']} diverse links between the sites, "
            f"each carrying at least {link['required_gbit_s_per_path']:.2f} Gbit/s (peak "
            f"committed writes {link['peak_replication_mib_s']:.1f} MiB/s at the horizon's "
            f"end); over {link['distance_km']:g} km each commit waits "
            f"{link['added_commit_latency_ms']:.2f} ms more, within the "
            f"{link['latency_budget_ms']:g} ms budget."
        )
    sized = [s for s in data.sites if s.battery.get("status") == "sized"]
    if sized:
        b = sized[0].battery
        lines.append(
            f"If the grid fails and the generator does not start, each site rides through "
            f"{b['ride_through_minutes']:.1f} minutes at its worst load with the battery at end "
            f"of life and one battery string lost (here the {b['ride_through_decided_by']} "
            f"decides), against {b['required_runtime_minutes']:.1f} minutes needed: "
            f"{b['required_runtime_reason']}."
        )
    summary = data.availability_summary.get("sized design")
    old = data.availability_summary.get("as-was design")
    if summary and old:
        lines.append(
            f"Simulated over {summary['years']:,.0f} years of grid outages: expected clinical "
            f"downtime {summary['mean_downtime_min']:.4f} minutes a year, against "
            f"{old['mean_downtime_min']:.4f} for the design that failed (one active site, cold "
            f"standby); a clinical outage longer than an hour in "
            f"{summary['p_outage_over_hour']:.1e} of years, against "
            f"{old['p_outage_over_hour']:.1e}."
        )
    return lines


ASSUMPTION_SOURCES = {
    "growth_per_year": "planning spec (planning assumption)",
    "sizing_percentile": "planning spec; requests right-sizing practice (KRR, Robusta)",
    "utilisation_ceiling": "planning spec (planning assumption)",
    "pue": "planning spec (planning assumption)",
    "energy_price_per_kwh": "planning spec (planning assumption)",
    "generator fail to start 0.0094 / demand": "NREL REopt.jl defaults (Marqusee & Jenket 2020)",
    "generator start within 10 s": "NFPA 110 Type 10",
    "grid outages (~25 min a year)": "Energinet 2017; CEER Benchmarking Report 6.1",
    "battery aging factor 1.25, design margin 1.1": "IEEE 485 practice; UFC 3-520-01",
    "temperature correction": "IEEE 485 Table 1",
    "server power at idle / 50 % / 100 %": "SPECpower_ssj2008 results (see the catalogue)",
}


def normalisation_rows(norm: dict[str, Any]) -> list[list[str]]:
    """What the CPU figures are counted in, each factor with its SPEC result ids."""
    if not norm["normalised"]:
        return [["CPU", "a core of any server counts as a core", "the spec names no hardware"]]
    m = norm["measured_on"]
    rows = [
        [
            "CPU measured on",
            f"{m['hardware']}: {m['int_rate_base']:g} / {m['cores']} cores = "
            f"{m['rate_per_core']:.4g} SPECrate2017_int_base per core",
            f"SPEC CPU 2017 {m['result']}",
        ]
    ]
    for site, v in norm["sites"].items():
        server = norm["servers"][v["server"]]
        rows.append(
            [
                f"CPU factor at {site}",
                f"a core of {v['server']} counts {v['request_scale']:.4g} reference cores "
                f"({server['rate_per_core']:.4g} / {m['rate_per_core']:.4g} per core)",
                f"SPEC CPU 2017 {server['result']}",
            ]
        )
    return rows
