"""The percentile rule and growth helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.inputs.units import (
    allowed_exceedances,
    growth_factor_at,
    mean_growth_factor,
    rank_for_percentile,
)

percentiles = st.one_of(
    st.integers(1, 100).map(float), st.sampled_from([99.5, 99.9, 95.0, 50.5, 0.1])
)


@given(st.integers(1, 100_000), percentiles)
def test_rank_and_allowed_exceedances_agree(n: int, p: float) -> None:
    assert n - rank_for_percentile(n, p) == allowed_exceedances(n, p)


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=300), percentiles)
def test_rank_matches_numpy_inverted_cdf(values: list[int], p: float) -> None:
    ranked = sorted(values)
    expected = np.percentile(np.array(values, dtype=float), p, method="inverted_cdf")
    assert ranked[rank_for_percentile(len(values), p) - 1] == expected


def test_mean_growth_factor_is_the_integral_mean() -> None:
    years = np.linspace(0, 5, 200_001)
    numeric = np.trapezoid(1.08**years, years) / 5
    assert mean_growth_factor(5, 0.08) == pytest.approx(numeric, rel=1e-9)
    assert mean_growth_factor(5, 0.0) == 1.0
    assert growth_factor_at(3, 0.1) == pytest.approx(1.331)
