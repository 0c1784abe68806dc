"""Profiles from Prometheus: a real server over a backfilled TSDB, and faults from a stub."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from planner.cli import main
from planner.inputs.prometheus import chunks
from planner.inputs.units import METRICS

SITES = ("alpha", "beta")
WORKLOADS = ("web", "db", "batch")
SERIES = re.compile(r'site="([^"]+)",workload="([^"]+)",metric="([^"]+)"')


def queries_file(folder: Path, metric_name: str = "planner_load") -> Path:
    doc = {
        "version": 1,
        "sites": {s: {"dc": s} for s in SITES},
        "workloads": {w: {"app": w} for w in WORKLOADS},
        "metrics": {
            m: f'sum({metric_name}{{site="${{dc}}",workload="${{app}}",metric="{m}"}})'
            for m in METRICS
        },
    }
    path = folder / "queries.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def value_at(site: str, workload: str, metric: str, t: int) -> float:
    """A deterministic load the stub serves."""
    return float((SITES.index(site) + 1) * (WORKLOADS.index(workload) + 2) + (t // 300) % 7)


# --- a stub Prometheus for faults ----------------------------------------------------------


class Stub(ThreadingHTTPServer):
    mode = "ok"
    calls = 0
    token = "s3cret-token-value"
    delay_s = 0.0
    fail_after = 0


class Handler(BaseHTTPRequestHandler):
    server: Stub

    def log_message(self, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        stub = self.server
        stub.calls += 1
        if stub.mode == "auth" and self.headers.get("Authorization") != f"Bearer {stub.token}":
            self._send(401, {"status": "error", "error": "unauthorized"})
            return
        if stub.mode in ("drip", "huge"):  # a server that never finishes its answer
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(200 * 2**20))
            self.end_headers()
            try:
                for _ in range(200 * 16):
                    self.wfile.write(b" " if stub.mode == "drip" else b" " * 2**16)
                    self.wfile.flush()
                    if stub.mode == "drip":
                        time.sleep(0.25)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if stub.mode == "echo":  # a proxy that quotes the request headers in its error
            auth = self.headers.get("Authorization", "")
            self._send(400, {"status": "error", "error": f"bad request with {auth}"})
            return
        if stub.mode == "dies" and stub.calls > stub.fail_after:
            self.close_connection = True  # the server is gone: no answer at all
            return
        if stub.mode == "flaky" and stub.calls <= 2:
            self._send(503, {"status": "error", "error": "unavailable"})
            return
        if stub.mode == "slow":
            time.sleep(stub.delay_s)
        query = parse_qs(urlparse(self.path).query)
        start, end = int(query["start"][0]), int(query["end"][0])
        step = int(query["step"][0].rstrip("s"))
        site, workload, metric = SERIES.search(query["query"][0]).groups()  # type: ignore[union-attr]
        if stub.mode == "refuse-db" and workload == "db":
            self._send(400, {"status": "error", "errorType": "bad_data", "error": "parse error"})
            return
        if stub.mode == "empty" and metric == "write_iops":
            result: list[Any] = []
        elif stub.mode == "gap" and (site, workload) == ("beta", "db"):
            values = [
                [t, str(value_at(site, workload, metric, t))]
                for t in range(start, end + 1, step)
                if not start + 5 * step <= t <= start + 6 * step  # Prometheus omits empty steps
            ]
            result = [{"metric": {}, "values": values}]
        else:
            values = [
                [t, str(value_at(site, workload, metric, t))] for t in range(start, end + 1, step)
            ]
            result = [{"metric": {}, "values": values}]
        self._send(200, {"status": "success", "data": {"resultType": "matrix", "result": result}})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        try:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def pull_args(url: str, queries: Path, out: Path, *extra: str) -> list[str]:
    return [
        "profile", "pull", "--url", url, "--queries", str(queries),
        "--start", "2025-03-29T00:00:00+01:00", "--end", "2025-03-29T02:00:00+01:00",
        "--step", "5m", "--out", str(out), *extra,
    ]  # fmt: skip


def url_of(server: Stub) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def test_chunks_cover_the_grid_once_within_the_limit() -> None:
    parts = chunks(0, 300 * 1000, 300, 300)
    assert [p[0] for p in parts] == [0, 90_000, 180_000, 270_000]
    assert parts[-1][1] == 300_000
    points = [t for first, last in parts for t in range(first, last + 1, 300)]
    assert points == list(range(0, 300_001, 300))
    assert all((last - first) // 300 + 1 <= 300 for first, last in parts)


def test_a_pull_from_the_stub_writes_the_served_profile(stub: Stub, tmp_path: Path) -> None:
    out = tmp_path / "pulled.parquet"
    result = CliRunner().invoke(main, pull_args(url_of(stub), queries_file(tmp_path), out))
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert len(frame) == len(SITES) * len(WORKLOADS) * 25
    row = frame[(frame.site == "beta") & (frame.workload == "db")].iloc[3]
    t = int(row["timestamp"].timestamp())
    assert row["cpu_cores"] == value_at("beta", "db", "cpu_cores", t)


def test_503_twice_is_retried(stub: Stub, tmp_path: Path) -> None:
    stub.mode = "flaky"
    out = tmp_path / "pulled.parquet"
    args = pull_args(url_of(stub), queries_file(tmp_path), out, "--concurrency", "1")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    # two refusals, then each query once as a probe and once for the pull
    assert stub.calls == 2 + 2 * len(SITES) * len(WORKLOADS) * len(METRICS)


def test_no_answer_is_a_clear_error_after_the_timeout(stub: Stub, tmp_path: Path) -> None:
    stub.mode, stub.delay_s = "slow", 3.0
    out = tmp_path / "pulled.parquet"
    args = pull_args(url_of(stub), queries_file(tmp_path), out, "--timeout", "1", "--retries", "1")
    started = time.perf_counter()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "no answer within 1 s after 2 tries over" in lines[0]
    assert time.perf_counter() - started < 30
    assert list(tmp_path.iterdir()) == [tmp_path / "queries.yaml"]  # nothing written


def test_a_query_without_series_is_named(stub: Stub, tmp_path: Path) -> None:
    stub.mode = "empty"
    out = tmp_path / "pulled.parquet"
    result = CliRunner().invoke(main, pull_args(url_of(stub), queries_file(tmp_path), out))
    assert result.exit_code == 2
    line = result.output.strip()
    assert "2025-03-28T23:00:00+00:00 to 2025-03-29T01:00:00+00:00" in line
    assert "6 of 36 queries returned no data" in line
    for site in SITES:  # every failing series is named, not only the first
        for workload in WORKLOADS:
            assert f'({site}, {workload}, write_iops) [sum(planner_load{{site="{site}"' in line
    assert sorted(tmp_path.iterdir()) == [tmp_path / "queries.yaml"]  # nothing written


def test_missing_steps_follow_the_gap_policy_of_file_profiles(stub: Stub, tmp_path: Path) -> None:
    stub.mode = "gap"
    queries, out = queries_file(tmp_path), tmp_path / "pulled.parquet"
    refused = CliRunner().invoke(main, pull_args(url_of(stub), queries, out))
    assert refused.exit_code == 2
    line = refused.output.strip()
    assert 'series (beta, db) [sum(planner_load{site="beta",workload="db"' in line
    assert "no data from 2025-03-28T23:25:00+00:00 to 2025-03-28T23:30:00+00:00 (2 steps" in line
    assert not out.exists()
    filled = CliRunner().invoke(main, pull_args(url_of(stub), queries, out, "--fill-gaps", "10m"))
    assert filled.exit_code == 0, filled.output
    frame = pd.read_parquet(out)
    db = frame[(frame.site == "beta") & (frame.workload == "db")]["cpu_cores"].to_numpy()
    assert db[5] == db[6] == db[4]  # held from the last sample before the gap
    assert "filled 2 missing samples (hold" in filled.output


def test_a_wrong_token_is_refused_without_printing_it(stub: Stub, tmp_path: Path) -> None:
    stub.mode = "auth"
    token_file = tmp_path / "token"
    token_file.write_text("the-wrong-token-42\n")
    out = tmp_path / "pulled.parquet"
    args = pull_args(
        url_of(stub), queries_file(tmp_path), out, "--bearer-token-file", str(token_file)
    )
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "authentication failed (HTTP 401)" in result.output
    assert "the-wrong-token-42" not in result.output
    good = dict(os.environ, PROM_TOKEN=stub.token)
    ok = CliRunner(env=good).invoke(
        main,
        pull_args(url_of(stub), queries_file(tmp_path), out, "--bearer-token-env", "PROM_TOKEN"),
    )
    assert ok.exit_code == 0, ok.output
    assert stub.token not in ok.output


def test_profile_show_summarises_a_pull(stub: Stub, tmp_path: Path) -> None:
    out = tmp_path / "pulled.csv"
    assert (
        CliRunner().invoke(main, pull_args(url_of(stub), queries_file(tmp_path), out)).exit_code
        == 0
    )
    shown = CliRunner().invoke(main, ["profile", "show", str(out)])
    assert shown.exit_code == 0, shown.output
    assert (
        "alpha / web: 2025-03-28T23:00:00+00:00 to 2025-03-29T01:00:00+00:00, step 300 s, "
        "25 samples, 0 missing steps"
    ) in shown.output
    peak = max(value_at("alpha", "web", "cpu_cores", t) for t in range(0, 7200 + 1, 300))
    assert f"cpu_cores    peak {peak:,.3f}" in shown.output


# --- a real Prometheus over a backfilled TSDB ----------------------------------------------


def binaries() -> tuple[str, str] | None:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus and promtool:
        return prometheus, promtool
    if os.environ.get("CI"):
        pytest.fail(
            "prometheus and promtool are missing in CI: .ci/run installs Debian's prometheus"
        )
    pytest.skip("Debian's prometheus package is not installed (.ci/run installs it)")
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


SCALE = {
    "cpu_cores": 6.0,
    "memory_gib": 40.0,
    "read_iops": 2000.0,
    "write_iops": 500.0,
    "write_mib_s": 5.0,
    "stored_tib": 1.0,
}


def source_profile() -> pd.DataFrame:
    """Three days at 5 minutes across the end of summer time in Copenhagen."""
    rng = np.random.default_rng(11)
    times = pd.date_range("2025-10-25T00:00:00+02:00", periods=3 * 288, freq="5min").tz_convert(
        "Europe/Copenhagen"
    )
    rows = []
    for site in SITES:
        for workload in WORKLOADS:
            part = pd.DataFrame({"timestamp": times, "site": site, "workload": workload})
            for metric in METRICS:
                part[metric] = np.round(rng.uniform(0, 1, len(times)) * SCALE[metric], 6)
            rows.append(part)
    return pd.concat(rows, ignore_index=True)


def openmetrics(frame: pd.DataFrame) -> str:
    lines = ["# TYPE planner_load gauge"]
    for (site, workload), part in frame.groupby(["site", "workload"], sort=True):
        seconds = [int(t.timestamp()) for t in part["timestamp"]]
        for metric in METRICS:
            labels = f'site="{site}",workload="{workload}",metric="{metric}"'
            lines += [
                f"planner_load{{{labels}}} {float(value)!r} {int(t)}"
                for t, value in zip(seconds, part[metric].to_numpy(), strict=True)
            ]
    return "\n".join(lines) + "\n# EOF\n"


@contextlib.contextmanager
def serving(openmetrics_text: str, folder: Path) -> Iterator[str]:
    """A real Prometheus over a TSDB backfilled from ``openmetrics_text``; its URL."""
    found = binaries()
    assert found is not None
    prometheus, promtool = found
    (folder / "data.om").write_text(openmetrics_text)
    done = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics",
         str(folder / "data.om"), str(folder / "tsdb")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (folder / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
    port = free_port()
    process = start_prometheus(prometheus, folder, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def start_prometheus(prometheus: str, folder: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            prometheus,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            pytest.fail("Prometheus did not become ready within 60 s")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def prometheus_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, pd.DataFrame]]:
    frame = source_profile()
    with serving(openmetrics(frame), tmp_path_factory.mktemp("prometheus")) as url:
        yield url, frame


def test_a_real_prometheus_gives_the_source_profile_back(
    prometheus_server: tuple[str, pd.DataFrame], tmp_path: Path
) -> None:
    """Across a chunk boundary (300 points a request over 864 steps) and the DST change."""
    url, source = prometheus_server
    out = tmp_path / "pulled.parquet"
    args = [
        "profile", "pull", "--url", url, "--queries", str(queries_file(tmp_path)),
        "--start", "2025-10-25T00:00:00+02:00", "--end", "2025-10-27T22:55:00+01:00",
        "--step", "5m", "--max-points", "300", "--out", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "(108 requests)" in result.output  # 6 pairs x 6 metrics x 3 chunks of <= 300
    pulled = pd.read_parquet(out).sort_values(["site", "workload", "timestamp"])
    expected = source.assign(timestamp=source["timestamp"].dt.tz_convert("UTC")).sort_values(
        ["site", "workload", "timestamp"]
    )
    assert len(pulled) == len(expected) == 6 * 864
    assert (pulled["timestamp"].to_numpy() == expected["timestamp"].to_numpy()).all()
    for metric in METRICS:
        assert pulled[metric].to_numpy() == pytest.approx(expected[metric].to_numpy(), rel=1e-12)


def test_planner_size_runs_on_a_pulled_profile(
    prometheus_server: tuple[str, pd.DataFrame], tmp_path: Path
) -> None:
    from tests.conftest import CATALOG_DOC, SPEC_DOC

    url, _ = prometheus_server
    out = tmp_path / "pulled.parquet"
    pulled = CliRunner().invoke(
        main,
        [
            "profile", "pull", "--url", url, "--queries", str(queries_file(tmp_path)),
            "--start", "2025-10-25T00:00:00+02:00", "--end", "2025-10-27T22:55:00+01:00",
            "--out", str(out),
        ],
    )  # fmt: skip
    assert pulled.exit_code == 0, pulled.output
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(SPEC_DOC))
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(CATALOG_DOC))
    sized = CliRunner().invoke(
        main,
        ["size", "--profile", str(out), "--spec", str(tmp_path / "spec.yaml"),
         "--catalog", str(tmp_path / "catalog.yaml"), "--out", str(tmp_path / "plan.json")],
    )  # fmt: skip
    assert sized.exit_code == 0, sized.output
    assert json.loads((tmp_path / "plan.json").read_text())["profile"]["steps"] == 864


def test_the_shipped_queries_cover_the_example_with_the_platforms_exporters() -> None:
    from planner.inputs.example import example_spec_path
    from planner.inputs.queries import read_queries
    from planner.inputs.spec import read_spec

    path = Path(__file__).resolve().parents[1] / "planner" / "data" / "prometheus-queries.yaml"
    queries = read_queries(path)
    spec = read_spec(example_spec_path())
    assert list(queries.workloads) == [w.name for w in spec.workloads]
    assert list(queries.sites) == list(spec.site_names)
    text = " ".join(queries.metrics.values())
    for exported in (
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "kubelet_volume_stats_used_bytes",
        "node_disk_reads_completed_total",
        "node_disk_written_bytes_total",
    ):
        assert exported in text
    assert "rate(container_cpu_usage_seconds_total" in text  # counters through rate()
    cpu = queries.query("holstebro", "epr-web", "cpu_cores")
    assert 'cluster="holstebro-prod",namespace="epr",pod=~"epr-web-.*"' in cpu


def test_a_template_with_an_undefined_label_is_named(tmp_path: Path) -> None:
    from planner.errors import InputError
    from planner.inputs.queries import read_queries

    path = queries_file(tmp_path)
    path.write_text(path.read_text().replace("${dc}", "${datacentre}", 1))
    with pytest.raises(InputError, match=r"uses \$\{datacentre\}, which neither site 'alpha'"):
        read_queries(path)


# --- the shipped queries over exporter-shaped series ----------------------------------------

T0 = 1_761_350_400  # 2025-10-25T00:00:00Z
GIB, TIB = 2**30, 2**40


def exporter_series() -> str:
    """Two hours at a 60 s scrape of what cAdvisor, the kubelet and node-exporter report
    for epr-db (three pods, volumes and data nodes) and epr-web (two pods, nothing on
    disk) at holstebro: CPU 2 cores and memory 100 GiB per db pod, 0.5 cores and 2 GiB per
    web pod, 1 TiB used per volume, 1,000 reads/s, 400 writes/s and 8 MiB/s per db node."""
    lines = []
    base = 'cluster="holstebro-prod",namespace="epr"'
    pods = [(f"epr-db-{i}", "db", 2.0, 100 * GIB) for i in range(3)]
    pods += [(f"epr-web-{x}", "web", 0.5, 2 * GIB) for x in "ab"]
    for m in range(121):
        t = T0 + 60 * m
        for pod, container, cores, memory in pods:
            labels = f'{base},pod="{pod}",container="{container}"'
            lines.append(f"container_cpu_usage_seconds_total{{{labels}}} {cores * 60 * m} {t}")
            lines.append(f"container_memory_working_set_bytes{{{labels}}} {memory} {t}")
        for i in range(3):
            lines.append(
                f'kubelet_volume_stats_used_bytes{{{base},persistentvolumeclaim="data-epr-db-{i}"}}'
                f" {TIB} {t}"
            )
            node = f'cluster="holstebro-prod",instance="db-{i}:9100",device="nvme0n1"'
            lines.append(f"node_disk_reads_completed_total{{{node}}} {1000 * 60 * m} {t}")
            lines.append(f"node_disk_writes_completed_total{{{node}}} {400 * 60 * m} {t}")
            lines.append(f"node_disk_written_bytes_total{{{node}}} {8 * 2**20 * 60 * m} {t}")
    kinds = ["# TYPE container_cpu_usage_seconds_total counter",
             "# TYPE container_memory_working_set_bytes gauge",
             "# TYPE kubelet_volume_stats_used_bytes gauge",
             "# TYPE node_disk_reads_completed_total counter",
             "# TYPE node_disk_writes_completed_total counter",
             "# TYPE node_disk_written_bytes_total counter"]  # fmt: skip
    order = {k.split()[2]: i for i, k in enumerate(kinds)}
    by_metric: dict[str, list[str]] = {}
    for line in lines:
        by_metric.setdefault(line.split("{", 1)[0], []).append(line)
    out = []
    for kind in sorted(by_metric, key=order.__getitem__):
        out += [kinds[order[kind]], *sorted(by_metric[kind], key=lambda x: x.split("}")[0])]
    return "\n".join(out) + "\n# EOF\n"


def shipped_queries(folder: Path, data_nodes: str | None = None) -> Path:
    """The shipped queries file, cut to holstebro, epr-db and epr-web (its own templates)."""
    shipped = Path(__file__).resolve().parents[1] / "planner" / "data" / "prometheus-queries.yaml"
    doc = yaml.safe_load(shipped.read_text())
    doc["sites"] = {"holstebro": doc["sites"]["holstebro"]}
    doc["workloads"] = {w: doc["workloads"][w] for w in ("epr-db", "epr-web")}
    doc["overrides"] = {w: v for w, v in doc["overrides"].items() if w in doc["workloads"]}
    if data_nodes is not None:
        doc["workloads"]["epr-db"]["data_nodes"] = data_nodes
    path = folder / "shipped.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def exporter_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(exporter_series(), tmp_path_factory.mktemp("exporters")) as url:
        yield url


def _pull(url: str, queries: Path, out: Path) -> Any:
    args = ["profile", "pull", "--url", url, "--queries", str(queries),
            "--start", "2025-10-25T00:10:00+00:00", "--end", "2025-10-25T01:50:00+00:00",
            "--step", "5m", "--out", str(out)]  # fmt: skip
    return CliRunner().invoke(main, args)


def test_the_shipped_queries_read_the_exporters_right(
    exporter_prometheus: str, tmp_path: Path
) -> None:
    out = tmp_path / "pulled.parquet"
    result = _pull(exporter_prometheus, shipped_queries(tmp_path), out)
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    db = frame[frame.workload == "epr-db"]
    web = frame[frame.workload == "epr-web"]
    assert db["cpu_cores"].to_numpy() == pytest.approx(6.0)
    assert db["memory_gib"].to_numpy() == pytest.approx(300.0)
    assert db["stored_tib"].to_numpy() == pytest.approx(3.0)
    assert db["read_iops"].to_numpy() == pytest.approx(3000.0)
    assert db["write_iops"].to_numpy() == pytest.approx(1200.0)
    assert db["write_mib_s"].to_numpy() == pytest.approx(24.0)
    assert web["cpu_cores"].to_numpy() == pytest.approx(1.0)
    assert web["memory_gib"].to_numpy() == pytest.approx(4.0)
    assert (web[["stored_tib", "read_iops", "write_iops", "write_mib_s"]].to_numpy() == 0).all()


def test_a_shipped_query_that_matches_nothing_is_an_error(
    exporter_prometheus: str, tmp_path: Path
) -> None:
    """A wrong node regex is not "no I/O": the pull stops and names the series."""
    out = tmp_path / "pulled.parquet"
    result = _pull(exporter_prometheus, shipped_queries(tmp_path, "nodb-[0-9]+.*"), out)
    assert result.exit_code == 2, result.output
    assert "(holstebro, epr-db, read_iops)" in result.output
    assert "queries returned no data" in result.output
    assert not out.exists()


def test_a_password_in_the_url_is_never_shown(stub: Stub, tmp_path: Path) -> None:
    from planner.inputs.prometheus import redact_url

    assert (
        redact_url("https://ops:hunter2@prom.example:9090/") == "https://ops:***@prom.example:9090/"
    )
    assert redact_url("http://prom.example:9090") == "http://prom.example:9090"
    url = url_of(stub).replace("http://", "http://ops:hunter2@")
    stub.mode = "empty"  # write_iops has no data: an error that names the server
    out = tmp_path / "p.parquet"
    result = CliRunner().invoke(main, pull_args(url, queries_file(tmp_path), out))
    assert result.exit_code == 2, result.output
    assert "queries returned no data" in result.output
    assert "hunter2" not in result.output
    assert "ops:***@127.0.0.1" in result.output


@pytest.mark.parametrize("token", ["tökén-42", "abc\x00def"])
def test_a_token_outside_printable_ascii_is_a_one_line_error(
    stub: Stub, tmp_path: Path, token: str
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n", encoding="utf-8")
    out = tmp_path / "p.parquet"
    args = pull_args(
        url_of(stub), queries_file(tmp_path), out, "--bearer-token-file", str(token_file)
    )
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert f"{token_file}: the token has a character outside printable ASCII" in result.output
    assert token not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


def test_a_ca_bundle_that_is_not_pem_is_named(stub: Stub, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    out = tmp_path / "p.parquet"
    args = pull_args(url_of(stub), queries_file(tmp_path), out, "--ca-bundle", str(bundle))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert f"{bundle}: not a PEM CA bundle" in result.output


def test_an_untrusted_certificate_is_named_not_just_cannot_connect(tmp_path: Path) -> None:
    """A TLS server whose certificate no CA vouches for: the error says so and what to do."""
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = Stub(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = url_of(server).replace("http://", "https://")
        out = tmp_path / "p.parquet"
        result = CliRunner().invoke(main, pull_args(url, queries_file(tmp_path), out))
        assert result.exit_code == 2, result.output
        assert "TLS certificate is not trusted" in result.output
        assert "--ca-bundle" in result.output
        trusted = CliRunner().invoke(
            main, pull_args(url, queries_file(tmp_path), out, "--ca-bundle", str(cert))
        )
        assert trusted.exit_code == 0, trusted.output
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_error_that_echoes_the_token_does_not_print_it(stub: Stub, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("tok-123456789\n")
    stub.mode = "echo"
    out = tmp_path / "p.parquet"
    args = pull_args(
        url_of(stub), queries_file(tmp_path), out, "--bearer-token-file", str(token_file)
    )
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "query refused: bad request with Bearer ***" in result.output
    assert "tok-123456789" not in result.output


@pytest.mark.parametrize(("mode", "message"), [
    ("drip", "no answer within 2 s after 1 tries"),
    ("huge", "the answer is larger than 64 MiB"),
])  # fmt: skip
def test_a_server_that_never_finishes_is_cut_off(
    stub: Stub, tmp_path: Path, mode: str, message: str
) -> None:
    stub.mode = mode
    out = tmp_path / "p.parquet"
    args = pull_args(url_of(stub), queries_file(tmp_path), out, "--timeout", "2", "--retries", "0")
    started = time.monotonic()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert time.monotonic() - started < 15  # not 108 requests x 2 s: the rest are dropped
    assert not out.exists()


def test_a_pull_rides_through_a_10_s_prometheus_restart_with_the_same_bytes(
    tmp_path: Path,
) -> None:
    """A real Prometheus stopped after the first answers of a pull and started again 10 s
    later on the same TSDB: the pull, default options, completes with the same bytes as
    a pull that saw no restart (the old budget of 3 retries, 3.5 s in all, failed it)."""
    from planner.inputs.profiles import write_profile
    from planner.inputs.prometheus import PullOptions, get_profile_frame
    from planner.inputs.queries import read_queries

    found = binaries()
    assert found is not None
    folder = tmp_path / "prometheus"
    folder.mkdir()
    with serving(openmetrics(source_profile()), folder) as url:
        queries = read_queries(queries_file(tmp_path))
        options = PullOptions(
            url=url,
            start_s=int(pd.Timestamp("2025-10-25T00:00:00+02:00").timestamp()),
            end_s=int(pd.Timestamp("2025-10-27T22:55:00+01:00").timestamp()),
            step_s=300,
        )
        clean, _ = get_profile_frame(queries, options)
        write_profile(clean, tmp_path / "clean.parquet")
    port = int(url.rsplit(":", 1)[1])
    process = start_prometheus(found[0], folder, port)
    wait_ready(url, process)
    state = {"done": 0, "stopped_at": 0.0}
    restarted: list[subprocess.Popen[bytes]] = []

    def restart_later() -> None:
        time.sleep(10.0)
        restarted.append(start_prometheus(found[0], folder, port))

    def progress(n: int) -> None:
        state["done"] += n
        if state["done"] == 5:  # mid-pull: 31 of 36 requests still to come
            process.terminate()
            process.wait(timeout=20)
            state["stopped_at"] = time.monotonic()
            threading.Thread(target=restart_later, daemon=True).start()

    try:
        frame, _ = get_profile_frame(queries, options, progress=progress)
        finished = time.monotonic()
    finally:
        for p in [process, *restarted]:
            p.terminate()
            p.wait(timeout=20)
    assert state["stopped_at"] > 0
    assert finished - state["stopped_at"] >= 10.0  # the pull did wait out the restart
    write_profile(frame, tmp_path / "restarted.parquet")
    assert (tmp_path / "restarted.parquet").read_bytes() == (
        tmp_path / "clean.parquet"
    ).read_bytes()


def test_a_failed_pull_resumes_from_the_requests_it_finished(stub: Stub, tmp_path: Path) -> None:
    """The server goes away after 20 answers; the pull fails (a short retry budget), says
    how many requests it kept and where; the same command afterwards asks only for the
    rest, writes the same bytes as an unbroken pull, and leaves no folder behind."""
    queries = queries_file(tmp_path)
    whole = tmp_path / "whole.parquet"
    assert CliRunner().invoke(main, pull_args(url_of(stub), queries, whole)).exit_code == 0
    stub.calls = 0
    stub.mode, stub.fail_after = "dies", 36 + 20  # the probes, then 20 of 36 answers
    out = tmp_path / "pulled.parquet"
    args = pull_args(url_of(stub), queries, out, "--retry-for", "1", "--concurrency", "1")
    broken = CliRunner().invoke(main, args)
    assert broken.exit_code == 2, broken.output
    assert "20 of 36 requests finished and kept in" in broken.output
    assert ".pulled.parquet.pull" in broken.output
    assert not out.exists()
    stub.mode, stub.calls = "ok", 0
    resumed = CliRunner().invoke(main, args)
    assert resumed.exit_code == 0, resumed.output
    assert stub.calls == 36 + 16  # the probes, then only what was missing
    assert "resumed: 20 of 36 requests from the last run" in resumed.output
    assert out.read_bytes() == whole.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "pulled.parquet",
        "queries.yaml",
        "whole.parquet",
    ]


def test_refused_queries_fail_before_the_pull_naming_every_one(stub: Stub, tmp_path: Path) -> None:
    """Every db query is refused: the probe names all six series at once, and no bulk
    request is made (36 probes, nothing after)."""
    stub.mode = "refuse-db"
    out = tmp_path / "pulled.parquet"
    result = CliRunner().invoke(main, pull_args(url_of(stub), queries_file(tmp_path), out))
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert len(line.splitlines()) == 1
    assert "12 of 36 queries fail before the pull" in line
    for site in SITES:
        for metric in METRICS:
            assert f"({site}, db, {metric}): query refused" in line
    assert stub.calls == 36
    assert sorted(tmp_path.iterdir()) == [tmp_path / "queries.yaml"]
