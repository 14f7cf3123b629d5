"""The vector database suite's stages, then the same rule tests as `compliance/` on the load and runs just written."""

from __future__ import annotations

import pytest

from mlps_harness.benchmarks.vector_database.plan import VectorDBPlan, datasize_table
from mlps_harness.benchmarks.vector_database.stages import Backend
from mlps_harness.rule_tests import test_layout, test_rules, test_submission  # noqa: F401 - collected here
from mlps_harness.suite.stage_result import StageResult


@pytest.mark.stage("datasize")
def test_datasize(vdb_plan: VectorDBPlan) -> None:
    """Bytes the collection and its index need, for every index type (N x dim x 4 x overhead)."""
    table = datasize_table(vdb_plan)
    for index, size in table.items():
        print(f"{index}: {size} bytes{' (planned)' if index == vdb_plan.index_type else ''}")
    assert table[vdb_plan.index_type] == vdb_plan.datasize["estimated_bytes"] > 0


@pytest.mark.stage("backend")
def test_backend(vdb_backend: Backend) -> None:
    """The Milvus server is up: the embedded milvus-lite server started, or the real one answered."""
    if not vdb_backend.ok:
        pytest.fail(f"{vdb_backend.error}" + (f" (server log: {vdb_backend.log_path})" if vdb_backend.log_path
                                              else ""), pytrace=False)
    endpoint = vdb_backend.endpoint
    print(f"{vdb_backend.engine} at {endpoint.host}:{endpoint.port}")


@pytest.mark.stage("load")
def test_load(vdb_load: StageResult) -> None:
    """The collection was created, indexed and filled once (its own load directory)."""
    if not vdb_load.ok:
        pytest.fail(f"load failed: {vdb_load.error}", pytrace=False)
    result = vdb_load.figures
    print(f"{result['inserted_vectors']} vectors loaded in {result['load_seconds']} s "
          f"(index {result['index_build_seconds']} s) -> {vdb_load.run_dir}")


@pytest.mark.stage("run")
def test_run(vdb_runs: dict[str, StageResult], slot: str) -> None:
    """One timed search run: throughput, latency and recall written to its run directory."""
    stage = vdb_runs.get(slot)
    if stage is None:
        pytest.skip("not run: the load or an earlier run failed")
    if not stage.ok:
        pytest.fail(f"{slot} failed: {stage.error} ({stage.run_dir})", pytrace=False)
    s = stage.figures
    print(f"{slot}: {s['throughput_qps']:.1f} QPS, p99 {s['p99_latency_ms']:.2f} ms, recall@{s['recall_k']} "
          f"{s['recall']:.3f} -> {stage.run_dir}")
