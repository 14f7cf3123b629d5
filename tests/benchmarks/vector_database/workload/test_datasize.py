"""``datasize`` arithmetic and its CLI."""

from __future__ import annotations

import json

import pytest

from mlps_harness.benchmarks.vector_database.workload import (
    VectorDBError,
    datasize_report,
    estimate_index_bytes,
)

EXPECTED_OVERHEAD = {"DISKANN": 1.3, "HNSW": 1.5, "AISAQ": 0.15, "IVF_FLAT": 1.05, "IVF_SQ8": 0.4, "FLAT": 1.0}


@pytest.mark.parametrize("index_type,overhead", sorted(EXPECTED_OVERHEAD.items()))
def test_estimate_is_raw_bytes_times_overhead(index_type: str, overhead: float) -> None:
    raw = 1_000_000 * 1536 * 4
    assert estimate_index_bytes(1_000_000, 1536, index_type) == round(raw * overhead)


def test_index_type_is_case_insensitive() -> None:
    assert estimate_index_bytes(10, 8, "hnsw") == estimate_index_bytes(10, 8, "HNSW") == 480


def test_shards_are_recorded_but_do_not_multiply() -> None:
    one = datasize_report(1000, 128, "HNSW", num_shards=1)
    ten = datasize_report(1000, 128, "HNSW", num_shards=10)
    assert ten["num_shards"] == 10
    assert ten["estimated_bytes"] == one["estimated_bytes"] == 1000 * 128 * 4 * 1.5


@pytest.mark.parametrize("kwargs,option", [
    ({"num_vectors": 0, "dimension": 8}, "--num-vectors"),
    ({"num_vectors": 10, "dimension": -1}, "--dimension"),
    ({"num_vectors": 10, "dimension": 8, "index_type": "SCANN"}, "--index-type"),
    ({"num_vectors": 10, "dimension": 8, "vector_dtype": "BINARY_VECTOR"}, "--vector-dtype"),
])
def test_bad_sizes_name_the_option(kwargs: dict, option: str) -> None:
    with pytest.raises(VectorDBError, match=option):
        estimate_index_bytes(**kwargs)


def test_datasize_cli_prints_json(run_cli) -> None:
    result = run_cli("datasize", "--num-vectors", "1000", "--dimension", "10", "--index-type", "ivf_sq8")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["index_type"] == "IVF_SQ8"
    assert report["estimated_bytes"] == 16_000


def test_datasize_cli_rejects_unknown_index(run_cli) -> None:
    result = run_cli("datasize", "--index-type", "SCANN")
    assert result.returncode == 2
    assert "--index-type" in result.stderr and "HNSW" in result.stderr
    assert "Traceback" not in result.stderr
