"""The envelope reduction against the naive formulation of the same sizing problem.

The problem, per site: integer servers n_k of each catalogue model (price p_k, cores C_k,
memory M_k) and drives d (TB each) at least cost, such that in every scenario (normal,
the other site lost) the CPU load, after losing the r largest servers the catalogue has,
under the ceiling c, exceeds the capacity at most in the share of timesteps its
percentile leaves out, memory likewise, and the drives hold the stored data:

    (sum_k C_k n_k - r C_max) c >= L_t    for all but K timesteps (K = T - rank(p))

**Naive**, as an energy-system modeller writes it (scipy ``milp`` directly): one row per
timestep and scenario, and where the percentile lets K timesteps exceed, a binary z_t per
timestep with the row relaxed by L_t z_t and sum_t z_t <= K.

**Reduced**, as the planner does it: each series becomes its design value (the
percentile's nearest rank, ``planner.sizing.envelope.design_value``), one row per
scenario. Both optima are asserted equal; the naive model's cost grows with T.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from planner.inputs.catalog import Catalog, default_catalog_path, read_catalog
from planner.inputs.example import example_spec_path, generate_example_frame
from planner.inputs.profiles import profile_from_frame
from planner.inputs.spec import Spec, read_spec
from planner.sizing.envelope import design_value, scenarios_for, workload_series

TB_PER_TIB = 1.099511627776


@dataclass(frozen=True)
class Series:
    site: str
    scenario: str
    cpu: np.ndarray
    memory: np.ndarray
    stored_tib: float


def load_series(days: int) -> tuple[Spec, Catalog, list[Series]]:
    spec = read_spec(example_spec_path())
    catalog = read_catalog(default_catalog_path())
    frame = generate_example_frame(days=days)
    profile = profile_from_frame(frame, spec, "bench", lambda i: f"row {i + 1}")
    out = []
    for site in spec.site_names:
        for scenario in scenarios_for(spec, site):
            out.append(
                Series(
                    site,
                    scenario,
                    workload_series(profile, spec, site, scenario, "cpu_cores").sum(axis=0),
                    workload_series(profile, spec, site, scenario, "memory_gib").sum(axis=0),
                    float(
                        workload_series(profile, spec, site, scenario, "stored_tib")
                        .sum(axis=0)
                        .max()
                    ),
                )
            )
    return spec, catalog, out


def _capacity(catalog: Catalog, spec: Spec, resource: str) -> tuple[np.ndarray, float, float]:
    per = np.array(
        [s.cores if resource == "cpu" else s.memory_gib for s in catalog.servers], dtype=float
    )
    ceiling = spec.cpu_ceiling if resource == "cpu" else spec.memory_ceiling
    return per * ceiling, float(per.max()) * ceiling * spec.servers_lost, ceiling


def solve_reduced(spec: Spec, catalog: Catalog, series: list[Series]) -> float:
    """The planner's way: one design value per series, one row per scenario."""
    sites = list(spec.site_names)
    k, j = len(catalog.servers), len(catalog.drives)
    nvar = len(sites) * (k + j)
    cost = np.zeros(nvar)
    rows: list[np.ndarray] = []
    lower: list[float] = []
    for s, site in enumerate(sites):
        base = s * (k + j)
        cost[base : base + k] = [x.price for x in catalog.servers]
        cost[base + k : base + k + j] = [d.price for d in catalog.drives]
        for item in (x for x in series if x.site == site):
            for resource, values, metric in (
                ("cpu", item.cpu, "cpu_cores"),
                ("memory", item.memory, "memory_gib"),
            ):
                caps, lost, _ = _capacity(catalog, spec, resource)
                row = np.zeros(nvar)
                row[base : base + k] = caps
                rows.append(row)
                lower.append(design_value(values, spec, metric) + lost)
            row = np.zeros(nvar)
            row[base + k : base + k + j] = [d.capacity_tb / TB_PER_TIB for d in catalog.drives]
            rows.append(row)
            lower.append(item.stored_tib)
    result = milp(
        c=cost,
        integrality=np.ones(nvar),
        bounds=Bounds(0, np.inf),
        constraints=LinearConstraint(np.array(rows), np.array(lower), np.inf),
        options={"mip_rel_gap": 1e-9},
    )
    assert result.status == 0, result.message
    return float(result.fun)


