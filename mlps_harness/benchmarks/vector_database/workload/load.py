"""``load``: create the collection, build the index, insert the seeded vectors."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

from . import backend
from .dataset import DatasetSpec, iter_chunks
from .options import (
    DEFAULT_COLLECTION,
    DEFAULT_DATA_SEED,
    VectorDBError,
    build_index_params,
    check_index_supported_by_engine,
    check_index_type,
    check_metric_type,
    check_positive,
)
from .server import MilvusEndpoint


def load_collection(
    endpoint: MilvusEndpoint,
    *,
    collection: str = DEFAULT_COLLECTION,
    num_vectors: int,
    dimension: int,
    distribution: str = "uniform",
    seed: int = DEFAULT_DATA_SEED,
    index_type: str = "HNSW",
    metric_type: str = "COSINE",
    index_params: Optional[dict[str, Any]] = None,
    batch_size: int = 1000,
    chunk_size: int = 10000,
    num_shards: int = 1,
    force: bool = False,
    index_timeout_s: float = 600.0,
    output_dir: Optional[str | Path] = None,
    log: Any = print,
) -> dict[str, Any]:
    """Create and fill ``collection`` on ``endpoint``; return a load report dict.

    Steps: refuse an existing collection unless ``force``; create the schema
    and index on the empty collection; insert chunks of seeded normalised
    vectors (ids ``0..num_vectors-1``); flush; check the row count; wait
    until the index covers every row and the collection is loaded (which
    is when milvus-lite really builds it). ``index_params`` defaults to
    :func:`options.build_index_params` for the index type. If ``output_dir``
    is given, ``load_summary.json`` is written there.
    """
    spec = DatasetSpec(num_vectors=num_vectors, dimension=dimension,
                       distribution=distribution, seed=seed)
    index_type = check_index_type(index_type)
    metric_type = check_metric_type(metric_type)
    check_positive("--batch-size", batch_size, "integer")
    check_positive("--chunk-size", chunk_size, "integer")
    check_positive("--num-shards", num_shards, "integer")
    params = dict(index_params) if index_params is not None else build_index_params(index_type)

    client = backend.connect(endpoint)
    try:
        engine = backend.detect_engine(client)
        check_index_supported_by_engine(index_type, engine)
        if client.has_collection(collection):
            if not force:
                raise VectorDBError(
                    f"collection {collection!r} already exists at {endpoint.host}:{endpoint.port}; "
                    "pass --force to drop and reload it, or choose another --collection."
                )
            log(f"dropping existing collection {collection!r} (--force)")
            client.drop_collection(collection)

        started = time.perf_counter()
        backend.create_collection(client, collection, spec, index_type, metric_type, params, num_shards)
        inserted = 0
        for ids, vectors in iter_chunks(spec, chunk_size):
            inserted += backend.insert_rows(client, collection, ids, vectors, batch_size)
            log(f"inserted {inserted}/{spec.num_vectors} vectors")
        insert_seconds = time.perf_counter() - started
        client.flush(collection)
        rows = backend.row_count(client, collection)
        if rows != spec.num_vectors:
            raise VectorDBError(
                f"collection {collection!r} reports {rows} rows after flush but "
                f"{spec.num_vectors} were inserted; reload with --force."
            )
        index_started = time.perf_counter()
        index_info = backend.wait_until_indexed(client, collection, rows, index_timeout_s)
        backend.load_and_build(client, collection, index_timeout_s)
        index_seconds = time.perf_counter() - index_started
        total_seconds = time.perf_counter() - started
    finally:
        client.close()

    report: dict[str, Any] = {
        "engine": engine,
        "host": endpoint.host,
        "port": endpoint.port,
        "collection": collection,
        **spec.to_dict(),
        "inserted_vectors": rows,
        "index_type": index_type,
        "metric_type": metric_type,
        "index_params": params,
        "index_state": index_info.get("state"),
        "num_shards": num_shards,
        "batch_size": batch_size,
        "chunk_size": chunk_size,
        "insert_seconds": round(insert_seconds, 3),
        "index_build_seconds": round(index_seconds, 3),
        "load_seconds": round(total_seconds, 3),
    }
    if output_dir is not None:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "load_summary.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
