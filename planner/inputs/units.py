"""Metric names, unit conversions and the one percentile rule every module shares."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import numpy.typing as npt

#: Load-profile metrics, SI-ish units carried in the names.
METRICS: tuple[str, ...] = (
    "cpu_cores",
    "memory_gib",
    "read_iops",
    "write_iops",
    "write_mib_s",
    "stored_tib",
)

BYTES_PER_TIB = 2**40
BYTES_PER_MIB = 2**20
BYTES_PER_TB = 10**12  # drive vendors quote decimal terabytes
TIB_PER_TB = BYTES_PER_TB / BYTES_PER_TIB
HOURS_PER_YEAR = 8760.0
SECONDS_PER_YEAR = HOURS_PER_YEAR * 3600.0


def rank_for_percentile(n: int, percentile: float) -> int:
    """1-based rank of the sample that is the ``percentile``-th percentile of ``n`` samples.

    Nearest-rank (inverted CDF) definition, k = ceil(n * p / 100), computed in exact
    rational arithmetic so that at most ``n - k`` samples exceed the design value.
    """
    if n <= 0:
        raise ValueError("percentile of an empty series")
    k = math.ceil(Fraction(str(percentile)) * n / 100)
    return max(1, min(n, k))


def allowed_exceedances(n: int, percentile: float) -> int:
    """How many of ``n`` timesteps may exceed a capacity sized at ``percentile``.

    floor(n * (100 - p) / 100), exact. Kept separate from :func:`rank_for_percentile` so
    the verifier states the rule from the other side.
    """
    return math.floor((Fraction(100) - Fraction(str(percentile))) * n / 100)


def growth_factor_at(years: float, rate_per_year: float) -> float:
    """Compound growth after ``years``: (1 + g)^Y."""
    return float((1.0 + rate_per_year) ** years)


def growth_factors(years: float, rates: list[float]) -> npt.NDArray[np.float64]:
    """(1 + g_w)^Y for each workload's rate g_w."""
    return np.array([growth_factor_at(years, g) for g in rates], dtype=np.float64)


def mean_growth_factor(years: float, rate_per_year: float) -> float:
    """Mean of (1 + g)^t over t in [0, Y]: ((1 + g)^Y - 1) / (Y ln(1 + g)); 1 when g = 0."""
    if years <= 0 or rate_per_year == 0:
        return 1.0
    log = math.log1p(rate_per_year)
    return float(math.expm1(years * log) / (years * log))
