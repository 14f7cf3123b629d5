"""Registration of the vector database benchmark."""

from mlps_harness.benchmarks.registry import BenchmarkSpec

SPEC = BenchmarkSpec(
    name="vector_database",
    path_layouts=(("engine", "index", "command"), ("command",)),
    group_fields=("engine", "index"),
    rule_modules=(),
    description="Vector search on Milvus (embedded milvus-lite or a real server)",
)
