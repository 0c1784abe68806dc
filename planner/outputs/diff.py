"""What changed between two plans: quantities, costs, power, battery runtime, margins,
and the per-workload sizing the Kubernetes side declares."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MARGIN_EPSILON_PCT = 0.05  # margin changes smaller than this (percentage points) are noise
#: Margin changes smaller than this (percentage points) are counted but not listed.
MARGIN_LISTED_PCT = 1.0
VALUE_EPSILON = 1e-6
#: Decimals each section is shown and exported with (the unit's precision).
DECIMALS = {
    "fleet": 0,
    "costs": 0,
    "power": 1,
    "battery": 1,
    "margins": 1,
    "workloads": 2,
}


@dataclass(frozen=True)
class Change:
    section: str  # "fleet", "costs", "power", "battery", "margins", "workloads"
    site: str
    item: str
    old: float | None
    new: float | None
    cost_delta: float | None = None

    @property
    def decimals(self) -> int:
        """The unit's precision: whole counts, GiB and money; tenths of kW, minutes and
        points; hundredths of cores."""
        if self.section == "workloads" and not self.item.endswith(
            ("cpu_request_cores", "memory_request_gib")
        ):
            return 0
        return DECIMALS[self.section]

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
    # floors (minimum counts such as placement hosts) move with every server count: left out
    margins0 = {
        (c["name"], c["site"], c["scenario"]): c["margin_pct"]
        for c in old["constraints"]
        if c.get("kind") != "floor"
    }
    margins1 = {
        (c["name"], c["site"], c["scenario"]): c["margin_pct"]
        for c in new["constraints"]
        if c.get("kind") != "floor"
    }
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


def _round(value: float | None, decimals: int) -> float | int | None:
    if value is None:
        return None
    rounded = round(float(value), decimals)
    return int(rounded) if decimals == 0 else rounded + 0.0


def _fmt(value: float | None, decimals: int) -> str:
    if value is None:
        return "-"
    return f"{value:,.{decimals}f}"


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings and lists as {"a.b[0].c": leaf}."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out |= flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out |= flatten(v, f"{prefix}[{i}]")
        return out
    return {prefix: value}


def input_causes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed in the inputs, one phrase each: which input files (by name and digest),
    which spec assumptions (key: old -> new), which catalogue unit prices."""
    causes = []
    for kind in ("profile", "spec", "catalog"):
        a = old.get("inputs", {}).get(kind, {})
        b = new.get("inputs", {}).get(kind, {})
        if a.get("sha256") != b.get("sha256"):
            name = b.get("name", "?")
            renamed = f" (was {a.get('name')})" if a.get("name") != name else ""
            causes.append(
                f"{kind} {name}{renamed}: {str(a.get('sha256', ''))[:8]} -> "
                f"{str(b.get('sha256', ''))[:8]}"
            )
    fa, fb = flatten(old.get("assumptions", {})), flatten(new.get("assumptions", {}))
    for key in sorted(fa.keys() | fb.keys()):
        if fa.get(key) != fb.get(key):
            causes.append(f"spec {key}: {fa.get(key, '(none)')} -> {fb.get(key, '(none)')}")
    prices_a = {x["sku"]: x["unit_price"] for s in old["sites"] for x in s["servers"] + s["drives"]}
    prices_b = {x["sku"]: x["unit_price"] for s in new["sites"] for x in s["servers"] + s["drives"]}
    for sku in sorted(prices_a.keys() & prices_b.keys()):
        if _changed(prices_a[sku], prices_b[sku]):
            causes.append(
                f"catalogue {sku} unit price: {prices_a[sku]:,.0f} -> {prices_b[sku]:,.0f}"
            )
    return causes


