"""End to end on a real embedded milvus-lite: load, then run, then check the outputs."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from mlps_harness.benchmarks.vector_database.workload import (
    load_collection,
    result_dir,
    run_benchmark,
)

SMALL_VECTORS = 2000  # must match conftest.py
SMALL_DIMENSION = 32

SUMMARY_KEYS = {"throughput_qps", "mean_latency_ms", "p95_latency_ms", "p99_latency_ms",
                "p999_latency_ms", "recall", "dimension", "num_vectors", "inserted_vectors",
                "index_type", "metric_type", "engine", "total_queries", "total_time_seconds"}
RECALL_KEYS = {"recall_at_k", "num_queries_evaluated", "k", "min_recall", "max_recall",
               "mean_recall", "median_recall", "p95_recall", "p99_recall"}
CSV_HEADER = ["process_id", "batch_id", "timestamp", "batch_size", "batch_time_seconds",
              "avg_query_time_seconds", "success"]


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def _csv_query_count(path: Path) -> int:
    with path.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == CSV_HEADER
    return sum(int(row[3]) for row in rows[1:] if row[6] == "True")


def test_cli_load_then_timed_run_with_two_processes(tmp_path: Path, run_cli) -> None:
    data_dir, out = tmp_path / "milvus", tmp_path / "run"
    loaded = run_cli("load", "--data-dir", str(data_dir), "--collection", "cli_e2e",
                     "--num-vectors", str(SMALL_VECTORS), "--dimension", str(SMALL_DIMENSION),
                     "--distribution", "normal", "--chunk-size", "900")
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["inserted_vectors"] == SMALL_VECTORS

    ran = run_cli("run", "--data-dir", str(data_dir), "--collection", "cli_e2e", "--runtime", "2",
                  "--num-query-processes", "2", "--dimension", str(SMALL_DIMENSION),
                  "--output-dir", str(out))
    assert ran.returncode == 0, ran.stderr
    names = {path.name for path in out.iterdir()}
    assert {"config.json", "statistics.json", "recall_stats.json", "summary.json",
            "milvus_benchmark_p0.csv", "milvus_benchmark_p1.csv"} <= names

    summary = _read_json(out / "summary.json")
    assert SUMMARY_KEYS <= set(summary)
    assert summary["engine"] == "milvus-lite" and summary["index_type"] == "HNSW"
    assert summary["inserted_vectors"] == summary["num_vectors"] == SMALL_VECTORS
    assert summary["dimension"] == SMALL_DIMENSION
    assert 0.0 < summary["recall"] <= 1.0
    assert summary["throughput_qps"] > 0
    assert summary["mean_latency_ms"] <= summary["p99_latency_ms"] <= summary["p999_latency_ms"]
    assert summary["total_time_seconds"] == pytest.approx(2.0, abs=1.0)

    statistics = _read_json(out / "statistics.json")
    assert RECALL_KEYS <= set(statistics["recall"])
    assert {"total_bytes_read", "total_bytes_written", "devices"} <= set(statistics["disk_io"])
    assert RECALL_KEYS <= set(_read_json(out / "recall_stats.json"))
    per_process = [_csv_query_count(out / f"milvus_benchmark_p{i}.csv") for i in (0, 1)]
    assert all(count > 0 for count in per_process)
    assert sum(per_process) == summary["total_queries"]
    config = _read_json(out / "config.json")
    assert config["num_query_processes"] == 2 and config["collection"] == "cli_e2e"


def test_flat_index_recall_is_exact(milvus, tmp_path: Path) -> None:
    """FLAT is exhaustive, so recall against the numpy ground truth must be ~1.

    This fails if ids, seeds or chunking at load time disagree with the
    regenerated data used for the ground truth.
    """
    report = load_collection(milvus, collection="flat_l2", num_vectors=1500, dimension=16,
                             distribution="zipfian", index_type="FLAT", metric_type="L2",
                             chunk_size=400, batch_size=150, force=True, log=lambda message: None)
    assert report["inserted_vectors"] == 1500
    summary = run_benchmark(milvus, collection="flat_l2", output_dir=tmp_path, num_queries=120,
                            batch_size=4, num_query_vectors=60, log=lambda message: None)
    assert summary["total_queries"] == 120
    assert summary["metric_type"] == "L2"
    assert summary["recall"] >= 0.99
    assert _read_json(tmp_path / "recall_stats.json")["num_queries_evaluated"] == 60


def test_five_runs_after_one_load_land_in_distinct_dirs(milvus, shared_collection, tmp_path: Path) -> None:
    assert shared_collection["inserted_vectors"] == SMALL_VECTORS
    run_dirs = []
    for _ in range(5):
        out = result_dir(tmp_path, "milvus-lite", "HNSW", "run")
        run_benchmark(milvus, collection="shared_hnsw", output_dir=out, num_queries=30,
                      num_query_vectors=30, log=lambda message: None)
        run_dirs.append(out)
    assert len(set(run_dirs)) == 5
    assert all((out / "summary.json").is_file() for out in run_dirs)
    assert run_dirs[0].parent == tmp_path / "vector_database" / "milvus-lite" / "HNSW" / "run"
    assert all(re.fullmatch(r"\d{8}_\d{6}", out.name) for out in run_dirs)   # the upstream datetime format


def test_ivf_flat_with_nprobe(milvus, shared_collection, tmp_path: Path) -> None:
    load_collection(milvus, collection="ivf_ip", num_vectors=SMALL_VECTORS, dimension=SMALL_DIMENSION,
                    index_type="IVF_FLAT", metric_type="IP", index_params={"nlist": 16}, force=True,
                    log=lambda message: None)
    few = run_benchmark(milvus, collection="ivf_ip", output_dir=tmp_path / "few", num_queries=100,
                        num_query_vectors=100, nprobe=1, log=lambda message: None)
    many = run_benchmark(milvus, collection="ivf_ip", output_dir=tmp_path / "many", num_queries=100,
                         num_query_vectors=100, nprobe=16, log=lambda message: None)
    assert few["search_params"]["params"] == {"nprobe": 1}
    assert 0.0 < few["recall"] < many["recall"] <= 1.0
