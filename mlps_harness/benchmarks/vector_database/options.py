"""The vector database suite's own options."""

from __future__ import annotations

from typing import Any

from mlps_harness.argtypes import port_number, positive_float, positive_int


def add_options(group: Any) -> None:
    """Vector database suite options (`pytest suites/vector_database`); `--loops` sets the number of runs (no warm-up).

    Without any of them the suite runs the embedded default: milvus-lite, HNSW, 2,000 x 32-d, 5 runs of 3 s.
    """
    add = group.addoption
    add("--vdb-host", default=None, help="vectordb: host of a running Milvus server (default: start the embedded "
                                         "milvus-lite server with its data under --data-dir)")
    add("--vdb-port", type=port_number, default=None, help="vectordb: port of the Milvus server (default 19530)")
    add("--vdb-index-type", default=None, help="vectordb: HNSW (default), DISKANN, AISAQ (CLOSED); IVF_FLAT, IVF_SQ8, "
                                           "FLAT (OPEN). milvus-lite builds HNSW, IVF_FLAT, IVF_SQ8 and FLAT only")
    add("--vdb-metric-type", default=None, help="vectordb: COSINE (default), L2 or IP")
    add("--vdb-num-vectors", type=positive_int, default=None, help="vectordb: vectors to load (default 2,000 on milvus-lite, "
                                                      "1,000,000 on a Milvus server)")
    add("--vdb-dimension", type=positive_int, default=None, help="vectordb: vector dimension (default 32 on milvus-lite, 1536 "
                                                    "on a Milvus server)")
    add("--vdb-distribution", default=None, help="vectordb: uniform (default), normal or zipfian")
    add("--vdb-runtime", type=positive_float, default=None, help="vectordb: seconds of searching per run (default 3 on "
                                                    "milvus-lite, 60 on a Milvus server; CLOSED needs >= 30)")
    add("--vdb-query-processes", type=positive_int, default=None, help="vectordb: query processes per run (default "
                                                              "--num-processes or 1)")
    add("--vdb-batch-size", type=positive_int, default=None, help="vectordb: query vectors per search call (default 1)")
    add("--vdb-search-ef", type=positive_int, default=None, help="vectordb: HNSW search ef (default 64)")
    add("--vdb-collection", default=None, help="vectordb: collection name (default mlps_vectordb)")
    add("--vdb-force", action="store_true", default=False,
        help="vectordb: drop and reload the collection if it exists (implied by the embedded default)")
