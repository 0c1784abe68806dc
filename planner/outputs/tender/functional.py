"""Lot 1 as function, not as a fixed count of a fixed type: per site, the CPU throughput,
memory, flash capacity, IOPS and endurance left after losing any r servers, the pods the
servers must place, and the rack space they may use.

Every numeric requirement is the product of the plan figures it names (``sources``; a
source written ``1/...`` divides). CPU is stated in SPECrate2017_int_base, so a tenderer
may offer fewer, faster servers: the profile's CPU figures are cores of the measured
hardware (``plan:/cpu_normalisation/measured_on``), and a server counts its result times
the share of its cores left after the node reservation.
"""

from __future__ import annotations

from typing import Any

from planner.inputs.spec import Spec
from planner.outputs.tender.model import AT_LEAST, AT_MOST, Requirement, round_down, round_up


def _constraints(plan: dict[str, Any], site: str, prefix: str) -> list[int]:
    return [
        k
        for k, c in enumerate(plan["constraints"])
        if c["site"] == site and c["name"].startswith(prefix)
    ]


def _worst(plan: dict[str, Any], ks: list[int]) -> int | None:
    """The constraint with the largest demand among ``ks``."""
    return max(ks, key=lambda k: float(plan["constraints"][k]["demand"]), default=None)


def _reserved(base: float, per_drive: float) -> str:
    """What a server keeps from pods, as the tender states it for any offered model."""
    return f"{base:g}" if per_drive <= 0 else f"({base:g} + {per_drive:g} x its drive bays)"


def site_requirements(plan: dict[str, Any], spec: Spec, i: int) -> list[Requirement]:
    """The functional requirements of lot 1 at ``plan:/sites/i``."""
    site = plan["sites"][i]["name"]
    item = f"Servers and flash, {site}"
    r = spec.servers_lost
    cores_r, gib_r = (
        _reserved(spec.reserved_cpu_cores, spec.reserved_cpu_cores_per_drive),
        _reserved(spec.reserved_memory_gib, spec.reserved_memory_gib_per_drive),
    )
    norm = plan["cpu_normalisation"]
    out: list[Requirement] = []
    cpu = _worst(plan, _constraints(plan, site, "cpu_cores N+"))
    if cpu is not None:
        c = plan["constraints"][cpu]
        ceiling = "1/plan:/assumptions/utilisation_ceiling/cpu"
        if norm["normalised"]:
            m = norm["measured_on"]
            out.append(
                Requirement(
                    item,
                    f"CPU throughput of the servers left after losing the {r} with the "
                    f"highest: the sum of SPECrate2017_int_base x (cores - {cores_r}) / cores",
                    AT_LEAST,
                    round_up(c["demand"] * m["rate_per_core"] / spec.cpu_ceiling),
                    "SPECrate2017_int_base",
                    (f"plan:/constraints/{cpu}/demand",
                     "plan:/cpu_normalisation/measured_on/rate_per_core", ceiling),
                    f"the design CPU load ({c['scenario']}) in cores of the servers it was "
                    f"measured on ({m['rate_per_core']:.4g} per core, SPEC CPU 2017 result "
                    f"{m['result']}) under the "
                    f"{spec.cpu_ceiling:g} utilisation ceiling; {cores_r} cores per server "
                    "are reserved for the system and storage daemons (one per drive bay)",
                    "published SPEC CPU 2017 result of the offered configuration, or "
                    "equivalent",
                )
            )  # fmt: skip
        else:
            out.append(
                Requirement(item, f"physical cores left after losing the {r} servers with the "
                            f"most, less {cores_r} per server", AT_LEAST,
                            round_up(c["demand"] / spec.cpu_ceiling), "cores",
                            (f"plan:/constraints/{cpu}/demand", ceiling),
                            "the design CPU load; the spec names no measured hardware, so "
                            "CPU cannot be stated as throughput", "processor data sheet")
            )  # fmt: skip
    memory = _worst(plan, _constraints(plan, site, "memory_gib N+"))
    if memory is not None:
        c = plan["constraints"][memory]
        out.append(
            Requirement(item, f"memory of the servers left after losing the {r} with the most, "
                        f"less {gib_r} GiB per server", AT_LEAST,
                        round_up(c["demand"] / spec.memory_ceiling), "GiB",
                        (f"plan:/constraints/{memory}/demand",
                         "1/plan:/assumptions/utilisation_ceiling/memory"),
                        f"the design memory load ({c['scenario']}) under the "
                        f"{spec.memory_ceiling:g} ceiling", "configuration list")
        )  # fmt: skip
    flash = _worst(plan, _constraints(plan, site, "flash usable capacity after losing"))
    if flash is not None:
        c = plan["constraints"][flash]
        out.append(
            Requirement(item, f"raw flash on the servers left after losing the {r} holding the "
                        "most", AT_LEAST,
                        round_up(c["demand"] * spec.protection.overhead / spec.fill_ceiling),
                        "TiB", (f"plan:/constraints/{flash}/demand",
                                "plan:/assumptions/storage_overhead",
                                "1/plan:/assumptions/fill_ceiling"),
                        "the stored data at the horizon, with the protection overhead, under "
                        "the fill ceiling", "drive data sheets")
        )  # fmt: skip
    for prefix, what, load in (
        ("read_iops after losing", "4 KiB random read", "the design read load"),
        ("write_iops (raw) after losing", "4 KiB random write",
         "the design write load, with the protection's extra writes"),
    ):  # fmt: skip
        k = _worst(plan, _constraints(plan, site, prefix))
        if k is None:
            continue
        c = plan["constraints"][k]
        out.append(
            Requirement(item, f"{what} IOPS of the drives left after losing the {r} servers "
                        "holding the most", AT_LEAST,
                        round_up(c["demand"] / spec.drive_iops_ceiling), "IOPS",
                        (f"plan:/constraints/{k}/demand",
                         "1/plan:/assumptions/utilisation_ceiling/drive_iops"),
                        f"{load} under the data-sheet derating", "SNIA SSS PTS 2.0 or equivalent")
        )  # fmt: skip
    life = _worst(plan, _constraints(plan, site, "flash endurance"))
    if life is not None:
        out.append(
            Requirement(item, "rated endurance of all drives (TBW = DWPD x TB x 365 x warranty "
                        "years)", AT_LEAST, round_up(plan["constraints"][life]["demand"]), "TB",
                        (f"plan:/constraints/{life}/demand",),
                        "the data written over the service life, with write amplification and "
                        "protection", "warranty terms (JEDEC JESD218 practice)")
        )  # fmt: skip
    rack = _worst(plan, _constraints(plan, site, "rack space"))
    if rack is not None:
        out.append(
            Requirement(item, "height of all servers", AT_MOST,
                        round_down(plan["constraints"][rack]["capacity"]), "U",
                        (f"plan:/constraints/{rack}/capacity",),
                        "the rack space reserved for the platform at the site")
        )  # fmt: skip
    return out


