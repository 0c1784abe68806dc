"""Profile loading: formats, DST, row order, and property tests for the validator."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputError
from planner.inputs.profiles import Profile, profile_from_frame, read_profile, write_profile
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


# --- real exports: order, jitter, gaps, extra columns, spreadsheet CSV ----------------------


def _load(frame: pd.DataFrame, **options: object) -> Profile:
    from planner.inputs.profile_options import ProfileOptions

    text = frame.copy()
    text["timestamp"] = text["timestamp"].map(lambda t: t.isoformat())
    parsed = pd.read_csv(StringIO(text.to_csv(index=False)), dtype=str, keep_default_na=False)
    return profile_from_frame(
        parsed,
        SPEC,
        "p.csv",
        lambda i: f"line {i + 2}",
        ProfileOptions(**options),  # type: ignore[arg-type]
    )


def test_rows_in_any_order_give_the_same_profile() -> None:
    frame = profile_frame()
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert _load(shuffled).content_hash() == _load(frame).content_hash()


def test_scrape_jitter_is_snapped_and_the_step_is_the_median() -> None:
    frame = profile_frame()
    rng = np.random.default_rng(1)
    jitter = pd.to_timedelta(rng.integers(-2, 3, len(frame)), unit="s")
    jittered = frame.assign(timestamp=frame["timestamp"] + jitter)
    # the very first interval of every series is one second short
    first = jittered["timestamp"] == jittered["timestamp"].min()
    jittered.loc[first, "timestamp"] = frame.loc[first, "timestamp"] + pd.Timedelta(seconds=1)
    profile = _load(jittered)
    assert profile.step_s == 900
    assert profile.content_hash() == _load(frame).content_hash()
    assert any("snapped to the 900 s grid" in note for note in profile.notes)


def test_a_timestamp_beyond_the_jitter_tolerance_is_refused() -> None:
    frame = profile_frame()
    frame.loc[5, "timestamp"] += pd.Timedelta(minutes=3)  # 180 s of a 900 s step
    with pytest.raises(InputError, match="line 7, column 'timestamp': 180 s off the 900 s"):
        _load(frame)
    assert _load(frame, jitter=0.25).n_steps == 288


def _gap_frame() -> tuple[pd.DataFrame, np.ndarray]:
    frame = profile_frame()
    web_alpha = frame[(frame.site == "alpha") & (frame.workload == "web")]
    truth = web_alpha["cpu_cores"].to_numpy().copy()
    return frame.drop(index=web_alpha.index[[10, 11]]), truth  # a 30-minute gap


def test_fill_gaps_hold_repeats_the_last_value() -> None:
    frame, truth = _gap_frame()
    with pytest.raises(InputError, match=r"series \(alpha, web\), column 'cpu_cores': no data"):
        _load(frame)
    with pytest.raises(InputError, match="2 steps, 30 min"):
        _load(frame, fill_gaps_s=15 * 60)
    profile = _load(frame, fill_gaps_s=30 * 60)
    filled = profile.values["cpu_cores"][0, 0]
    assert filled[10] == filled[11] == truth[9]
    assert np.array_equal(np.delete(filled, [10, 11]), np.delete(truth, [10, 11]))
    assert any("filled 2 missing samples (hold" in note for note in profile.notes)


def test_fill_gaps_linear_interpolates_between_the_neighbours() -> None:
    frame, truth = _gap_frame()
    filled = _load(frame, fill_gaps_s=30 * 60, fill_method="linear").values["cpu_cores"][0, 0]
    step = (truth[12] - truth[9]) / 3
    assert filled[10] == pytest.approx(truth[9] + step)
    assert filled[11] == pytest.approx(truth[9] + 2 * step)


def test_an_empty_cell_is_a_gap_of_that_metric_only() -> None:
    frame = profile_frame()
    text = frame.astype({"memory_gib": object})
    text.loc[20, "memory_gib"] = ""
    profile = _load(text, fill_gaps_s=900)
    assert profile.values["memory_gib"][0, 0, 20] == frame.loc[19, "memory_gib"]
    assert profile.values["cpu_cores"][0, 0, 20] == frame.loc[20, "cpu_cores"]


def test_extra_columns_are_ignored_with_a_note() -> None:
    frame = profile_frame().assign(pod="x", node="n1")
    profile = _load(frame)
    assert profile.content_hash() == _load(profile_frame()).content_hash()
    assert any("ignoring column(s) 'pod', 'node'" in note for note in profile.notes)
    with pytest.raises(InputError, match="column 'pod': unknown column"):
        _load(frame, strict=True)


def test_a_danish_spreadsheet_csv_reads_like_the_plain_one(tmp_path: Path) -> None:
    frame = profile_frame()
    plain, danish = tmp_path / "plain.csv", tmp_path / "danish.csv"
    plain.write_text(frame_to_csv_text(frame))
    text = frame.copy()
    text["timestamp"] = text["timestamp"].map(lambda t: t.isoformat())
    text.to_csv(danish, sep=";", decimal=",", index=False)
    row = danish.read_text().splitlines()[1]
    assert ";" in row
    assert "," in row
    from_danish = read_profile(danish, SPEC)
    assert from_danish.content_hash() == read_profile(plain, SPEC).content_hash()
    assert any("semicolon-separated with decimal commas" in n for n in from_danish.notes)


@settings(max_examples=40, deadline=None)
@given(long_frames(), st.data())
def test_any_row_order_and_jitter_within_tolerance_give_the_exact_cube(
    case: tuple[pd.DataFrame, np.ndarray], data: st.DataObject
) -> None:
    frame, cube = case
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    times = np.sort(frame["timestamp"].unique())
    step_s = int((times[1] - times[0]) / np.timedelta64(1, "s"))
    limit = int(0.04 * step_s)  # a median interval within 5 % of the step, as scrapes are
    jitter_s = rng.integers(-limit, limit + 1, len(frame))
    messy = frame.assign(timestamp=frame["timestamp"] + pd.to_timedelta(jitter_s, unit="s"))
    messy = messy.sample(frac=1.0, random_state=seed % 2**31).reset_index(drop=True)
    profile = _load(messy)
    for m, metric in enumerate(METRICS):
        assert profile.values[metric] == pytest.approx(cube[m], rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("form", ["new-york", "strings", "dictionary"])
def test_parquet_timestamps_in_other_forms_give_the_same_profile(tmp_path: Path, form: str) -> None:
    """Timestamps as ISO strings, in another zone (America/New_York) or dictionary-encoded
    are the same instants: the same profile, so the same plan."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    frame = profile_frame()
    clean = tmp_path / "clean.parquet"
    write_profile(frame, clean)
    other = frame.copy()
    stamps = pd.to_datetime(other["timestamp"], utc=True)
    if form == "new-york":
        other["timestamp"] = stamps.dt.tz_convert("America/New_York")
    elif form == "strings":
        other["timestamp"] = stamps.dt.tz_convert("Europe/Copenhagen").dt.strftime(
            "%Y-%m-%dT%H:%M:%S%z"
        )
    else:
        other["timestamp"] = stamps
    table = pa.Table.from_pandas(other, preserve_index=False)
    if form == "dictionary":
        i = table.schema.get_field_index("timestamp")
        table = table.set_column(i, "timestamp", pc.dictionary_encode(table.column("timestamp")))
    path = tmp_path / f"{form}.parquet"
    pq.write_table(table, path)
    assert read_profile(path, SPEC).content_hash() == read_profile(clean, SPEC).content_hash()


def test_a_trailing_comma_on_every_csv_row_is_refused(tmp_path: Path) -> None:
    """Not accepted silently: the unnamed last column is named, with the likely cause."""
    text = frame_to_csv_text(profile_frame())
    path = tmp_path / "p.csv"
    path.write_text("".join(line + ",\n" for line in text.splitlines()))
    with pytest.raises(InputError) as caught:
        read_profile(path, SPEC)
    message = str(caught.value)
    assert message.startswith(f"{path}: column ")
    assert "has no name: a ',' at the end of every row?" in message
