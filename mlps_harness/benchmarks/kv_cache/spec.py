"""Registration of the KV cache benchmark (kv_cache_benchmark/kv-cache.py, one process per rank)."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.spec import BenchmarkSpec

_HERE = "mlps_harness.benchmarks.kv_cache"

SPEC = BenchmarkSpec(
    name="kv_cache",
    path_layouts=(("model", "command"),),
    rule_modules=(f"{_HERE}.rules_run", f"{_HERE}.rules_results"),
    parse_hooks=(f"{_HERE}.documents:parse_kv_cache",),
    ruleset_dir=Path(__file__).parent / "rulesets",
    add_options=f"{_HERE}.options:add_options",
    metrics=f"{_HERE}.metrics",
    rule_notes=(
        ('**KV cache (H7.x, v3.0 only)**: the normative Rules.md §6 is followed; generation mode `none` is '
         'what the CLOSED Options require, so it is not OPEN (the stale run checker said it was), and the '
         "benchmark is not treated as a preview (`preview: false` in the ruleset; `true` restores upstream's "
         '"always OPEN").'),
        ('**KV cache, upstream v3.0 files**: `summary.json` and the older `kvcache_run_summary_<datetime>.json` are '
         'both read (H7.17 warns that the report generator reads only `summary.json` and names the rename); trials '
         "are rebuilt from the rank result files and the Options' parameters from the metadata's "
         '`command_output_files`; a parameter no file records is named (not applicable), never a failure. §6.6.1 is '
         'an allow-list (H7.6): anything beyond the topology and paths, or a wrapper flag beyond the seven Option '
         "flags, is OPEN; upstream's `args` hold CLI defaults the wrapper does not pass, so they are not judged. "
         '§6.4.1 (H7.10): unset or overlapping cache/results dirs are INVALID, unrecorded filesystems a warning.'),
    ),
    description="LLM inference KV cache offload to storage",
)
