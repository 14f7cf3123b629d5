"""Registration of the KV cache benchmark (kv_cache_benchmark/kv-cache.py, one process per rank)."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.spec import BenchmarkSpec

_HERE = "mlps_harness.benchmarks.kv_cache"

SPEC = BenchmarkSpec(
    name="kv_cache",
    path_layouts=(("model", "command"),),
    rule_modules=(f"{_HERE}.rules_run",),
    parse_hooks=(f"{_HERE}.documents:parse_kv_cache",),
    ruleset_dir=Path(__file__).parent / "rulesets",
    add_options=f"{_HERE}.options:add_options",
    metrics=f"{_HERE}.metrics",
    rule_notes=(
        ('**KV cache (H7.x, v3.0 only)**: the normative Rules.md §6 is followed; generation mode `none` is '
         'what the CLOSED Options require, so it is not OPEN (the stale run checker said it was), and the '
         "benchmark is not treated as a preview (`preview: false` in the ruleset; `true` restores upstream's "
         '"always OPEN").'),
    ),
    description="LLM inference KV cache offload to storage",
)
