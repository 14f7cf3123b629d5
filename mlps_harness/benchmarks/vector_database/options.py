"""The vector database options, declared once: `FLAGS` are shared by the suite (`--vdb-*`, this module's
`add_options`) and the workload CLI (`python -m mlps_harness.benchmarks.vector_database.workload`, which also
accepts upstream's bare names such as `--num-vectors` and `--batch-size`).

Kept light (no pytest, no workload import): pytest imports it at every start.
"""

from __future__ import annotations

from typing import Any

from mlps_harness.argtypes import port_number, positive_float, positive_int
from mlps_harness.flags import Flag, FlagSet

DEFAULT_COLLECTION = "mlps_vectordb"
DEFAULT_MILVUS_PORT = 19530

FLAGS = FlagSet(prefix="vdb-", label="vectordb", flags=(
    Flag("vdb-host", aliases=("--host",), metavar="HOST", help="host of a running Milvus server",
         default_text="none: the embedded milvus-lite server, its data under --data-dir"),
    Flag("vdb-port", aliases=("--port",), type=port_number, metavar="PORT", default_text=str(DEFAULT_MILVUS_PORT),
         help="port of the Milvus server"),
    Flag("index-type", default="HNSW", metavar="INDEX",
         help="HNSW, DISKANN, AISAQ (CLOSED); IVF_FLAT, IVF_SQ8, FLAT (OPEN). milvus-lite builds HNSW, IVF_FLAT, "
              "IVF_SQ8 and FLAT only"),
    Flag("metric-type", default="COSINE", metavar="METRIC", help="COSINE, L2 or IP"),
    Flag("num-vectors", type=positive_int, default=1_000_000, default_text="1,000,000", metavar="N",
         help="vectors to load", suite_default="2,000 on milvus-lite, 1,000,000 on a Milvus server"),
    Flag("dimension", aliases=("--vector-dim",), type=positive_int, default=1536, metavar="D",
         help="vector dimension", suite_default="32 on milvus-lite, 1536 on a Milvus server"),
    Flag("distribution", default="uniform", metavar="NAME", help="uniform, normal or zipfian"),
    Flag("runtime", type=positive_float, default_text="60", metavar="SECONDS", help="seconds of searching per run",
         suite_default="3 on milvus-lite, 60 on a Milvus server; CLOSED needs >= 30"),
    Flag("num-query-processes", aliases=("--processes",), suite_name="--vdb-query-processes", type=positive_int,
         default=1, metavar="P", help="query processes per run", suite_default="--num-processes or 1"),
    Flag("batch-size", type=positive_int, default=1, metavar="B", help="query vectors per search call"),
    Flag("search-ef", type=positive_int, default=64, metavar="EF", help="HNSW search ef"),
    Flag("collection", aliases=("--collection-name",), default=DEFAULT_COLLECTION, metavar="NAME",
         help="collection name"),
    Flag("force", action="store_true",
         help="drop and reload the collection if it exists (the suite's embedded default always does)"),
))


def add_options(group: Any) -> None:
    """Vector database suite options (`pytest suites/vector_database`); `--loops` sets the number of runs (no warm-up).

    Without any of them the suite runs the embedded default: milvus-lite, HNSW, 2,000 x 32-d, 5 runs of 3 s.
    """
    FLAGS.add_to_suite(group.addoption)
