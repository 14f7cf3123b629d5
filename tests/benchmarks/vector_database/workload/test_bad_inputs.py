"""User errors: exit status 2, one clear message naming the option, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlps_harness.benchmarks.vector_database.workload import (
    VectorDBError,
    load_collection,
    run_benchmark,
)
from mlps_harness.benchmarks.vector_database.workload.server import find_free_port


def _server_args(milvus) -> list[str]:
    return ["--vdb-host", milvus.host, "--vdb-port", str(milvus.port)]


def _assert_clean_failure(result, *fragments: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_unreachable_milvus_names_host_port_and_how_to_start(run_cli, tmp_path: Path) -> None:
    port = str(find_free_port())
    result = run_cli("run", "--vdb-host", "127.0.0.1", "--vdb-port", port, "--runtime", "1",
                     "--output-dir", str(tmp_path))
    _assert_clean_failure(result, f"127.0.0.1:{port}", "milvus-lite server")


def test_existing_collection_is_refused_without_force(run_cli, milvus, shared_collection) -> None:
    result = run_cli("load", *_server_args(milvus), "--collection", "shared_hnsw",
                     "--num-vectors", "10", "--dimension", "32")
    _assert_clean_failure(result, "'shared_hnsw' already exists", "--force")


def test_force_replaces_an_existing_collection(milvus) -> None:
    load_collection(milvus, collection="replace_me", num_vectors=50, dimension=8, force=True,
                    log=lambda message: None)
    with pytest.raises(VectorDBError, match="--force"):
        load_collection(milvus, collection="replace_me", num_vectors=50, dimension=8,
                        log=lambda message: None)
    report = load_collection(milvus, collection="replace_me", num_vectors=80, dimension=4, force=True,
                             log=lambda message: None)
    assert report["inserted_vectors"] == 80 and report["dimension"] == 4


def test_dimension_mismatch_between_load_and_run(run_cli, milvus, shared_collection, tmp_path: Path) -> None:
    result = run_cli("run", *_server_args(milvus), "--collection", "shared_hnsw", "--queries", "5",
                     "--vector-dim", "64", "--output-dir", str(tmp_path))
    _assert_clean_failure(result, "--dimension 64", "dimension 32")


@pytest.mark.parametrize("args,fragments", [
    (["--num-vectors", "0", "--dimension", "8"], ["--num-vectors", "positive"]),
    (["--num-vectors", "10", "--dimension", "8", "--index-type", "SCANN"], ["--index-type", "HNSW"]),
    (["--num-vectors", "10", "--dimension", "8", "--metric-type", "HAMMING"], ["--metric-type", "COSINE"]),
    (["--num-vectors", "10", "--dimension", "8", "--distribution", "poisson"], ["--distribution", "zipfian"]),
    (["--num-vectors", "10", "--dimension", "8", "--index-type", "DISKANN"],
     ["DISKANN", "milvus-lite", "--index-type HNSW", "--vdb-host"]),
], ids=["zero-vectors", "unknown-index", "unknown-metric", "unknown-distribution", "diskann-on-lite"])
def test_bad_load_options(run_cli, milvus, args: list[str], fragments: list[str]) -> None:
    result = run_cli("load", *_server_args(milvus), "--collection", "never_created", *args)
    _assert_clean_failure(result, *fragments)


def test_aisaq_refused_on_embedded_engine(milvus) -> None:
    with pytest.raises(VectorDBError, match="AISAQ is not supported by milvus-lite"):
        load_collection(milvus, collection="never_created", num_vectors=10, dimension=8,
                        index_type="AISAQ", log=lambda message: None)


def test_missing_collection(run_cli, milvus, tmp_path: Path) -> None:
    result = run_cli("run", *_server_args(milvus), "--collection", "no_such_thing", "--queries", "5",
                     "--output-dir", str(tmp_path))
    _assert_clean_failure(result, "'no_such_thing' does not exist", "load")


def test_no_server_and_no_data_dir(run_cli, tmp_path: Path) -> None:
    result = run_cli("run", "--runtime", "1", "--output-dir", str(tmp_path))
    _assert_clean_failure(result, "--data-dir", "--vdb-host")


@pytest.mark.parametrize("kwargs,option", [
    ({"runtime_s": 1, "num_queries": 5}, "mutually exclusive"),
    ({"num_queries": 5, "recall_k": 20}, "--recall-k"),
    ({"num_queries": 5, "batch_size": 0}, "--batch-size"),
    ({"runtime_s": -1}, "--runtime"),
])
def test_bad_run_arguments(milvus, shared_collection, tmp_path: Path, kwargs: dict, option: str) -> None:
    with pytest.raises(VectorDBError, match=option):
        run_benchmark(milvus, collection="shared_hnsw", output_dir=tmp_path, log=lambda message: None,
                      **kwargs)
