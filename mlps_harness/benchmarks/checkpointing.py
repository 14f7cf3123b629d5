"""Registration of the checkpointing benchmark (our MPI checkpoint workload, or upstream's DLIO branch)."""

from mlps_harness.benchmarks.registry import BenchmarkSpec

SPEC = BenchmarkSpec(
    name="checkpointing",
    path_layouts=(("model",), ("model", "command")),
    rule_modules=(),
    description="LLM checkpoint write and read-back (llama3-8b, 70b, 405b, 1t)",
)
