"""A thin pymilvus wrapper: the operations load and run need, nothing more.

pymilvus is imported lazily so ``datasize`` works without the extra.
"""

from __future__ import annotations

import json
import time
from typing import Any, Optional

import numpy as np

from .dataset import DatasetSpec
from .options import (
    DATASET_PROPERTY,
    ENGINE_MILVUS,
    ENGINE_MILVUS_LITE,
    ID_FIELD,
    VECTOR_FIELD,
    VectorDBError,
)
from .server import MilvusEndpoint, how_to_start_milvus, require_reachable


def import_pymilvus() -> Any:
    """Import pymilvus or explain how to install it."""
    try:
        import pymilvus
    except ImportError as error:  # pragma: no cover - depends on the venv
        raise VectorDBError(
            "the vectordb workload needs pymilvus and milvus-lite; install the "
            "extra with `pip install 'mlps-harness[vectordb]'`."
        ) from error
    return pymilvus


def connect(endpoint: MilvusEndpoint, timeout_s: float = 10.0) -> Any:
    """A ``MilvusClient`` for ``endpoint``; clear error if unreachable."""
    require_reachable(endpoint)
    pymilvus = import_pymilvus()
    try:
        return pymilvus.MilvusClient(uri=endpoint.uri, timeout=timeout_s)
    except pymilvus.MilvusException as error:
        raise VectorDBError(
            f"cannot connect to Milvus at {endpoint.host}:{endpoint.port}: "
            f"{error}. {how_to_start_milvus(endpoint.port)}"
        ) from error


def detect_engine(client: Any) -> str:
    """``milvus-lite`` when the server says so, else ``milvus``."""
    try:
        version = str(client.get_server_version())
    except Exception:  # noqa: BLE001 - an old server without the RPC is a real Milvus
        return ENGINE_MILVUS
    return ENGINE_MILVUS_LITE if "lite" in version.lower() else ENGINE_MILVUS


def create_collection(client: Any, name: str, spec: DatasetSpec, index_type: str,
                      metric_type: str, index_params: dict[str, Any], num_shards: int = 1) -> None:
    """Create ``id INT64`` + ``vector FLOAT_VECTOR(dim)`` with its index, tagged with ``spec``."""
    pymilvus = import_pymilvus()
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(ID_FIELD, pymilvus.DataType.INT64, is_primary=True)
    schema.add_field(VECTOR_FIELD, pymilvus.DataType.FLOAT_VECTOR, dim=spec.dimension)
    index = client.prepare_index_params()
    index.add_index(field_name=VECTOR_FIELD, index_type=index_type,
                    metric_type=metric_type, params=index_params)
    client.create_collection(name, schema=schema, index_params=index, shards_num=num_shards)
    client.alter_collection_properties(name, properties={DATASET_PROPERTY: json.dumps(spec.to_dict())})
    # Insert into a released collection: milvus-lite then builds no index in
    # the background, and the later load_collection() builds it synchronously.
    client.release_collection(name)


def load_and_build(client: Any, name: str, timeout_s: float) -> None:
    """Load the collection into memory; returns once its index is usable.

    On milvus-lite ``describe_index`` always says "Finished", even while a
    background build runs and searches silently scan every row; ``load``
    is what builds missing segment indexes synchronously, so call this
    after the final flush and before any timing.
    """
    client.load_collection(name, timeout=timeout_s)


def insert_rows(client: Any, name: str, ids: np.ndarray, vectors: np.ndarray, batch_size: int) -> int:
    """Insert ``ids``/``vectors`` in batches; returns the number of rows inserted."""
    inserted = 0
    for start in range(0, len(ids), batch_size):
        rows = [{ID_FIELD: int(row_id), VECTOR_FIELD: vector}
                for row_id, vector in zip(ids[start:start + batch_size], vectors[start:start + batch_size])]
        result = client.insert(name, rows)
        inserted += int(result.get("insert_count", len(rows))) if isinstance(result, dict) else len(rows)
    return inserted


def row_count(client: Any, name: str) -> int:
    """Rows the server reports for the collection (after flush)."""
    return int(client.get_collection_stats(name).get("row_count", 0))


def wait_until_indexed(client: Any, name: str, expected_rows: int, timeout_s: float = 600.0,
                       poll_s: float = 0.25) -> dict[str, Any]:
    """Poll ``describe_index`` until every row is indexed; raise on failure or timeout."""
    deadline = time.monotonic() + timeout_s
    info: dict[str, Any] = {}
    while time.monotonic() < deadline:
        info = dict(client.describe_index(name, VECTOR_FIELD) or {})
        state = str(info.get("state", ""))
        if "fail" in state.lower():
            raise VectorDBError(
                f"building the {info.get('index_type')} index on {name!r} failed: "
                f"{info.get('index_state_fail_reason') or state}. Try --index-type HNSW."
            )
        pending = int(info.get("pending_index_rows", 0) or 0)
        indexed = int(info.get("indexed_rows", 0) or 0)
        if pending == 0 and indexed >= expected_rows and state in ("Finished", "3", ""):
            return info
        time.sleep(poll_s)
    raise VectorDBError(
        f"the index on {name!r} was not built within {timeout_s:.0f} s "
        f"(last status: {info}); raise --index-timeout or use a smaller --num-vectors."
    )


def collection_info(client: Any, name: str) -> dict[str, Any]:
    """Dimension, index, metric and stored dataset spec of an existing collection."""
    if not client.has_collection(name):
        existing = ", ".join(client.list_collections()) or "none"
        raise VectorDBError(
            f"collection {name!r} does not exist (existing: {existing}); run "
            f"`load --collection {name} ...` first or pass the right --collection."
        )
    description = client.describe_collection(name)
    dimension: Optional[int] = None
    for field in description.get("fields", []):
        if field.get("name") == VECTOR_FIELD:
            dimension = int(field.get("params", {}).get("dim", 0))
    if dimension is None:
        raise VectorDBError(f"collection {name!r} has no {VECTOR_FIELD!r} field; reload it with `load --force`.")
    index = dict(client.describe_index(name, VECTOR_FIELD) or {})
    raw_spec = (description.get("properties") or {}).get(DATASET_PROPERTY)
    spec = DatasetSpec.from_dict(json.loads(raw_spec)) if raw_spec else None
    return {
        "dimension": dimension,
        "index_type": index.get("index_type"),
        "metric_type": index.get("metric_type"),
        "index_params": {k: v for k, v in index.items()
                         if k not in ("index_type", "metric_type", "field_name", "index_name", "total_rows",
                                      "indexed_rows", "pending_index_rows", "state")},
        "indexed_rows": index.get("indexed_rows"),
        "dataset": spec,
    }
