"""Registration of the vector database benchmark (Milvus / embedded milvus-lite)."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.spec import BenchmarkSpec

_HERE = "mlps_harness.benchmarks.vector_database"

SPEC = BenchmarkSpec(
    name="vector_database",
    path_layouts=(("engine", "index", "command"), ("command",)),
    group_fields=("engine", "index"),
    rule_modules=(f"{_HERE}.rules_run", f"{_HERE}.rules_group"),
    parse_hooks=(f"{_HERE}.documents:parse_vectordb",),
    ruleset_dir=Path(__file__).parent / "rulesets",
    add_options=f"{_HERE}.options:add_options",
    metrics=f"{_HERE}.metrics",
    rule_notes=(
        ('**Vector database (H5.x)**: runs on milvus-lite are OPEN (an embedded single-process engine is not a'
         ' storage system under test); a runtime under 30 s is INVALID in v3.0 and OPEN in v2.0 (which had no '
         'such check).'),
    ),
    description="Vector search on Milvus (embedded milvus-lite or a real server)",
)
