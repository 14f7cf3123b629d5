"""Registration of the KV cache benchmark."""

from mlps_harness.benchmarks.registry import BenchmarkSpec

SPEC = BenchmarkSpec(
    name="kv_cache",
    path_layouts=(("model", "command"),),
    rule_modules=(),
    description="LLM inference KV cache offload to storage",
)
