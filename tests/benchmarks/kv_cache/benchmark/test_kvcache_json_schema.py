"""Run the real script briefly and check the result JSON keys, types and sums."""
from __future__ import annotations

import json
import math
import os

import pytest
from kv_cache import keys

from .helpers import TINY_RUN, run_script


@pytest.fixture(scope="module")
def nvme_run(tmp_path_factory):
    """A 4-second tiny-1b run on the NVMe tier only (gpu 0, cpu 0)."""
    tmp = tmp_path_factory.mktemp("kv_json")
    cache_dir = tmp / "cache"
    cache_dir.mkdir()
    out = tmp / "result.json"
    proc = run_script([*TINY_RUN, "--gpu-mem-gb", "0", "--cpu-mem-gb", "0", "--duration", "4",
                       "--cache-dir", str(cache_dir), "--output", str(out)], timeout=60)
    assert proc.returncode == 0, proc.stderr
    return {"proc": proc, "raw": out.read_text(), "json": json.loads(out.read_text()),
            "cache_dir": cache_dir}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def test_output_is_indented_by_4_and_console_has_assessment(nvme_run):
    assert nvme_run["raw"].startswith('{\n    "')
    assert "### STORAGE PERFORMANCE ASSESSMENT: " in nvme_run["proc"].stdout
    assert "Traceback" not in nvme_run["proc"].stderr


def test_top_level_keys_and_types(nvme_run):
    result = nvme_run["json"]
    assert set(keys.TOP_LEVEL_KEYS) <= set(result)
    completed = result["requests_completed"]
    assert isinstance(completed, int) and completed > 0
    for name in ("end_to_end_latencies", "storage_latencies", "generation_latencies",
                 "prefill_latencies", "decode_latencies"):
        assert len(result[name]) == completed
        assert all(_is_number(v) and v >= 0 for v in result[name])
    assert result["total_storage_io_latency"] == pytest.approx(sum(result["storage_latencies"]))
    assert result["seed"] == 42
    assert isinstance(result["throughput_timeline"], list)
    assert set(keys.RUN_INFO_KEYS) <= set(result[keys.RUN_INFO_KEY])


def test_summary_and_cache_stats_keys(nvme_run):
    summary = nvme_run["json"]["summary"]
    assert set(keys.SUMMARY_KEYS) <= set(summary)
    for name in ("end_to_end_latency_ms", "storage_io_latency_ms", "generation_latency_ms"):
        assert set(summary[name]) == set(keys.LATENCY_SUMMARY_KEYS)
        assert summary[name]["p50"] <= summary[name]["p99"]
    assert set(summary["qos_metrics"]) == set(keys.QOS_CLASSES)
    assert set(keys.PREFIX_CACHE_KEYS) <= set(summary["prefix_cache_stats"])
    assert summary["total_requests"] == nvme_run["json"]["requests_completed"]
    stats = summary["cache_stats"]
    assert set(keys.CACHE_STATS_KEYS) <= set(stats)
    assert set(keys.CACHE_STATS_RATE_KEYS) <= set(stats)
    for name in keys.CACHE_STATS_KEYS + keys.CACHE_STATS_RATE_KEYS:
        if name != "storage_health":
            assert _is_number(stats[name]), name


def test_nvme_only_run_puts_everything_on_storage(nvme_run):
    stats = nvme_run["json"]["summary"]["cache_stats"]
    assert stats["gpu_entries"] == stats["cpu_entries"] == 0
    assert stats["storage_entries"] > 0
    assert stats["tier_storage_kv_bytes_written_gb"] > 0
    assert stats["total_write_bytes"] == pytest.approx(stats["tier_storage_kv_bytes_written_gb"]
                                                       * 1024 ** 3, rel=1e-9)
    elapsed = nvme_run["json"]["summary"]["elapsed_time"]
    assert stats["write_iops_per_sec"] == pytest.approx(stats["write_iops"] / elapsed)
    for op in ("read", "write"):
        assert set(keys.tier_percentile_keys("storage", op)) <= set(stats)
        for part in ("device", "host"):
            assert set(keys.storage_split_percentile_keys(op, part)) <= set(stats)
    assert not set(keys.tier_percentile_keys("gpu", "read")) & set(stats)
    assert nvme_run["json"]["run_info"]["storage_integrity_errors"] == 0


def test_storage_health_structure(nvme_run):
    health = nvme_run["json"]["summary"]["cache_stats"]["storage_health"]
    assert set(keys.STORAGE_HEALTH_KEYS) <= set(health)
    assert health["overall_status"] in ("PASS", "FAIL")
    assert health["total_count"] == len(health["criteria"]) >= 3
    assert health["passed_count"] == sum(c["passed"] for c in health["criteria"])
    for criterion in health["criteria"]:
        assert set(keys.CRITERION_KEYS) <= set(criterion)
        assert isinstance(criterion["passed"], bool)
    assert (health["overall_status"] == "PASS") == (health["passed_count"] == health["total_count"])


def test_block_files_are_removed_at_exit(nvme_run):
    assert os.listdir(nvme_run["cache_dir"]) == []


def test_rank_metrics_read_the_real_output(nvme_run):
    from kv_cache import aggregate_ranks, rank_metrics
    metrics = rank_metrics(nvme_run["json"])
    stats = nvme_run["json"]["summary"]["cache_stats"]
    assert metrics["device_read_p95_ms"] == stats["storage_read_device_p95_ms"]
    assert metrics["read_bandwidth_gbps"] == stats["tier_storage_read_bandwidth_gbps"]
    both = aggregate_ranks([nvme_run["json"], nvme_run["json"]])
    assert both["aggregated_read_bandwidth_gbps"] == pytest.approx(2 * metrics["read_bandwidth_gbps"])
    assert both["aggregated_device_write_p95_ms"] == metrics["device_write_p95_ms"]
