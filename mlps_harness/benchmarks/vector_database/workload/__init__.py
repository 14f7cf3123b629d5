"""Vector database workload (MLPerf Storage ``vectordb``) on Milvus / milvus-lite.

Command line::

    python -m mlps_harness.benchmarks.vector_database.workload datasize --num-vectors N --dimension D --index-type HNSW
    python -m mlps_harness.benchmarks.vector_database.workload load --data-dir DIR --num-vectors N --dimension D \\
        [--distribution uniform|normal|zipfian] [--index-type HNSW|IVF_FLAT|IVF_SQ8|FLAT|DISKANN|AISAQ] \\
        [--metric-type COSINE|L2|IP] [--force]
    python -m mlps_harness.benchmarks.vector_database.workload run --data-dir DIR --output-dir OUT \\
        [--runtime S | --queries Q] [--num-query-processes P] [--batch-size B]

``--data-dir`` starts an embedded ``milvus-lite server`` on a free loopback
port for the duration of the command; ``--vdb-host/--vdb-port`` use a running
Milvus instead (needed for DISKANN and AISAQ, which milvus-lite cannot
build). User errors print one ``error:`` line and exit with status 2.

Python API (plain arguments, for the suite and for pytest fixtures)::

    from mlps_harness.benchmarks.vector_database.workload import (
        EmbeddedMilvus, MilvusEndpoint, load_collection, run_benchmark,
        estimate_index_bytes, result_dir, VectorDBError)

    with EmbeddedMilvus(data_dir) as endpoint:            # -> MilvusEndpoint(host, port, data_dir)
        load_collection(endpoint, collection="c", num_vectors=20_000, dimension=128,
                        index_type="HNSW", force=True)      # -> load report dict
        for _ in range(5):
            run_benchmark(endpoint, collection="c", runtime_s=10,
                          output_dir=result_dir(root, "milvus-lite", "HNSW", "run"))

- :func:`estimate_index_bytes` (``datasize``): N x dim x 4 x index overhead
  (DISKANN 1.3, HNSW 1.5, AISAQ 0.15, IVF_FLAT 1.05, IVF_SQ8 0.4, FLAT 1.0);
  never multiplied by shards.
- :func:`load_collection`: ``id`` INT64 + ``vector`` FLOAT_VECTOR(dim); index
  created first; seeded L2-normalised vectors with ids ``0..N-1`` inserted in
  chunks; flush; row count checked; waits until the index covers every row.
  The dataset description (N, dim, distribution, seed) is stored as a
  collection property so ``run`` can rebuild the exact ground truth.
- :func:`run_benchmark`: P spawned query processes, each timing only the
  pymilvus ``search`` call; recall@k against numpy ground truth (untimed);
  writes ``config.json``, ``milvus_benchmark_p<i>.csv``, ``statistics.json``,
  ``recall_stats.json`` and ``summary.json`` (``throughput_qps``,
  ``mean/p95/p99/p999_latency_ms``, ``recall``, ``dimension``,
  ``num_vectors``, ``inserted_vectors``, ``index_type``, ``metric_type``,
  ``engine``, ``disk_io`` ...) and returns the summary dict.
- :func:`result_dir`: ``<root>/vector_database/<engine>/<INDEX>/<command>/<datetime>``.
"""

from __future__ import annotations

from .dataset import DatasetSpec, exact_top_k, generate_queries, generate_vectors
from .datasize import datasize_report, estimate_index_bytes
from .load import load_collection
from .options import INDEX_TYPES, LITE_INDEX_TYPES, METRIC_TYPES, VectorDBError
from .results import result_dir
from .run import run_benchmark
from .server import EmbeddedMilvus, MilvusEndpoint, milvus_endpoint

__all__ = [
    "DatasetSpec", "EmbeddedMilvus", "INDEX_TYPES", "LITE_INDEX_TYPES", "METRIC_TYPES",
    "MilvusEndpoint", "VectorDBError", "datasize_report", "estimate_index_bytes", "exact_top_k",
    "generate_queries", "generate_vectors", "load_collection", "milvus_endpoint", "result_dir",
    "run_benchmark",
]
