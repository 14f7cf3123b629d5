"""Seeded data generation, ground truth and statistics (no server needed)."""

from __future__ import annotations

import numpy as np
import pytest

from mlps_harness.benchmarks.vector_database.workload import (
    DatasetSpec,
    VectorDBError,
    exact_top_k,
    generate_queries,
)
from mlps_harness.benchmarks.vector_database.workload.dataset import (
    GENERATION_BLOCK,
    generate_vectors,
    iter_chunks,
)
from mlps_harness.benchmarks.vector_database.workload.querying import BatchLog
from mlps_harness.benchmarks.vector_database.workload.stats import (
    latency_statistics,
    recall_statistics,
)


@pytest.mark.parametrize("distribution", ["uniform", "normal", "zipfian"])
def test_vectors_are_normalised_and_independent_of_chunking(distribution: str) -> None:
    spec = DatasetSpec(num_vectors=GENERATION_BLOCK + 500, dimension=12, distribution=distribution, seed=7)
    whole = generate_vectors(spec, 0, spec.num_vectors)
    chunks = list(iter_chunks(spec, 1234))
    ids = np.concatenate([chunk_ids for chunk_ids, _ in chunks])
    assert np.array_equal(np.concatenate([vectors for _, vectors in chunks]), whole)
    assert np.array_equal(ids, np.arange(spec.num_vectors))  # unique across chunks
    assert np.allclose(np.linalg.norm(whole, axis=1), 1.0, atol=1e-5)


def test_distributions_and_seeds_differ() -> None:
    base = generate_vectors(DatasetSpec(100, 8, "uniform", 1), 0, 100)
    assert not np.allclose(base, generate_vectors(DatasetSpec(100, 8, "uniform", 2), 0, 100))
    assert not np.allclose(base, generate_vectors(DatasetSpec(100, 8, "normal", 1), 0, 100))
    assert (generate_vectors(DatasetSpec(100, 8, "uniform", 1), 0, 100) == base).all()


def test_bad_spec_names_the_option() -> None:
    with pytest.raises(VectorDBError, match="--num-vectors"):
        DatasetSpec(0, 8)
    with pytest.raises(VectorDBError, match="--distribution"):
        DatasetSpec(10, 8, "poisson")


@pytest.mark.parametrize("metric", ["COSINE", "L2", "IP"])
def test_exact_top_k_matches_brute_force(metric: str) -> None:
    spec = DatasetSpec(num_vectors=GENERATION_BLOCK + 100, dimension=16, distribution="normal", seed=3)
    data = generate_vectors(spec, 0, spec.num_vectors)
    queries = generate_queries(spec, 20, seed=5)
    if metric == "L2":
        expected = np.argsort(((data[None, :, :] - queries[:, None, :]) ** 2).sum(-1), axis=1)[:, :10]
    else:
        expected = np.argsort(-(queries @ data.T), axis=1)[:, :10]
    assert np.array_equal(exact_top_k(spec, queries, 10, metric), expected)


def test_latency_statistics_give_each_query_its_batch_average() -> None:
    log = BatchLog(timestamps=[100.0, 100.5], sizes=[2, 4], seconds=[0.010, 0.040],
                   success=[True, True])
    stats = latency_statistics([log])
    assert stats["total_queries"] == 6
    assert stats["total_time_seconds"] == pytest.approx(0.54)
    assert stats["throughput_qps"] == pytest.approx(6 / 0.54)
    assert stats["mean_latency_ms"] == pytest.approx((2 * 5 + 4 * 10) / 6)
    assert stats["max_latency_ms"] == pytest.approx(10.0)
    assert stats["batch_count"] == 2


def test_recall_statistics() -> None:
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    stats = recall_statistics({0: [1, 2, 9, 9], 1: [8, 7, 6, 5]}, truth, k=4)
    assert stats["mean_recall"] == pytest.approx(0.75)
    assert stats["min_recall"] == 0.5 and stats["max_recall"] == 1.0
    assert stats["num_queries_evaluated"] == 2 and stats["k"] == 4
