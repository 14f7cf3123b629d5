"""Vector DB figures: summary.json's QPS, latencies and recall per run; the group figure is their mean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlps_harness.benchmarks.vector_database import metrics
from mlps_harness.loader import ResultsIndex
from mlps_harness.metrics import run_result


def _run(tmp_path: Path, command: str, leaf: str, summary: dict | None) -> None:
    run = tmp_path / "vector_database" / "milvus" / "DISKANN" / command / leaf
    run.mkdir(parents=True)
    if summary is not None:
        (run / "summary.json").write_text(json.dumps(summary))


def test_group_is_the_mean_over_query_runs_and_load_dirs_have_no_figures(tmp_path: Path) -> None:
    _run(tmp_path, "load", "20260101_000000", {"num_vectors": 10})
    _run(tmp_path, "run", "20260101_000100", {"throughput_qps": 100.0, "p99_latency_ms": 8.0, "recall": 0.9})
    _run(tmp_path, "run", "20260101_000200", {"throughput_qps": 300.0, "p99_latency_ms": 4.0,
                                               "recall": {"mean_recall": 0.95}})
    _run(tmp_path, "run", "20260101_000300", {"throughput_qps": float("inf"), "p99_latency_ms": 6.0})
    index = ResultsIndex(tmp_path)
    runs = {ref.run_id.split("/")[-1]: run_result(index.run(ref.run_id)) for ref in index.refs}
    assert runs["20260101_000000"].metrics is None
    assert runs["20260101_000200"].metrics["recall"] == 0.95
    assert runs["20260101_000300"].metrics["invalid_values"] == ["throughput_qps"]
    figures = metrics.group_metrics(list(runs.values()))
    assert figures.metrics.throughput_qps == pytest.approx(200.0)      # the inf run is not averaged
    assert figures.metrics.p99_latency_ms == pytest.approx(6.0)
    assert figures.metrics.recall == pytest.approx(0.925)
    assert figures.metrics.p95_latency_ms is None                        # nobody recorded it
    assert "load directory" in figures.excluded_runs["vector_database/milvus/DISKANN/load/20260101_000000"]
