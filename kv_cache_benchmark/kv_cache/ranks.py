"""Per-rank figures and their multi-rank aggregation (as MLPerf v3 defines it).

A multi-rank run launches one process per rank with its own cache and output
directories and ``--seed 42+rank``. Bandwidth and storage tokens/s are summed
over ranks; device P95 latencies take the maximum over ranks.
"""
from __future__ import annotations

RANK_METRIC_KEYS = (
    "read_bandwidth_gbps", "write_bandwidth_gbps", "storage_throughput_tokens_per_sec",
    "device_read_p95_ms", "device_write_p95_ms", "storage_entries", "cpu_entries",
    "requests_completed",
)


def rank_seed(rank: int, base_seed: int = 42) -> int:
    """The seed a rank must use: 42 + rank under the MLPerf rules."""
    return base_seed + rank


def rank_metrics(results: dict) -> dict:
    """Headline figures of one rank's result dict; missing keys default to 0."""
    summary = results.get("summary") or {}
    stats = summary.get("cache_stats") or {}
    return {
        "read_bandwidth_gbps": float(stats.get("tier_storage_read_bandwidth_gbps", 0.0)),
        "write_bandwidth_gbps": float(stats.get("tier_storage_write_bandwidth_gbps", 0.0)),
        "storage_throughput_tokens_per_sec":
            float(summary.get("storage_throughput_tokens_per_sec", 0.0)),
        "device_read_p95_ms": float(stats.get("storage_read_device_p95_ms", 0.0)),
        "device_write_p95_ms": float(stats.get("storage_write_device_p95_ms", 0.0)),
        "storage_entries": int(stats.get("storage_entries", 0)),
        "cpu_entries": int(stats.get("cpu_entries", 0)),
        "requests_completed": int(results.get("requests_completed", 0)),
    }


def aggregate_ranks(per_rank: list[dict]) -> dict:
    """Combine rank results: sums for rates, max for device P95s."""
    metrics = [rank_metrics(result) for result in per_rank]
    total = lambda key: sum(m[key] for m in metrics)  # noqa: E731
    worst = lambda key: max((m[key] for m in metrics), default=0.0)  # noqa: E731
    return {
        "aggregated_read_bandwidth_gbps": total("read_bandwidth_gbps"),
        "aggregated_write_bandwidth_gbps": total("write_bandwidth_gbps"),
        "aggregated_storage_throughput_tokens_per_sec": total("storage_throughput_tokens_per_sec"),
        "aggregated_device_read_p95_ms": worst("device_read_p95_ms"),
        "aggregated_device_write_p95_ms": worst("device_write_p95_ms"),
        "rank_count": len(metrics),
        "cpu_tier_ranks": sum(1 for m in metrics if m["storage_entries"] == 0),
    }