def headline(old: dict[str, Any], new: dict[str, Any], changes: list[Change]) -> dict[str, Any]:
    """The few facts a reviewer reads first."""

    def capacity(plan: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            c
            for c in plan["constraints"]
            if c.get("kind", "capacity") == "capacity" and c["margin_pct"] is not None
        ]

    lowest = min(capacity(new), key=lambda c: c["margin_pct"], default=None)
    was_binding = {(c["name"], c["site"], c["scenario"]) for c in capacity(old) if c["binding"]}
    binding_now = [
        f"{c['name']} at {c['site']}" + (f"/{c['scenario']}" if c["scenario"] else "")
        for c in capacity(new)
        if c["binding"] and (c["name"], c["site"], c["scenario"]) not in was_binding
    ]
    return {
        "tco_delta": round(new["costs"]["tco"] - old["costs"]["tco"]),
        "capex_delta": round(new["costs"]["capex"] - old["costs"]["capex"]),
        "quantity_changes": [
            f"{c.site}: {c.item} {c.old:g} -> {c.new:g}"
            for c in changes
            if c.section == "fleet" and c.old != c.new and c.old is not None and c.new is not None
        ],
        "lowest_margin": None
        if lowest is None
        else {
            "constraint": f"{lowest['name']} at {lowest['site']}"
            + (f"/{lowest['scenario']}" if lowest["scenario"] else ""),
            "margin_pct": round(lowest["margin_pct"], 1),
        },
        "newly_binding": binding_now,
    }


def render_headline(head: dict[str, Any], currency: str, causes: list[str]) -> list[str]:
    lines = [
        f"**TCO {head['tco_delta']:+,} {currency}**, capex {head['capex_delta']:+,} {currency}; "
        + (
            "quantities: " + "; ".join(head["quantity_changes"])
            if head["quantity_changes"]
            else "no quantity changes"
        )
    ]
    if head["lowest_margin"] is not None:
        low = head["lowest_margin"]
        lines.append(f"Lowest margin: {low['constraint']} at {low['margin_pct']:.1f} %")
    if head["newly_binding"]:
        lines.append("Newly binding: " + "; ".join(head["newly_binding"]))
    if causes:
        lines.append("Caused by: " + "; ".join(causes))
    return lines


def render_markdown(changes: list[Change], old: dict[str, Any], new: dict[str, Any]) -> str:
    causes = input_causes(old, new)
    if not changes and not causes:
        return "No change to the plan.\n"
    currency = new["assumptions"]["currency"]
    head = headline(old, new, changes)
    lines = [*(f"{line}  " for line in render_headline(head, currency, causes)), ""]
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
        small = []
        if section == "margins":
            small = [c for c in rows if c.delta is not None and abs(c.delta) < MARGIN_LISTED_PCT]
            rows = [c for c in rows if c not in small]
        if not rows and not small:
            continue
        with_cost = section == "fleet"
        lines += [f"#### {title}", ""]
        if rows:
            header = "| Site | Item | Old | New | Change |" + (
                " Cost change |" if with_cost else ""
            )
            lines += [header, "|---|---|---:|---:|---:|" + ("---:|" if with_cost else "")]
        for c in rows:
            decimals = c.decimals
            delta = "-" if c.delta is None else f"{c.delta:+,.{decimals}f}"
            row = (
                f"| {c.site} | {c.item} | {_fmt(c.old, decimals)} | {_fmt(c.new, decimals)} "
                f"| {delta} |"
            )
            if with_cost:
                row += "" if c.cost_delta is None else f" {c.cost_delta:+,.0f} {currency} |"
                row += " |" if c.cost_delta is None else ""
            lines.append(row)
        if small:
            lines += [
                "",
                f"{len(small)} smaller margin change(s), under {MARGIN_LISTED_PCT:g} point.",
            ]
        lines.append("")
    return "\n".join(lines)


def to_json(changes: list[Change], old: dict[str, Any], new: dict[str, Any]) -> str:
    """Clean JSON: the headline, the input causes and every change, rounded to its unit."""
    rows = []
    for c in changes:
        decimals = c.decimals
        rows.append(
            {
                "section": c.section,
                "site": c.site,
                "item": c.item,
                "old": _round(c.old, decimals),
                "new": _round(c.new, decimals),
                "delta": _round(c.delta, decimals),
                "cost_delta": _round(c.cost_delta, 0),
            }
        )
    doc = {
        "headline": headline(old, new, changes),
        "causes": input_causes(old, new),
        "changes": rows,
    }
    return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n"
