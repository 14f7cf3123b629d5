"""Turn a finished run into the result dict and the console assessment."""
from __future__ import annotations

import numpy as np

from .benchmark import KVCacheBenchmark
from .keys import QOS_CLASSES, TIERS
from .procinfo import peak_rss_mb
from .stats import PERCENTILE_NAMES, latency_summary_ms
from .workload import QOS_SLA_P95_MS, QoSClass

GIB = 1024 ** 3
SCHEMA_VERSION = "mlps-kvcache-1"


def _div(numerator: float, denominator: float) -> float:
    return float(numerator) / denominator if denominator else 0.0


def _qos_metrics(by_qos: dict[str, list[float]]) -> dict:
    metrics = {}
    for name in QOS_CLASSES:
        samples = by_qos.get(name, [])
        if not samples:
            metrics[name] = {"no_data": True}
            continue
        values_ms = np.asarray(samples) * 1000.0
        target = QOS_SLA_P95_MS[QoSClass[name.upper()]]
        p95 = float(np.percentile(values_ms, 95))
        compliance = float((values_ms <= target).mean())
        metrics[name] = {
            "total_requests": len(samples),
            "latency_ms": {"mean": float(values_ms.mean()),
                           "p50": float(np.percentile(values_ms, 50)), "p95": p95,
                           "p99": float(np.percentile(values_ms, 99)),
                           "max": float(values_ms.max())},
            "sla": {"target_p95_ms": target, "actual_p95_ms": p95,
                    "compliance": compliance, "met": compliance >= 0.95},
        }
    return metrics


def _percentile_fields(cache_stats: dict, counters) -> None:
    """Add per-tier and NVMe device/host percentile keys where samples exist."""
    for tier in TIERS:
        for op in ("read", "write"):
            samples = counters.latency.get((tier, op))
            if samples:
                summary = latency_summary_ms(samples)
                for name in PERCENTILE_NAMES:
                    cache_stats[f"{tier}_{op}_{name}_ms"] = summary[name]
    for op in ("read", "write"):
        for part, source in (("device", counters.device), ("host", counters.host)):
            samples = source.get(("storage", op))
            if samples:
                summary = latency_summary_ms(samples)
                for name in PERCENTILE_NAMES:
                    cache_stats[f"storage_{op}_{part}_{name}_ms"] = summary[name]


def _storage_health(cache_stats: dict, profile: str) -> dict:
    """The upstream pass/fail criteria for the chosen performance profile."""
    criteria = []

    def add(name: str, target: float, actual: float, unit: str, passed: bool) -> None:
        criteria.append({"name": name, "target": target, "actual": actual,
                         "unit": unit, "passed": bool(passed)})

    if profile == "throughput":
        read_bw = cache_stats["total_read_bandwidth_gbps"]
        write_bw = cache_stats["total_write_bandwidth_gbps"]
        add("Read Bandwidth", 0.0, read_bw, "GiB/s", read_bw > 0)
        add("Write Bandwidth", 0.0, write_bw, "GiB/s", write_bw > 0)
    else:
        for op, target in (("write", 500.0), ("read", 200.0)):
            actual = cache_stats.get(f"storage_{op}_device_p95_ms")
            label = "device"
            if actual is None:
                label = "total"
                actual = max((cache_stats.get(f"{t}_{op}_p95_ms", 0.0) for t in TIERS),
                             default=0.0)
            add(f"Storage {op.title()} P95 ({label})", target, actual, "ms", actual < target)
        cpu_p95 = [cache_stats[k] for k in ("cpu_read_p95_ms", "cpu_write_p95_ms")
                   if k in cache_stats]
        if cpu_p95:
            add("CPU Tier P95", 150.0, max(cpu_p95), "ms", max(cpu_p95) < 150.0)
        hit_rate = cache_stats["cache_hit_rate"]
        add("Cache Hit Rate", 0.30, hit_rate, "ratio", hit_rate > 0.30)
    passed = sum(c["passed"] for c in criteria)
    return {"overall_status": "PASS" if passed == len(criteria) else "FAIL",
            "criteria": criteria, "passed_count": passed, "total_count": len(criteria)}


