"""What changed between two plans: quantities, costs, power, battery runtime, margins,
and the per-workload sizing the Kubernetes side declares."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

MARGIN_EPSILON_PCT = 0.05  # margin changes smaller than this (percentage points) are noise
VALUE_EPSILON = 1e-6


@dataclass(frozen=True)
class Change:
    section: str  # "fleet", "costs", "power", "battery", "margins", "workloads"
    site: str
    item: str
    old: float | None
    new: float | None
    cost_delta: float | None = None

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return self.new - self.old


def _fleet(site: dict[str, Any]) -> dict[str, tuple[int, float, int]]:
    """item -> (count, unit price, purchases over the horizon)."""
    out = {f"server {s['sku']}": (s["count"], s["unit_price"], 1) for s in site["servers"]}
    out |= {f"drive {d['sku']}": (d["count"], d["unit_price"], 1) for d in site["drives"]}
    battery = site.get("battery", {})
    out |= {
        f"battery {m['sku']}": (m["count"], m["unit_price"], m["purchases_over_horizon"])
        for m in battery.get("modules", [])
    }
    out |= {
        f"UPS frame {u['sku']}": (u["count"], u["unit_price"], 1)
        for u in battery.get("ups_frames", [])
    }
    return out


def _runtime_eol(battery: dict[str, Any]) -> float | None:
    runtime = battery.get("runtime_minutes_at_design_load") or {}
    value = runtime.get("end_of_life")
    return None if value is None else float(value)


def _changed(old: float | None, new: float | None) -> bool:
    if old is None or new is None:
        return old is not new
    return abs(new - old) > VALUE_EPSILON * max(1.0, abs(old))


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    old_sites = {s["name"]: s for s in old["sites"]}
    new_sites = {s["name"]: s for s in new["sites"]}
    for name in sorted(old_sites.keys() | new_sites.keys()):
        a, b = old_sites.get(name, {}), new_sites.get(name, {})
        fa, fb = (_fleet(a) if a else {}), (_fleet(b) if b else {})
        for item in sorted(fa.keys() | fb.keys()):
            n0, p0, k0 = fa.get(item, (0, 0.0, 1))
            n1, p1, k1 = fb.get(item, (0, 0.0, 1))
            if n0 != n1 or _changed(p0, p1):
                changes.append(Change("fleet", name, item, n0, n1, n1 * p1 * k1 - n0 * p0 * k0))
        for key in ("capex", "maintenance", "energy", "tco"):
            c0, c1 = a.get("costs", {}).get(key), b.get("costs", {}).get(key)
            if _changed(c0, c1):
                changes.append(
                    Change(
                        "costs", name, key, c0, c1, None if c0 is None or c1 is None else c1 - c0
                    )
                )
        for key in sorted(a.get("power_kw", {}).keys() | b.get("power_kw", {}).keys()):
            p_old, p_new = a.get("power_kw", {}).get(key), b.get("power_kw", {}).get(key)
            if _changed(p_old, p_new):
                changes.append(Change("power", name, f"IT kW, {key}", p_old, p_new))
        old_battery, new_battery = a.get("battery", {}), b.get("battery", {})
        for label, v0, v1 in (
            (
                "runtime min at design load, end of life",
                _runtime_eol(old_battery),
                _runtime_eol(new_battery),
            ),
            (
                "required runtime min",
                old_battery.get("required_runtime_minutes"),
                new_battery.get("required_runtime_minutes"),
            ),
            ("kWh installed", old_battery.get("kwh_installed"), new_battery.get("kwh_installed")),
        ):
            if _changed(v0, v1):
                changes.append(Change("battery", name, label, v0, v1))
    margins0 = {(c["name"], c["site"], c["scenario"]): c["margin_pct"] for c in old["constraints"]}
    margins1 = {(c["name"], c["site"], c["scenario"]): c["margin_pct"] for c in new["constraints"]}
    for margin_key in sorted(margins0.keys() | margins1.keys()):
        m0, m1 = margins0.get(margin_key), margins1.get(margin_key)
        if m0 == m1:
            continue
        if m0 is None or m1 is None or abs(m1 - m0) > MARGIN_EPSILON_PCT:
            check, site_name, scenario = margin_key
            label = check + (f" ({scenario})" if scenario else "")
            changes.append(Change("margins", site_name, f"margin % {label}", m0, m1))
    w0 = {w["name"]: w for w in old["workloads"]}
    w1 = {w["name"]: w for w in new["workloads"]}
    for workload in sorted(w0.keys() | w1.keys()):
        s0 = w0.get(workload, {}).get("sites", {})
        s1 = w1.get(workload, {}).get("sites", {})
        for site in sorted(s0.keys() | s1.keys()):
            for field in (
                "replicas_min",
                "replicas_max",
                "cpu_request_cores",
                "memory_request_gib",
                "storage_gib",
            ):
                v0, v1 = s0.get(site, {}).get(field), s1.get(site, {}).get(field)
                if _changed(v0, v1):
                    changes.append(Change("workloads", site, f"{workload} {field}", v0, v1))
    return changes


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def render_markdown(changes: list[Change], old: dict[str, Any], new: dict[str, Any]) -> str:
    if not changes:
        return "No change to the plan.\n"
    currency = new["assumptions"]["currency"]
    c0, c1 = old["costs"]["tco"], new["costs"]["tco"]
    lines = [
        f"**TCO** {c0:,.0f} -> {c1:,.0f} {currency} ({c1 - c0:+,.0f}); "
        f"**capex** {old['costs']['capex']:,.0f} -> {new['costs']['capex']:,.0f} {currency}",
        "",
    ]
    titles = {
        "fleet": "Quantities",
        "costs": "Costs",
        "power": "Power",
        "battery": "Battery",
        "margins": "Constraint margins",
        "workloads": "Kubernetes sizing",
    }
    for section, title in titles.items():
        rows = [c for c in changes if c.section == section]
        if not rows:
            continue
        lines += [
            f"#### {title}",
            "",
            "| Site | Item | Old | New | Change | Cost change |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for c in rows:
            delta = "-" if c.delta is None else f"{c.delta:+,.2f}".replace(".00", "")
            cost = "" if c.cost_delta is None else f"{c.cost_delta:+,.0f} {currency}"
            lines.append(
                f"| {c.site} | {c.item} | {_fmt(c.old)} | {_fmt(c.new)} | {delta} | {cost} |"
            )
        lines.append("")
    return "\n".join(lines)


def to_json(changes: list[Change]) -> str:
    return (
        json.dumps(
            {"changes": [{**asdict(c), "delta": c.delta} for c in changes]},
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