def pod_tables(plan: dict[str, Any], i: int) -> dict[str, list[dict[str, Any]]]:
    """Per scenario, the pods the site's servers must place, CPU in cores of the measured
    hardware (the plan declares them in its own servers' cores)."""
    site = plan["sites"][i]
    norm = plan["cpu_normalisation"]
    scale = norm["sites"][site["name"]]["request_scale"] if norm["normalised"] else 1.0
    return {
        scenario: [{**p, "cpu_request_cores": p["cpu_request_cores"] * scale} for p in pods]
        for scenario, pods in sorted(site["pods"].items())
    }


def placement_condition(plan: dict[str, Any], spec: Spec, i: int) -> str:
    site = plan["sites"][i]["name"]
    norm = plan["cpu_normalisation"]
    unit = (
        f"cores of the measured servers (SPEC CPU 2017 result {norm['measured_on']['result']}): "
        "a pod of c such cores asks "
        f"c x {norm['measured_on']['rate_per_core']:.4g} / (SPECrate2017_int_base / cores) "
        "cores of an offered server, and the site's requests are declared in its slowest "
        "offered server's cores"
        if norm["normalised"]
        else "cores"
    )
    return (
        f"{site}: every pod of the pod table for {site} is placed on the servers left after "
        f"losing any {spec.servers_lost}, each server offering its cores less "
        f"{_reserved(spec.reserved_cpu_cores, spec.reserved_cpu_cores_per_drive)} and its memory "
        f"less {_reserved(spec.reserved_memory_gib, spec.reserved_memory_gib_per_drive)} GiB, "
        f"within the spread rules of the table (CPU in {unit})."
    )