def _cache_stats(bench: KVCacheBenchmark, profile: str) -> dict:
    counters, cache, rec = bench.cache.counters, bench.cache, bench.recorder
    elapsed = bench.elapsed
    hits, misses = counters.counts["cache_hits"], counters.counts["cache_misses"]
    read_bytes = sum(counters.bytes[(t, "read")] for t in TIERS)
    write_bytes = sum(counters.bytes[(t, "write")] for t in TIERS)
    read_ops = sum(counters.ops[(t, "read")] for t in TIERS)
    write_ops = sum(counters.ops[(t, "write")] for t in TIERS)
    stats = {
        "cache_hit_rate": _div(hits, hits + misses), "cache_hits": hits, "cache_misses": misses,
        **{f"{t}_entries": cache.entry_count(t) for t in TIERS},
        "gpu_memory_used_gb": cache.used_bytes("gpu") / GIB,
        "cpu_memory_used_gb": cache.used_bytes("cpu") / GIB,
        "offloads_cpu": counters.counts["offloads_cpu"],
        "offloads_storage": counters.counts["offloads_storage"],
        "prefill_writes": rec.counts["prefill_writes"],
        "decode_reads": rec.counts["decode_reads"],
    }
    for tier in TIERS:
        stats[f"tier_{tier}_kv_bytes_written_gb"] = counters.bytes[(tier, "write")] / GIB
        stats[f"tier_{tier}_kv_bytes_read_gb"] = counters.bytes[(tier, "read")] / GIB
    for tier in TIERS:
        stats[f"tier_{tier}_read_bandwidth_gbps"] = _div(counters.bytes[(tier, "read")] / GIB, elapsed)
        stats[f"tier_{tier}_write_bandwidth_gbps"] = _div(counters.bytes[(tier, "write")] / GIB, elapsed)
    stats.update({
        "system_prompt_hits": rec.counts["system_prompt_hits"], "common_phrase_hits": 0,
        "user_cache_hits": rec.counts["user_cache_hits"],
        "multi_turn_hits": rec.counts["multi_turn_hits"],
        "total_read_bytes": read_bytes, "total_write_bytes": write_bytes,
        "total_read_gb": read_bytes / GIB, "total_write_gb": write_bytes / GIB,
        "read_write_ratio": _div(read_bytes, write_bytes),
        "read_iops": read_ops, "write_iops": write_ops,
        "storage_tokens_processed": counters.counts["storage_tokens_processed"],
        "storage_read_op_bandwidth_gbps": _div(counters.bytes[("storage", "read")] / GIB,
                                               counters.op_seconds[("storage", "read")]),
        "storage_write_op_bandwidth_gbps": _div(counters.bytes[("storage", "write")] / GIB,
                                                counters.op_seconds[("storage", "write")]),
        # ours: block movement between tiers
        "demotions": counters.counts["demotions"], "evictions": counters.counts["evictions"],
        # ours: rates as rates
        "read_iops_per_sec": _div(read_ops, elapsed), "write_iops_per_sec": _div(write_ops, elapsed),
        "storage_read_iops_per_sec": _div(counters.ops[("storage", "read")], elapsed),
        "storage_write_iops_per_sec": _div(counters.ops[("storage", "write")], elapsed),
        "total_read_bandwidth_gbps": _div(read_bytes / GIB, elapsed),
        "total_write_bandwidth_gbps": _div(write_bytes / GIB, elapsed),
        "storage_read_busy_seconds": counters.read_busy.busy_seconds,
        "storage_write_busy_seconds": counters.write_busy.busy_seconds,
        "storage_read_busy_bandwidth_gbps": _div(counters.bytes[("storage", "read")] / GIB,
                                                 counters.read_busy.busy_seconds),
        "storage_write_busy_bandwidth_gbps": _div(counters.bytes[("storage", "write")] / GIB,
                                                  counters.write_busy.busy_seconds),
    })
    _percentile_fields(stats, counters)
    stats["storage_health"] = _storage_health(stats, profile)
    return stats


