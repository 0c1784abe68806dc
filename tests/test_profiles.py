"""Profile loading: formats, DST, row order, and property tests for the validator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputError
from planner.inputs.profiles import profile_from_frame, read_profile, write_profile
from planner.inputs.spec import Workload
from planner.inputs.units import METRICS
from tests.conftest import base_spec, frame_to_csv_text, profile_frame

SPEC = base_spec(
    workloads=tuple(
        Workload(name, "critical", 1.0, "horizontal", 1.0, 1.0, None, 1, False)
        for name in ("web", "db", "batch")
    )
)


def test_csv_and_parquet_give_the_same_content(tmp_path: Path) -> None:
    frame = profile_frame()
    csv_path, parquet_path = tmp_path / "p.csv", tmp_path / "p.parquet"
    csv_path.write_text(frame_to_csv_text(frame))
    write_profile(frame, parquet_path)
    from_csv = read_profile(csv_path, SPEC)
    from_parquet = read_profile(parquet_path, SPEC)
    assert from_csv.content_hash() == from_parquet.content_hash()
    assert from_csv.n_steps == 288
    assert from_csv.step_s == 900


@pytest.mark.parametrize(
    "start",
    ["2025-03-29T00:00:00+01:00", "2025-10-25T00:00:00+02:00"],
    ids=["spring-forward", "fall-back"],
)
def test_dst_transitions_in_copenhagen(tmp_path: Path, start: str) -> None:
    """Local offsets change mid-series; in UTC the step stays 15 minutes."""
    frame = profile_frame(start=start)
    offsets = {t.utcoffset() for t in frame["timestamp"]}
    assert len(offsets) == 2  # the series really crosses a DST change
    path = tmp_path / "dst.csv"
    path.write_text(frame_to_csv_text(frame))
    profile = read_profile(path, SPEC)
    assert set(np.diff(profile.timestamps_ns)) == {900 * 10**9}
    web_alpha = frame[(frame.site == "alpha") & (frame.workload == "web")]
    assert profile.values["cpu_cores"][0, 0] == pytest.approx(web_alpha.cpu_cores.to_numpy())


def test_naive_parquet_timestamps_are_rejected(tmp_path: Path) -> None:
    frame = profile_frame()
    frame["timestamp"] = frame["timestamp"].dt.tz_localize(None)
    path = tmp_path / "naive.parquet"
    frame.to_parquet(path)
    with pytest.raises(InputError, match="tz-aware"):
        read_profile(path, SPEC)


def test_derived_metric_from_spec() -> None:
    frame = profile_frame().drop(columns=["write_mib_s"])
    spec = base_spec(workloads=SPEC.workloads, derived_metrics={"write_mib_s": ("write_iops", 0.5)})
    profile = profile_from_frame(frame, spec, "f.csv", lambda i: f"line {i + 2}")
    assert np.array_equal(profile.values["write_mib_s"], profile.values["write_iops"] * 0.5)


# ---------------------------------------------------------------------------------------
# Property tests


@st.composite
def long_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, np.ndarray]:
    """A valid profile in shuffled row order, and the (metric, site, workload, t) cube."""
    steps = draw(st.integers(2, 30))
    step_min = draw(st.sampled_from([1, 5, 15, 60]))
    offset = draw(st.sampled_from(["+00:00", "+01:00", "-05:00", "+05:30"]))
    start = pd.Timestamp(f"2024-{draw(st.integers(1, 12)):02d}-15T00:00:00{offset}")
    times = pd.date_range(start, periods=steps, freq=f"{step_min}min")
    values = draw(
        st.lists(
            st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
            min_size=len(METRICS) * 2 * 3 * steps,
            max_size=len(METRICS) * 2 * 3 * steps,
        )
    )
    cube = np.array(values).reshape(len(METRICS), 2, 3, steps)
    rows = []
    for s, site in enumerate(("alpha", "beta")):
        for w, workload in enumerate(("web", "db", "batch")):
            part = pd.DataFrame({"timestamp": times, "site": site, "workload": workload})
            for m, metric in enumerate(METRICS):
                part[metric] = cube[m, s, w]
            rows.append(part)
    frame = pd.concat(rows, ignore_index=True)
    # rows in time order, the series interleaved at random within each timestamp
    seed = draw(st.integers(0, 2**32 - 1))
    frame = frame.sample(frac=1.0, random_state=seed).sort_values("timestamp", kind="stable")
    frame = frame.reset_index(drop=True)
    return frame, cube


@settings(max_examples=60, deadline=None)
@given(long_frames())
def test_loader_round_trips_any_valid_frame(case: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, cube = case
    csv = frame_to_csv_text(frame)
    from io import StringIO

    parsed = pd.read_csv(StringIO(csv), dtype=str, keep_default_na=False)
    profile = profile_from_frame(parsed, SPEC, "p.csv", lambda i: f"line {i + 2}")
    for m, metric in enumerate(METRICS):
        assert profile.values[metric] == pytest.approx(cube[m], rel=1e-12, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    long_frames(),
    st.data(),
    st.sampled_from(["nan", "-1", "abc", "inf", ""]),
    st.sampled_from(METRICS),
)
def test_a_bad_value_is_reported_at_its_line(
    case: tuple[pd.DataFrame, np.ndarray], data: st.DataObject, bad: str, metric: str
) -> None:
    frame, _ = case
    text = frame.astype({metric: object}).copy()
    text["timestamp"] = text["timestamp"].map(lambda t: t.isoformat())
    text = text.astype(str)
    row = data.draw(st.integers(0, len(text) - 1))
    text.loc[row, metric] = bad
    with pytest.raises(InputError) as caught:
        profile_from_frame(text, SPEC, "p.csv", lambda i: f"line {i + 2}")
    assert caught.value.where == f"line {row + 2}, column '{metric}'"


@settings(max_examples=40, deadline=None)
@given(long_frames(), st.data())
def test_a_duplicated_row_is_reported(
    case: tuple[pd.DataFrame, np.ndarray], data: st.DataObject
) -> None:
    frame, _ = case
    row = data.draw(st.integers(0, len(frame) - 1))
    doubled = pd.concat([frame, frame.iloc[[row]]], ignore_index=True)
    with pytest.raises(InputError) as caught:
        profile_from_frame(doubled, SPEC, "p.csv", lambda i: f"line {i + 2}")
    assert caught.value.where == f"line {len(frame) + 2}, column 'timestamp'"
    assert f"line {row + 2}" in caught.value.expected