def solve_naive(
    spec: Spec, catalog: Catalog, series: list[Series], time_limit_s: float
) -> float | None:
    """One row per timestep and scenario; binaries where the percentile allows exceedances."""
    sites = list(spec.site_names)
    k, j = len(catalog.servers), len(catalog.drives)
    nvar = len(sites) * (k + j)
    cost_list = [0.0] * nvar
    integer_list = [1] * nvar
    upper_list = [math.inf] * nvar
    r_idx: list[int] = []
    c_idx: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []

    def add_row(coeffs: dict[int, float], lb: float, ub: float = math.inf) -> None:
        row = len(lower)
        for col, v in coeffs.items():
            r_idx.append(row)
            c_idx.append(col)
            vals.append(v)
        lower.append(lb)
        upper.append(ub)

    for s, site in enumerate(sites):
        base = s * (k + j)
        for i, x in enumerate(catalog.servers):
            cost_list[base + i] = x.price
        for i, d in enumerate(catalog.drives):
            cost_list[base + k + i] = d.price
        for item in (x for x in series if x.site == site):
            for resource, values, metric in (
                ("cpu", item.cpu, "cpu_cores"),
                ("memory", item.memory, "memory_gib"),
            ):
                caps, lost, _ = _capacity(catalog, spec, resource)
                servers = {base + i: float(c) for i, c in enumerate(caps)}
                steps = values.shape[0]
                rank = min(steps, max(1, math.ceil(spec.percentile[metric] / 100.0 * steps)))
                allowed = steps - rank
                binaries = []
                for t in range(steps):
                    coeffs = dict(servers)
                    if allowed > 0:
                        z = len(cost_list)
                        cost_list.append(0.0)
                        integer_list.append(1)
                        upper_list.append(1.0)
                        coeffs[z] = float(values[t]) + lost  # z = 1 relaxes the row
                        binaries.append(z)
                    add_row(coeffs, float(values[t]) + lost)
                if binaries:
                    add_row(dict.fromkeys(binaries, 1.0), -math.inf, float(allowed))
            add_row(
                {base + k + i: d.capacity_tb / TB_PER_TIB for i, d in enumerate(catalog.drives)},
                item.stored_tib,
            )
    matrix = coo_array((vals, (r_idx, c_idx)), shape=(len(lower), len(cost_list))).tocsr()
    result = milp(
        c=np.array(cost_list),
        integrality=np.array(integer_list),
        bounds=Bounds(0, np.array(upper_list)),
        constraints=LinearConstraint(matrix, np.array(lower), np.array(upper)),
        options={"mip_rel_gap": 1e-9, "time_limit": time_limit_s},
    )
    if result.status != 0:
        return None
    return float(result.fun)


def compare(days: int, time_limit_s: float) -> tuple[int, float, float | None, float, float]:
    """(timesteps, reduced seconds, naive seconds or None, reduced optimum, naive optimum)."""
    spec, catalog, series = load_series(days)
    started = time.perf_counter()
    reduced = solve_reduced(spec, catalog, series)
    reduced_s = time.perf_counter() - started
    started = time.perf_counter()
    naive = solve_naive(spec, catalog, series, time_limit_s)
    naive_s = time.perf_counter() - started
    steps = int(series[0].cpu.shape[0])
    if naive is None:
        return steps, reduced_s, None, reduced, math.nan
    assert abs(naive - reduced) <= 1e-6 * max(1.0, abs(reduced)), (naive, reduced)
    return steps, reduced_s, naive_s, reduced, naive


def fitted_exponent(sizes: list[float], seconds: list[float]) -> float:
    """b of seconds = a x size^b, least squares in log-log."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])