def build_results(bench: KVCacheBenchmark) -> dict:
    """The full result dict written to ``--output`` (upstream keys + ours)."""
    config, rec = bench.config, bench.recorder
    lists = {name: list(rec.lists.get(name, [])) for name in (
        "end_to_end_latencies", "storage_latencies", "generation_latencies",
        "prefill_latencies", "decode_latencies")}
    results = {
        "requests_completed": rec.completed,
        "total_tokens_generated": rec.tokens_generated,
        "total_storage_io_latency": float(sum(lists["storage_latencies"])),
        "total_generation_latency": float(sum(lists["generation_latencies"])),
        **lists,
        "throughput_timeline": [],
        "multi_turn_cache_hits": rec.counts["multi_turn_hits"],
        "multi_turn_cache_misses": rec.counts["multi_turn_misses"],
        "seed": bench.seed,
    }
    if rec.completed:
        elapsed, tokens = bench.elapsed, rec.tokens_generated
        storage_time = results["total_storage_io_latency"]
        mt_hits, mt_misses = results["multi_turn_cache_hits"], results["multi_turn_cache_misses"]
        prefix = {"prefix_hits": rec.counts["prefix_hits"],
                  "prefix_misses": rec.counts["prefix_misses"],
                  "system_prompt_reuse": rec.counts["system_prompt_reuse"],
                  "common_phrase_reuse": 0,
                  "bytes_saved": rec.counts["prefix_bytes_saved"]} if config.prefix_caching else {}
        results["summary"] = {
            "total_requests": rec.completed, "total_tokens": tokens, "elapsed_time": elapsed,
            "avg_throughput_tokens_per_sec": _div(tokens, elapsed),
            "total_storage_io_time": storage_time,
            "storage_throughput_tokens_per_sec": _div(tokens, storage_time),
            "requests_per_second": _div(rec.completed, elapsed),
            "end_to_end_latency_ms": latency_summary_ms(lists["end_to_end_latencies"]),
            "storage_io_latency_ms": latency_summary_ms(lists["storage_latencies"]),
            "generation_latency_ms": latency_summary_ms(lists["generation_latencies"]),
            "qos_metrics": _qos_metrics(rec.by_qos),
            "prefix_cache_stats": prefix,
            "autoscaling_stats": [], "autoscaling_summary": None,
            "multi_turn_stats": {"cache_hits": mt_hits, "cache_misses": mt_misses,
                                 "hit_rate": _div(mt_hits, mt_hits + mt_misses)},
            "cache_stats": _cache_stats(bench, config.performance_profile),
        }
    results["run_info"] = {
        "schema_version": SCHEMA_VERSION, "implementation": "mlps-harness kv_cache",
        "model": config.model, "bytes_per_token": bench.model.bytes_per_token,
        "num_users": config.num_users, "duration_s": config.duration,
        "generation_mode": config.generation_mode,
        "performance_profile": config.performance_profile,
        "cache_dir": str(bench.cache_dir), "gpu_tier_mode": "simulated",
        "tier_capacity_bytes": {t.name: t.capacity_bytes for t in bench.cache.tiers},
        "time_to_first_io_s": bench.time_to_first_io_s, "peak_rss_mb": peak_rss_mb(),
        "precondition_bytes": bench.precondition_bytes,
        "storage_integrity_errors": bench.nvme.integrity_errors,
        "exit_reason": "max_requests" if bench.done.is_set() else "duration",
        "request_source": {"kind": config.request_source, "request_rate": config.request_rate,
                           "dataset_path": str(config.dataset_path) if config.dataset_path else None,
                           "conversations": len(config.conversations or []),
                           "burst_trace_path": str(config.burst_trace_path) if config.burst_trace_path else None,
                           "trace_rows": len(config.trace_rows or []), "trace_speedup": config.trace_speedup,
                           "replay_cycles": config.replay_cycles,
                           "config_file": str(config.config_file) if config.config_file else None},
    }
    return results


def format_assessment(results: dict) -> str:
    """Console report: PASS/FAIL banner, then performance, latency, tiers."""
    summary = results.get("summary")
    if not summary:
        return "### STORAGE PERFORMANCE ASSESSMENT: FAIL ###\nNo request completed.\n"
    stats = summary["cache_stats"]
    health = stats["storage_health"]
    lines = [f"### STORAGE PERFORMANCE ASSESSMENT: {health['overall_status']} ###"]
    for c in health["criteria"]:
        mark = "PASS" if c["passed"] else "FAIL"
        lines.append(f"  [{mark}] {c['name']}: {c['actual']:.3f} {c['unit']} (target {c['target']})")
    lines += ["", "### PERFORMANCE ###",
              f"  requests completed: {summary['total_requests']} in {summary['elapsed_time']:.1f} s"
              f" ({summary['requests_per_second']:.2f} req/s)",
              f"  tokens/s (wall): {summary['avg_throughput_tokens_per_sec']:.1f};"
              f" storage tokens/s: {summary['storage_throughput_tokens_per_sec']:.1f}",
              "", "### LATENCY (ms) ###"]
    for key in ("end_to_end_latency_ms", "storage_io_latency_ms", "generation_latency_ms"):
        s = summary[key]
        lines.append(f"  {key[:-3]}: mean {s['mean']:.1f} p50 {s['p50']:.1f} "
                     f"p95 {s['p95']:.1f} p99 {s['p99']:.1f}")
    lines += ["", "### TIERS ###",
              f"  entries gpu/cpu/storage: {stats['gpu_entries']}/{stats['cpu_entries']}/"
              f"{stats['storage_entries']}; hit rate {stats['cache_hit_rate']:.2f}"]
    for op in ("read", "write"):
        for part in ("device", "host"):
            key = f"storage_{op}_{part}_p95_ms"
            if key in stats:
                lines.append(f"  storage {op} {part} p95: {stats[key]:.1f} ms")
    lines += ["", "### BANDWIDTH (GiB/s over wall time) ###"]
    for tier in TIERS:
        lines.append(f"  {tier}: read {stats[f'tier_{tier}_read_bandwidth_gbps']:.3f}"
                     f" write {stats[f'tier_{tier}_write_bandwidth_gbps']:.3f}")
    lines.append(f"  storage while busy: read {stats['storage_read_busy_bandwidth_gbps']:.3f}"
                 f" write {stats['storage_write_busy_bandwidth_gbps']:.3f}")
    lines.append(f"  ops/s: read {stats['read_iops_per_sec']:.1f} write {stats['write_iops_per_sec']:.1f}")
    return "\n".join(lines) + "\n"
