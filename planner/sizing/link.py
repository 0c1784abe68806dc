"""The link between the sites: what synchronous replication needs from it.

Active-active with synchronous replication sends every committed write of a replicated
workload to the other site and waits for it. Per direction (each site's own writes):

    peak [MiB/s] = max_t sum_{w replicated} write_mib_s[site, w, t] x (1 + g_w)^Y x copies
    per path [Gbit/s] = peak x 2^20 x 8 / 10^9 x protocol overhead

Each of the ``paths`` diverse paths must carry that alone (N+1 = 2 paths), and the commit
waits one round trip: 2 x distance [km] x fibre delay [us/km] (about 5 us/km each way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.inputs.profiles import Profile
from planner.inputs.spec import Spec
from planner.inputs.units import BYTES_PER_MIB, growth_factors


@dataclass(frozen=True)
class LinkSizing:
    replicated_workloads: tuple[str, ...]
    peak_mib_s: float  # payload per direction, grown to the horizon, times the copies
    required_gbit_s_per_path: float
    paths: int
    distance_km: float
    added_commit_latency_ms: float
    latency_budget_ms: float

    @property
    def latency_ok(self) -> bool:
        return self.added_commit_latency_ms <= self.latency_budget_ms + 1e-12


def replicated(spec: Spec) -> tuple[str, ...]:
    """The workloads whose writes cross: the spec's list, else the stateful ones."""
    assert spec.link is not None
    if spec.link.replicated_workloads is not None:
        return spec.link.replicated_workloads
    return tuple(w.name for w in spec.workloads if w.stateful)


def size_link(profile: Profile, spec: Spec) -> LinkSizing | None:
    link = spec.link
    if link is None:
        return None
    names = replicated(spec)
    mask = np.array([w.name in names for w in spec.workloads], dtype=float)
    growth = growth_factors(spec.horizon_years, spec.growth_rates("write_mib_s"))
    writes = profile.values["write_mib_s"]  # (sites, workloads, steps)
    per_site = np.einsum("swt,w->st", writes, mask * growth)
    peak = float(per_site.max()) * link.copies_crossing if per_site.size else 0.0
    gbit = peak * BYTES_PER_MIB * 8 / 1e9 * link.protocol_overhead
    return LinkSizing(
        replicated_workloads=names,
        peak_mib_s=peak,
        required_gbit_s_per_path=gbit,
        paths=link.paths,
        distance_km=link.distance_km,
        added_commit_latency_ms=2 * link.distance_km * link.fibre_us_per_km / 1000.0,
        latency_budget_ms=link.latency_budget_ms,
    )


def check_link(link: LinkSizing | None) -> None:
    """Raise InfeasibleError when synchronous replication over the link adds more commit
    latency than the spec's budget (no link section: nothing to check)."""
    if link is None or link.latency_ok:
        return
    from planner.errors import InfeasibleError

    raise InfeasibleError(
        [
            f"inter-site link: synchronous replication over {link.distance_km:g} km adds "
            f"{link.added_commit_latency_ms:.2f} ms per commit, the budget is "
            f"{link.latency_budget_ms:g} ms (over by "
            f"{link.added_commit_latency_ms - link.latency_budget_ms:.2f} ms)"
        ]
    )
