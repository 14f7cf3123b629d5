"""Vector database QPS on embedded milvus-lite: workload vs a direct pymilvus loop.

Loads 20,000 x 128-d uniform vectors under HNSW (COSINE), then measures, in
one process tree and on the same collection:

1. a plain pymilvus ``search`` loop (batch 1), before and after the workload;
2. the workload's ``run_benchmark`` (1 query process, batch 1, timed).

Prints QPS, recall@10 and the ratio workload QPS / direct QPS (the harness
should add no overhead to the measured path, so the ratio should be >= 0.9).
Figures only: nothing here asserts on timings.

    python benchmarks/vectordb_qps.py [--runtime 10] [--num-vectors 20000] [--dimension 128]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from mlps_harness.benchmarks.vector_database.workload import (
    DatasetSpec,
    EmbeddedMilvus,
    generate_queries,
    load_collection,
    run_benchmark,
)

COLLECTION = "qps_benchmark"
SEARCH_EF = 64
TOP_K = 10


def direct_search_loop(uri: str, queries: np.ndarray, runtime_s: float) -> float:
    """QPS of a bare pymilvus search loop (batch 1) over ``queries`` for ``runtime_s``."""
    from pymilvus import MilvusClient

    client = MilvusClient(uri=uri)
    client.load_collection(COLLECTION)
    params = {"metric_type": "COSINE", "params": {"ef": SEARCH_EF}}
    for warmup in range(3):
        client.search(COLLECTION, data=queries[warmup:warmup + 1], limit=TOP_K, search_params=params)
    done, started = 0, time.perf_counter()
    deadline = started + runtime_s
    while time.perf_counter() < deadline:
        index = done % len(queries)
        client.search(COLLECTION, data=queries[index:index + 1], limit=TOP_K, search_params=params,
                      output_fields=["id"])
        done += 1
    elapsed = time.perf_counter() - started
    client.close()
    return done / elapsed


def main() -> None:
    """Load, measure both ways, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--num-vectors", type=int, default=20_000)
    parser.add_argument("--dimension", type=int, default=128)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vectordb_qps_") as workdir:
        with EmbeddedMilvus(Path(workdir) / "milvus") as endpoint:
            report = load_collection(endpoint, collection=COLLECTION, num_vectors=args.num_vectors,
                                     dimension=args.dimension, index_type="HNSW", metric_type="COSINE",
                                     force=True, log=lambda message: None)
            print(f"loaded {report['inserted_vectors']} x {args.dimension}-d HNSW vectors "
                  f"in {report['load_seconds']:.1f} s (insert {report['insert_seconds']:.1f} s)")
            spec = DatasetSpec(args.num_vectors, args.dimension, "uniform", report["seed"])
            queries = generate_queries(spec, 1000)

            direct_before = direct_search_loop(endpoint.uri, queries, args.runtime)
            summary = run_benchmark(endpoint, collection=COLLECTION, output_dir=Path(workdir) / "run",
                                    runtime_s=args.runtime, batch_size=1, search_limit=TOP_K,
                                    search_ef=SEARCH_EF, log=lambda message: None)
            direct_after = direct_search_loop(endpoint.uri, queries, args.runtime)

    direct_qps = (direct_before + direct_after) / 2
    print(f"workload  : {summary['throughput_qps']:8.1f} QPS  recall@{TOP_K} {summary['recall']:.3f}  "
          f"mean {summary['mean_latency_ms']:.2f} ms  p99 {summary['p99_latency_ms']:.2f} ms  "
          f"({summary['total_queries']} queries, ef {SEARCH_EF}, batch 1, 1 process)")
    print(f"direct    : {direct_qps:8.1f} QPS  (before {direct_before:.1f}, after {direct_after:.1f})")
    print(f"ratio     : {summary['throughput_qps'] / direct_qps:.3f}  (workload / direct; target >= 0.9)")


if __name__ == "__main__":
    main()
