"""The vector database suite end to end on milvus-lite: the embedded default, the audit agreeing, a server given by
--vdb-host, existing collections, and bad input as usage errors."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlps_harness.benchmarks.vector_database.ruleset import vectordb_rules
from tests.helpers import REPO

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

SUITE = str(REPO / "suites" / "vector_database")
COMPLIANCE = str(REPO / "compliance")
GROUP = Path("vector_database") / "milvus-lite" / "HNSW"
DATETIME = re.compile(r"^\d{8}_\d{6}$")
SMALL = ["--vdb-num-vectors=300", "--vdb-dimension=8", "--vdb-runtime=1", "--loops=1"]


def _dirs(results: Path, command: str) -> list[Path]:
    base = results / GROUP / command
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def _check_layout(run: Path, command: str) -> dict:
    """Every file the v3.0 layout block requires, one metadata file, no incomplete marker; returns the metadata."""
    assert DATETIME.match(run.name), run.name
    names = {p.name for p in run.iterdir()}
    for pattern in vectordb_rules("v3.0").layout[command].files:
        assert fnmatch.filter(names, pattern), (pattern, names)
    assert fnmatch.filter(names, "*_metadata.json") == [f"vector_database_{run.name}_metadata.json"]
    assert ".mlps-incomplete" not in names
    return json.loads((run / f"vector_database_{run.name}_metadata.json").read_text())


def test_embedded_default_end_to_end_then_audit_agree(tmp_path: Path, suite_runner) -> None:
    """No options: milvus-lite, HNSW, 2,000 x 32-d, load + 5 runs; OPEN engine and INVALID runtime; audit agrees."""
    results, data = tmp_path / "results", tmp_path / "data"
    started = time.monotonic()
    suite = suite_runner(SUITE, f"--results-dir={results}", f"--data-dir={data}",
                         f"--mlps-json={tmp_path / 'suite.json'}", timeout=300)
    wall = time.monotonic() - started
    out = suite.stdout + suite.stderr
    assert "Traceback" not in out
    assert suite.returncode == 1, out[-3000:]            # INVALID: 3 s runs, data and results on one filesystem
    assert "(embedded default)" in suite.stdout and "no warm-up" in suite.stdout
    print(f"embedded default suite: {wall:.1f} s wall")

    (load,) = _dirs(results, "load")
    meta = _check_layout(load, "load")
    assert meta["args"]["command"] == "load" and meta["args"]["force"] is True
    loaded = json.loads((load / "load_summary.json").read_text())
    assert loaded["engine"] == "milvus-lite" and loaded["index_type"] == "HNSW"
    assert loaded["inserted_vectors"] == loaded["num_vectors"] == 2000 and loaded["dimension"] == 32

    runs = _dirs(results, "run")
    assert len(runs) == 5
    for number, run in enumerate(runs):
        meta = _check_layout(run, "run")
        assert meta["benchmark_type"] == "vector_database" and meta["run_datetime"] == run.name
        assert meta["harness"]["rules_version"] == "v3.0" and meta["run_number"] == number
        args = meta["args"]
        for option in ("vdb_host", "vdb_port", "index_type", "metric_type", "num_vectors", "dimension",
                       "distribution", "runtime", "num_query_processes", "batch_size", "search_ef", "collection",
                       "force", "loops", "data_dir", "results_dir"):
            assert option in args, option
        assert (args["index_type"], args["metric_type"], args["num_vectors"], args["dimension"], args["runtime"],
                args["loops"]) == ("HNSW", "COSINE", 2000, 32, 3.0, 5)
        cluster = meta["cluster_information"]
        assert cluster["source"] == "local"
        filesystems = cluster["hosts"][0]["filesystems"]
        assert filesystems["data_dir"]["path"] == str((data / "vectordb" / "milvus-lite").resolve())
        assert filesystems["results_dir"]["path"] == str(results.resolve())
        assert meta["command_argv"][-2:] == ["--output-dir", str(run)]
        summary = json.loads((run / "summary.json").read_text())
        assert summary["engine"] == "milvus-lite" and summary["index_type"] == "HNSW"
        assert summary["inserted_vectors"] == summary["num_vectors"] == 2000
        assert summary["throughput_qps"] > 0 and 0 < summary["recall"] <= 1
        assert summary["runtime_seconds"] == 3
    assert len({run.name for run in runs}) == 5 and runs[0].name >= load.name

    verdict = json.loads((tmp_path / "suite.json").read_text())
    assert verdict["verdict"] == "INVALID" and verdict["counts"]["error"] == 0
    by_rule: dict[str, set[tuple[str, str]]] = {}
    for finding in verdict["findings"]:
        by_rule.setdefault(finding["rule"], set()).add((finding["run"], finding["division"]))
    run_ids = {str(GROUP / "run" / run.name) for run in runs}
    load_id = str(GROUP / "load" / load.name)
    assert by_rule.pop("H5.2-engine-closed") == {(r, "OPEN") for r in run_ids | {load_id}}
    assert {r for r, _ in by_rule.pop("H5.8-minimum-runtime")} == run_ids
    assert {r for r, _ in by_rule.pop("H5.9-separate-filesystems")} == run_ids
    assert by_rule == {}, by_rule     # layout, metrics, recall, counts, 5 runs, load = run: no other finding
    assert verdict["runs"] == {load_id: "OPEN", **{r: "INVALID" for r in run_ids}}
    # live progress in a CI log: one line for the load and exactly one per run, with its figures, no live updates
    assert "\r" not in suite.stdout and "inserted 2000/2000" not in suite.stdout
    assert len(re.findall(r"^    load: 2000 vectors inserted and indexed in [0-9.]+ s$", suite.stdout, re.M)) == 1
    run_lines = re.findall(r"^    (run/\d+): [0-9.]+ QPS, p99 [0-9.]+ ms, recall [0-9.]+$", suite.stdout, re.M)
    assert sorted(run_lines) == [f"run/{n}" for n in range(5)], suite.stdout[-3000:]
    assert len(re.findall(r"^    run/\d+: ", suite.stdout, re.M)) == 5
    # results.json / results.csv beside the runs carry every run's figures and the group's mean
    figures = json.loads((results / "results.json").read_text())
    records = {r["run_id"]: r for r in figures["runs"] if r["command"] == "run"}
    assert set(records) == run_ids and all(run_id in (results / "results.csv").read_text() for run_id in run_ids)
    for run in runs:
        summary = json.loads((run / "summary.json").read_text())
        record = records[str(GROUP / "run" / run.name)]
        assert record["metrics"]["throughput_qps"] == pytest.approx(summary["throughput_qps"])
        assert record["metrics"]["p99_latency_ms"] == pytest.approx(summary["p99_latency_ms"])
        assert record["category"] == "INVALID"
    (group,) = figures["groups"]
    assert group["category"] == "INVALID" and sorted(group["measured_runs"]) == sorted(run_ids)
    assert group["metrics"]["throughput_qps"] == pytest.approx(
        sum(r["metrics"]["throughput_qps"] for r in records.values()) / 5)

    audit = suite_runner(COMPLIANCE, f"--results-dir={results}", f"--mlps-json={tmp_path / 'audit.json'}")
    assert audit.returncode == 1, audit.stdout[-3000:]
    audited = json.loads((tmp_path / "audit.json").read_text())
    assert audited["runs"] == verdict["runs"]
    assert audited["verdict"] == verdict["verdict"]
    assert sorted(f["rule"] for f in audited["findings"]) == sorted(f["rule"] for f in verdict["findings"])


def test_existing_collection_needs_force_and_a_matching_dimension(tmp_path: Path, suite_runner) -> None:
    """With explicit options the collection is not dropped silently: --vdb-force, or a readable failure."""
    common = [*SMALL, f"--results-dir={tmp_path / 'r'}", f"--data-dir={tmp_path / 'd'}"]
    first = suite_runner(SUITE, *common)
    assert "Traceback" not in first.stdout + first.stderr
    assert "load failed" not in first.stdout and len(_dirs(tmp_path / "r", "run")) == 1

    again = suite_runner(SUITE, *common)
    out = again.stdout + again.stderr
    assert again.returncode == 1 and "Traceback" not in out
    assert " error" not in again.stdout.strip().splitlines()[-1]        # the rule tests of unwritten runs skip
    assert "load failed: --vdb-force: collection 'mlps_vectordb' already exists" in out, out[-2000:]
    other = suite_runner(SUITE, *common, "--vdb-dimension=16")
    out = other.stdout + other.stderr
    assert other.returncode == 1 and "Traceback" not in out
    assert "--vdb-dimension 16 does not match the existing collection 'mlps_vectordb'" in out and "8-d" in out
    assert len(_dirs(tmp_path / "r", "load")) == 1 and len(_dirs(tmp_path / "r", "run")) == 1   # nothing written

    forced = suite_runner(SUITE, *common, "--vdb-dimension=16", "--vdb-force")
    assert "load failed" not in forced.stdout, forced.stdout[-2000:]
    assert len(_dirs(tmp_path / "r", "load")) == 2


@pytest.fixture
def milvus_server(tmp_path: Path):
    """A milvus-lite server started by hand, as a user would start a Milvus (host and port)."""
    from mlps_harness.benchmarks.vector_database.workload.server import (
        find_free_port,
        is_port_open,
    )

    port = find_free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "srv"),
                                "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not is_port_open("127.0.0.1", port, 0.2):
        assert process.poll() is None and time.monotonic() < deadline, "milvus-lite server did not start"
        time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=30)
    log.close()


def test_a_server_given_by_host_and_port(tmp_path: Path, suite_runner, milvus_server: int) -> None:
    """--vdb-host/--vdb-port: nothing is started, the engine is asked (milvus-lite here), DISKANN is refused."""
    results = tmp_path / "results"
    target = ["--vdb-host=127.0.0.1", f"--vdb-port={milvus_server}", f"--results-dir={results}"]
    # no data dir declared at all (neither --data-dir nor $MLPSTORAGE_DATA_DIR): the server's storage is unknown
    suite = suite_runner(SUITE, *SMALL, *target, "--vdb-collection=remote", "-rs", "-v",
                         env={"MLPSTORAGE_DATA_DIR": None})
    out = suite.stdout + suite.stderr
    assert "Traceback" not in out and "load failed" not in out, out[-3000:]
    assert f"backend: milvus-lite at 127.0.0.1:{milvus_server}" in suite.stdout
    (run,) = _dirs(results, "run")
    meta = _check_layout(run, "run")
    assert meta["args"]["vdb_port"] == milvus_server and meta["args"]["embedded_engine"] is False
    assert "data_dir" not in meta["cluster_information"]["hosts"][0]["filesystems"]
    assert "H5.9-separate-filesystems] SKIPPED" in out and "filesystem information not recorded" in out

    refused = suite_runner(SUITE, *target, "--vdb-index-type=DISKANN")
    out = refused.stdout + refused.stderr
    assert refused.returncode == 4 and "Traceback" not in out
    assert "--vdb-index-type DISKANN is not supported by milvus-lite" in out


def test_what_if_prints_commands_and_runs_nothing(tmp_path: Path, suite_runner) -> None:
    result = suite_runner(SUITE, "--what-if", "--loops=2", f"--results-dir={tmp_path / 'r'}",
                          f"--data-dir={tmp_path / 'd'}")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "mlps_harness.benchmarks.vector_database.workload load" in result.stdout and "--vdb-num-vectors 2000" in result.stdout
    assert "run/1: " in result.stdout and "run/2: " not in result.stdout
    assert not (tmp_path / "r").exists() and not (tmp_path / "d").exists()


def _unreachable_port() -> str:
    from mlps_harness.benchmarks.vector_database.workload.server import find_free_port

    return str(find_free_port())


@pytest.mark.parametrize("args, needle", [
    (["--vdb-index-type=DISKANN"], "--vdb-index-type DISKANN is not supported by milvus-lite"),
    (["--vdb-index-type=AISAQ"], "Use --vdb-index-type HNSW"),
    (["--vdb-index-type=BTREE"], "--vdb-index-type 'BTREE' is not supported"),
    (["--vdb-metric-type=HAMMING"], "--vdb-metric-type 'HAMMING' is not supported"),
    (["--vdb-num-vectors=0"], "--vdb-num-vectors"),
    (["--vdb-dimension=-1"], "--vdb-dimension"),
    (["--vdb-runtime=0"], "--vdb-runtime"),
    (["--loops=0"], "--loops"),
    (["--division=closed"], "--division=closed: milvus-lite is OPEN only"),
    (["--vdb-host=127.0.0.1", "--vdb-port=PORT"], "cannot reach Milvus at 127.0.0.1:PORT"),
    (["-n", "2"], "parallel"),
])
def test_bad_input_is_a_usage_error(tmp_path: Path, suite_runner, args: list[str], needle: str) -> None:
    port = _unreachable_port()
    args = [a.replace("PORT", port) for a in args]
    result = suite_runner(SUITE, *args, f"--results-dir={tmp_path / 'r'}", f"--data-dir={tmp_path / 'd'}")
    out = result.stdout + result.stderr
    assert result.returncode == 4, out[-2000:]
    assert needle.replace("PORT", port) in out and "Traceback" not in out
    if "cannot reach" in needle:
        assert "milvus-lite server --data-dir" in out          # how to start one
    assert not (tmp_path / "r").exists()
