"""Option vocabularies, defaults, validation and the user-facing error type.

Everything here is pure Python (no pymilvus import) so ``datasize`` and
argument validation stay cheap.
"""

from __future__ import annotations

from typing import Any

from ..options import DEFAULT_COLLECTION, DEFAULT_MILVUS_PORT  # noqa: F401 (declared with the shared flags)

ENGINE_MILVUS = "milvus"
ENGINE_MILVUS_LITE = "milvus-lite"

#: Bytes-per-raw-byte multipliers used by ``datasize`` (raw = N x dim x 4).
INDEX_SIZE_OVERHEAD: dict[str, float] = {
    "DISKANN": 1.3,
    "HNSW": 1.5,
    "AISAQ": 0.15,
    "IVF_FLAT": 1.05,
    "IVF_SQ8": 0.4,
    "FLAT": 1.0,
}
INDEX_TYPES: tuple[str, ...] = tuple(INDEX_SIZE_OVERHEAD)
#: Index types milvus-lite 3.x can really build (others fail in the background
#: and searches then silently scan everything, so we refuse them up front).
LITE_INDEX_TYPES: frozenset[str] = frozenset({"HNSW", "IVF_FLAT", "IVF_SQ8", "FLAT"})
METRIC_TYPES: tuple[str, ...] = ("COSINE", "L2", "IP")
DISTRIBUTIONS: tuple[str, ...] = ("uniform", "normal", "zipfian")
VECTOR_DTYPES: tuple[str, ...] = ("FLOAT_VECTOR",)
FLOAT32_BYTES = 4

DEFAULT_DATA_SEED = 1234
DEFAULT_QUERY_SEED = 42

#: Collection property holding the dataset description written by ``load``.
DATASET_PROPERTY = "mlps_harness.dataset"
ID_FIELD = "id"
VECTOR_FIELD = "vector"


class VectorDBError(Exception):
    """A problem the user can fix (bad option, missing server, ...).

    The CLI prints the message without a traceback and exits with status 2.
    """


def _check_choice(option: str, value: str, allowed: tuple[str, ...]) -> str:
    normalised = str(value).upper() if allowed[0].isupper() else str(value).lower()
    if normalised not in allowed:
        raise VectorDBError(
            f"{option} {value!r} is not supported; expected one of "
            f"{', '.join(allowed)}. Pass one of those values to {option}."
        )
    return normalised


def check_index_type(index_type: str, option: str = "--index-type") -> str:
    """Return the canonical index type name or raise :class:`VectorDBError`."""
    return _check_choice(option, index_type, INDEX_TYPES)


def check_metric_type(metric_type: str, option: str = "--metric-type") -> str:
    """Return the canonical metric name or raise :class:`VectorDBError`."""
    return _check_choice(option, metric_type, METRIC_TYPES)


def check_distribution(distribution: str, option: str = "--distribution") -> str:
    """Return the canonical distribution name or raise :class:`VectorDBError`."""
    return _check_choice(option, distribution, DISTRIBUTIONS)


def check_positive(option: str, value: int | float | None, what: str) -> None:
    """Raise :class:`VectorDBError` unless ``value`` is a positive number."""
    if value is None or value <= 0:
        raise VectorDBError(
            f"{option} must be a positive {what}, got {value!r}; "
            f"pass {option} N with N > 0."
        )


def check_index_supported_by_engine(index_type: str, engine: str, option: str = "--index-type") -> None:
    """Refuse index types the engine cannot build (no brute-force fallback)."""
    if engine == ENGINE_MILVUS_LITE and index_type not in LITE_INDEX_TYPES:
        raise VectorDBError(
            f"{option} {index_type} is not supported by milvus-lite: the index "
            "build fails in the background and every search would silently scan "
            f"all vectors. Use {option} HNSW (or "
            f"{', '.join(sorted(LITE_INDEX_TYPES - {'HNSW'}))}) with the embedded "
            f"engine, or run a real Milvus server and pass --vdb-host/--vdb-port "
            f"to benchmark {index_type}."
        )


def build_index_params(
    index_type: str,
    *,
    hnsw_m: int = 16,
    ef_construction: int = 200,
    nlist: int = 128,
    max_degree: int = 16,
    search_list_size: int = 200,
    inline_pq: int = 16,
) -> dict[str, Any]:
    """Index build parameters in the form Milvus expects for ``index_type``."""
    if index_type == "HNSW":
        return {"M": hnsw_m, "efConstruction": ef_construction}
    if index_type in ("IVF_FLAT", "IVF_SQ8"):
        return {"nlist": nlist}
    if index_type == "DISKANN":
        return {"max_degree": max_degree, "search_list_size": search_list_size}
    if index_type == "AISAQ":
        return {
            "inline_pq": inline_pq,
            "max_degree": max_degree,
            "search_list_size": search_list_size,
        }
    return {}


def build_search_params(
    index_type: str,
    *,
    search_ef: int = 64,
    nprobe: int = 16,
    search_list: int = 100,
) -> dict[str, Any]:
    """Per-index search knobs (HNSW: ef, IVF: nprobe, DiskANN/AISAQ: search_list)."""
    if index_type == "HNSW":
        return {"ef": search_ef}
    if index_type in ("IVF_FLAT", "IVF_SQ8"):
        return {"nprobe": nprobe}
    if index_type in ("DISKANN", "AISAQ"):
        return {"search_list": search_list}
    return {}

