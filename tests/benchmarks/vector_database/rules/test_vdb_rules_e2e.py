"""End to end: the real workload on embedded milvus-lite (tiny load, 2 s run), then the real audit of its tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from .builders import audit

ENGINE, INDEX = "milvus-lite", "HNSW"


@pytest.fixture(scope="module")
def workload_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    from mlps_harness.benchmarks.vector_database.workload import (
        EmbeddedMilvus,
        load_collection,
        result_dir,
        run_benchmark,
    )

    root = tmp_path_factory.mktemp("vdb_e2e")
    quiet = lambda message: None  # noqa: E731
    with EmbeddedMilvus(tmp_path_factory.mktemp("vdb_e2e_data") / "milvus") as endpoint:
        load_collection(endpoint, collection="e2e", num_vectors=1000, dimension=16, chunk_size=500,
                        batch_size=500, force=True, output_dir=result_dir(root, ENGINE, INDEX, "load"), log=quiet)
        run_benchmark(endpoint, collection="e2e", runtime_s=2.0, num_query_vectors=100,
                      output_dir=result_dir(root, ENGINE, INDEX, "run"), log=quiet)
    return root


def test_real_milvus_lite_run_is_audited_without_errors(workload_tree: Path, tmp_path: Path) -> None:
    result = audit(workload_tree, tmp_path, "--rules-version=v3.0")
    assert result.verdict["counts"]["error"] == 0, result.proc.stdout[-3000:]
    assert result.verdict["verdict"] in ("OPEN", "INVALID")

    (run,) = [r for r in result.verdict["runs"] if "/run/" in r]
    by_rule = {rule: outcome for (target, rule), outcome in result.outcomes.items() if target == run}
    # what the workload measured is complete and consistent
    for rule in ("H5.1-complete-run", "H5.3-index-type-closed", "H5.4-required-metrics", "H5.5-recall-measured",
                 "H5.6-dimension-consistent", "H5.7-inserted-count", "H6.1-documents-parse",
                 "H6.3-required-files"):
        assert by_rule[rule] == "closed", (rule, result.findings(run, rule))
    # ...but an embedded engine is OPEN only, and 2 s is far below the 30 s minimum
    assert by_rule["H5.2-engine-closed"] == "open"
    (engine,) = result.findings(run, "H5.2-engine-closed")
    assert "embedded single-process engine" in engine["message"] and engine["actual"] == ENGINE
    assert by_rule["H5.8-minimum-runtime"] == "invalid"
    (runtime,) = result.findings(run, "H5.8-minimum-runtime")
    assert runtime["actual"] == "2 s" and runtime["expected"] == ">= 30 s"
    group = f"vector_database/{ENGINE}/{INDEX}"
    assert result.outcome(group, "H5.11-load-matches-run") == "closed"
    assert result.outcome(group, "H5.10-run-count") == "invalid"
