"""Seeded, L2-normalised vector data and its exact ground truth.

Vectors are generated in fixed blocks of :data:`GENERATION_BLOCK` rows, each
block seeded from ``(seed, block_index)``. Row ``i`` is therefore the same
whatever insert chunk size was used, and ``run`` can regenerate the data to
compute exact top-k neighbours with numpy instead of keeping a FLAT copy.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator

import numpy as np

from .options import check_distribution, check_metric_type, check_positive

GENERATION_BLOCK = 8192
_ZIPF_EXPONENT = 2.0
_ZIPF_CAP = 100.0
_QUERY_STREAM = 7_919  # separates the query stream from data blocks


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What ``load`` inserted: enough to regenerate every vector exactly."""

    num_vectors: int
    dimension: int
    distribution: str = "uniform"
    seed: int = 1234

    def __post_init__(self) -> None:
        check_positive("--num-vectors", self.num_vectors, "integer")
        check_positive("--dimension", self.dimension, "integer")
        object.__setattr__(self, "distribution", check_distribution(self.distribution))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored as a collection property)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DatasetSpec":
        """Inverse of :meth:`to_dict`; ignores unknown keys."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


def _draw(rng: np.random.Generator, rows: int, dimension: int, distribution: str) -> np.ndarray:
    shape = (rows, dimension)
    if distribution == "uniform":
        raw = rng.random(shape, dtype=np.float32)
    elif distribution == "normal":
        raw = rng.standard_normal(shape, dtype=np.float32)
    else:  # zipfian: uniform components scaled by heavy-tailed Zipf weights
        weights = np.minimum(rng.zipf(_ZIPF_EXPONENT, size=shape), _ZIPF_CAP)
        raw = rng.random(shape, dtype=np.float32) * weights.astype(np.float32)
    return raw


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise each row in place (all-zero rows are left as they are)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    vectors /= norms
    return vectors


def _block(spec: DatasetSpec, block_index: int) -> np.ndarray:
    start = block_index * GENERATION_BLOCK
    rows = min(GENERATION_BLOCK, spec.num_vectors - start)
    rng = np.random.default_rng([spec.seed, block_index])
    return normalise_rows(_draw(rng, rows, spec.dimension, spec.distribution))


def generate_vectors(spec: DatasetSpec, start: int, count: int) -> np.ndarray:
    """Rows ``start .. start+count-1`` of the dataset as float32 (count x dim)."""
    stop = min(start + count, spec.num_vectors)
    if start < 0 or start >= stop:
        return np.empty((0, spec.dimension), dtype=np.float32)
    first_block, last_block = start // GENERATION_BLOCK, (stop - 1) // GENERATION_BLOCK
    blocks = [_block(spec, index) for index in range(first_block, last_block + 1)]
    joined = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    offset = start - first_block * GENERATION_BLOCK
    return joined[offset: offset + (stop - start)]


def iter_chunks(spec: DatasetSpec, chunk_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(ids, vectors)`` chunks; ids are the global row numbers, unique across chunks."""
    check_positive("--chunk-size", chunk_size, "integer")
    for start in range(0, spec.num_vectors, chunk_size):
        vectors = generate_vectors(spec, start, chunk_size)
        ids = np.arange(start, start + len(vectors), dtype=np.int64)
        yield ids, vectors


def generate_queries(spec: DatasetSpec, count: int, seed: int = 42) -> np.ndarray:
    """``count`` normalised query vectors from the dataset's distribution."""
    check_positive("--num-query-vectors", count, "integer")
    rng = np.random.default_rng([seed, _QUERY_STREAM])
    return normalise_rows(_draw(rng, count, spec.dimension, spec.distribution))


def _similarity(vectors: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """Higher is closer, shape (queries x vectors)."""
    dots = queries @ vectors.T
    if metric == "IP":
        return dots
    if metric == "COSINE":
        norms = np.linalg.norm(vectors, axis=1)
        norms[norms == 0] = 1.0
        return dots / norms[None, :]
    # L2: rank by -||v - q||^2 = 2 v.q - ||v||^2 - ||q||^2 (the last term is per-query constant)
    return 2.0 * dots - np.einsum("ij,ij->i", vectors, vectors)[None, :]


def exact_top_k(spec: DatasetSpec, queries: np.ndarray, k: int, metric: str) -> np.ndarray:
    """Exact top-``k`` ids per query over every vector of the dataset.

    Streams the data block by block so memory stays at one block plus
    ``queries x k`` candidates. Returns an int64 array (queries x k).
    """
    metric = check_metric_type(metric)
    k = min(int(k), spec.num_vectors)
    queries = np.asarray(queries, dtype=np.float32)
    if metric == "COSINE":
        queries = normalise_rows(queries.copy())
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_ids = np.empty((len(queries), 0), dtype=np.int64)
    for start in range(0, spec.num_vectors, GENERATION_BLOCK):
        block = generate_vectors(spec, start, GENERATION_BLOCK)
        scores = np.concatenate([best_scores, _similarity(block, queries, metric)], axis=1)
        ids = np.concatenate(
            [best_ids, np.broadcast_to(np.arange(start, start + len(block)), (len(queries), len(block)))],
            axis=1,
        )
        keep = np.argpartition(-scores, k - 1, axis=1)[:, :k] if scores.shape[1] > k else None
        if keep is not None:
            scores = np.take_along_axis(scores, keep, axis=1)
            ids = np.take_along_axis(ids, keep, axis=1)
        best_scores, best_ids = scores, ids
    order = np.argsort(-best_scores, axis=1, kind="stable")
    return np.take_along_axis(best_ids, order, axis=1)
