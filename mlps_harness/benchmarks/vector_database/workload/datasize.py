"""``datasize``: how many bytes a collection and its index need.

Pure arithmetic: raw vector bytes (N x dim x 4) times an index overhead
factor. Unlike upstream, the result is *not* multiplied by the shard count:
sharding splits the same vectors, it does not copy them.
"""

from __future__ import annotations

from .options import (
    FLOAT32_BYTES,
    INDEX_SIZE_OVERHEAD,
    VECTOR_DTYPES,
    VectorDBError,
    check_index_type,
    check_positive,
)


def estimate_index_bytes(
    num_vectors: int,
    dimension: int,
    index_type: str = "HNSW",
    vector_dtype: str = "FLOAT_VECTOR",
) -> int:
    """Estimated bytes of storage for ``num_vectors`` x ``dimension`` vectors.

    Raises :class:`VectorDBError` for a non-positive size or an unknown
    index type / vector dtype.
    """
    check_positive("--num-vectors", num_vectors, "integer")
    check_positive("--dimension", dimension, "integer")
    canonical_index = check_index_type(index_type)
    if vector_dtype not in VECTOR_DTYPES:
        raise VectorDBError(
            f"--vector-dtype {vector_dtype!r} is not supported; expected one of "
            f"{', '.join(VECTOR_DTYPES)}."
        )
    raw_bytes = int(num_vectors) * int(dimension) * FLOAT32_BYTES
    return int(round(raw_bytes * INDEX_SIZE_OVERHEAD[canonical_index]))


def datasize_report(
    num_vectors: int,
    dimension: int,
    index_type: str = "HNSW",
    vector_dtype: str = "FLOAT_VECTOR",
    num_shards: int = 1,
) -> dict[str, object]:
    """A JSON-ready description of the estimate (shards recorded, not multiplied)."""
    check_positive("--num-shards", num_shards, "integer")
    total = estimate_index_bytes(num_vectors, dimension, index_type, vector_dtype)
    canonical_index = check_index_type(index_type)
    return {
        "num_vectors": int(num_vectors),
        "dimension": int(dimension),
        "index_type": canonical_index,
        "vector_dtype": vector_dtype,
        "num_shards": int(num_shards),
        "raw_vector_bytes": int(num_vectors) * int(dimension) * FLOAT32_BYTES,
        "index_overhead": INDEX_SIZE_OVERHEAD[canonical_index],
        "estimated_bytes": total,
        "estimated_gib": round(total / 2**30, 3),
    }
