"""Registration of the vector database benchmark."""

from mlps_harness.benchmarks.registry import BenchmarkSpec
from mlps_harness.rules.vectordb_docs import parse_vectordb

SPEC = BenchmarkSpec(
    name="vector_database",
    path_layouts=(("engine", "index", "command"), ("command",)),
    group_fields=("engine", "index"),
    rule_modules=("mlps_harness.rules.vectordb_run", "mlps_harness.rules.vectordb_group"),
    parse_extra=parse_vectordb,
    description="Vector search on Milvus (embedded milvus-lite or a real server)",
)
