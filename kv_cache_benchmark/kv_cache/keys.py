"""The documented output keys of the result JSON (upstream names plus ours).

Upstream-compatible keys keep upstream names and meanings. Keys marked
*ours* are additions; readers of upstream JSON will simply ignore them.
"""
from __future__ import annotations

from .stats import PERCENTILE_NAMES

TOP_LEVEL_KEYS = (
    "requests_completed", "total_tokens_generated", "total_storage_io_latency",
    "total_generation_latency", "end_to_end_latencies", "storage_latencies",
    "generation_latencies", "prefill_latencies", "decode_latencies",
    "throughput_timeline", "multi_turn_cache_hits", "multi_turn_cache_misses", "seed",
)
#: ours: run metadata the multi-rank suite needs (always present).
RUN_INFO_KEY = "run_info"
RUN_INFO_KEYS = (
    "schema_version", "implementation", "model", "bytes_per_token", "num_users",
    "duration_s", "generation_mode", "performance_profile", "cache_dir",
    "gpu_tier_mode", "tier_capacity_bytes", "time_to_first_io_s", "peak_rss_mb",
    "precondition_bytes", "storage_integrity_errors", "exit_reason", "request_source",
)

SUMMARY_KEYS = (
    "total_requests", "total_tokens", "elapsed_time", "avg_throughput_tokens_per_sec",
    "total_storage_io_time", "storage_throughput_tokens_per_sec", "requests_per_second",
    "end_to_end_latency_ms", "storage_io_latency_ms", "generation_latency_ms",
    "qos_metrics", "prefix_cache_stats", "autoscaling_stats", "autoscaling_summary",
    "multi_turn_stats", "cache_stats",
)
LATENCY_SUMMARY_KEYS = ("mean",) + tuple(PERCENTILE_NAMES)
QOS_CLASSES = ("interactive", "responsive", "batch")
PREFIX_CACHE_KEYS = ("prefix_hits", "prefix_misses", "system_prompt_reuse",
                     "common_phrase_reuse", "bytes_saved")

TIERS = ("gpu", "cpu", "storage")
CACHE_STATS_KEYS = (
    "cache_hit_rate", "cache_hits", "cache_misses",
    "gpu_entries", "cpu_entries", "storage_entries",
    "gpu_memory_used_gb", "cpu_memory_used_gb",
    "offloads_cpu", "offloads_storage", "prefill_writes", "decode_reads",
    "storage_health",
    *(f"tier_{t}_kv_bytes_{d}_gb" for t in TIERS for d in ("written", "read")),
    *(f"tier_{t}_{d}_bandwidth_gbps" for t in TIERS for d in ("read", "write")),
    "system_prompt_hits", "common_phrase_hits", "user_cache_hits", "multi_turn_hits",
    "total_read_bytes", "total_write_bytes", "total_read_gb", "total_write_gb",
    "read_write_ratio", "read_iops", "write_iops", "storage_tokens_processed",
)
#: ours: real rates beside the upstream counts, and tier movement (always present).
CACHE_STATS_RATE_KEYS = (
    "read_iops_per_sec", "write_iops_per_sec",
    "storage_read_iops_per_sec", "storage_write_iops_per_sec",
    "total_read_bandwidth_gbps", "total_write_bandwidth_gbps",
    "storage_read_busy_bandwidth_gbps", "storage_write_busy_bandwidth_gbps",
    "storage_read_busy_seconds", "storage_write_busy_seconds",
    "storage_read_op_bandwidth_gbps", "storage_write_op_bandwidth_gbps",
    "demotions", "evictions",
)
STORAGE_HEALTH_KEYS = ("overall_status", "criteria", "passed_count", "total_count")
CRITERION_KEYS = ("name", "target", "actual", "unit", "passed")


def tier_percentile_keys(tier: str, op: str) -> tuple[str, ...]:
    """``<tier>_<op>_<pXX>_ms`` keys: present only when that tier did that op."""
    return tuple(f"{tier}_{op}_{p}_ms" for p in PERCENTILE_NAMES)


def storage_split_percentile_keys(op: str, part: str) -> tuple[str, ...]:
    """``storage_<op>_<device|host>_<pXX>_ms`` keys: present when NVMe did ``op``."""
    return tuple(f"storage_{op}_{part}_{p}_ms" for p in PERCENTILE_NAMES)
