"""Run modes through the importable API: tiers with demotion, max-requests,
prefill-only, decode-only, precondition; plus rank aggregation and workload."""
from __future__ import annotations

import queue
import random
import threading
import time

import pytest
from kv_cache import aggregate_ranks, rank_seed, run_benchmark
from kv_cache.workload import (
    OpenLoopGenerator,
    Phase,
    QoSClass,
    make_users,
    next_request,
)

from .helpers import TINY_RUN


def _run(tmp_path, *extra) -> dict:
    return run_benchmark([*TINY_RUN, "--cache-dir", str(tmp_path), *extra])


def test_small_ram_tiers_fill_and_demote(tmp_path):
    result = _run(tmp_path, "--gpu-mem-gb", "0.05", "--cpu-mem-gb", "0.1", "--duration", "3")
    stats = result["summary"]["cache_stats"]
    assert stats["tier_gpu_kv_bytes_written_gb"] > 0
    assert stats["demotions"] > 0 and stats["offloads_cpu"] > 0
    assert stats["gpu_memory_used_gb"] <= 0.05 and stats["cpu_memory_used_gb"] <= 0.1
    assert "gpu_write_p95_ms" in stats


def test_max_requests_ends_the_run_early(tmp_path):
    started = time.perf_counter()
    result = _run(tmp_path, "--gpu-mem-gb", "0", "--cpu-mem-gb", "0", "--duration", "60",
                  "--max-requests", "3")
    assert result["requests_completed"] >= 3
    assert result["run_info"]["exit_reason"] == "max_requests"
    assert time.perf_counter() - started < 30


def test_prefill_only_never_reads_for_decode(tmp_path):
    result = _run(tmp_path, "--gpu-mem-gb", "0", "--cpu-mem-gb", "0", "--duration", "2",
                  "--prefill-only", "--disable-multi-turn")
    stats = result["summary"]["cache_stats"]
    assert stats["decode_reads"] == 0 and stats["prefill_writes"] > 0
    assert stats["read_iops"] == stats["cache_hits"]


def test_decode_only_reads_prepopulated_blocks(tmp_path):
    result = _run(tmp_path, "--gpu-mem-gb", "0", "--cpu-mem-gb", "0", "--duration", "2",
                  "--decode-only")
    stats = result["summary"]["cache_stats"]
    assert stats["prefill_writes"] == 0 and stats["decode_reads"] > 0
    assert stats["cache_hit_rate"] == 1.0
    assert stats["write_iops"] == 0


def test_precondition_writes_then_resets_stats(tmp_path):
    result = _run(tmp_path, "--gpu-mem-gb", "0", "--cpu-mem-gb", "0", "--duration", "1",
                  "--precondition", "--precondition-size-gb", "0.1", "--max-requests", "1")
    assert result["run_info"]["precondition_bytes"] >= 0.1 * 1024 ** 3
    stats = result["summary"]["cache_stats"]
    assert stats["tier_storage_kv_bytes_written_gb"] < 0.1


def test_aggregate_sums_bandwidth_and_takes_max_p95():
    def fake(bw, p95):
        return {"requests_completed": 1, "summary": {"storage_throughput_tokens_per_sec": 10.0,
                "cache_stats": {"tier_storage_read_bandwidth_gbps": bw,
                                "storage_read_device_p95_ms": p95, "storage_entries": 1}}}
    agg = aggregate_ranks([fake(1.5, 10.0), fake(2.0, 30.0), {"requests_completed": 0}])
    assert agg["aggregated_read_bandwidth_gbps"] == pytest.approx(3.5)
    assert agg["aggregated_device_read_p95_ms"] == 30.0
    assert agg["aggregated_storage_throughput_tokens_per_sec"] == pytest.approx(20.0)
    assert agg["rank_count"] == 3 and agg["cpu_tier_ranks"] == 1
    assert [rank_seed(r) for r in range(3)] == [42, 43, 44]


def test_users_are_reproducible_and_qos_mix_is_plausible():
    users_a = make_users(300, random.Random(9))
    users_b = make_users(300, random.Random(9))
    assert [u.context_tokens for u in users_a] == [u.context_tokens for u in users_b]
    share = sum(u.qos is QoSClass.INTERACTIVE for u in users_a) / len(users_a)
    assert 0.05 < share < 0.30
    assert {u.template for u in users_a} == {"chatbot", "coding", "document"}


def test_multi_turn_requests_carry_previous_turn_keys():
    user = make_users(1, random.Random(1))[0]
    rng = random.Random(2)
    requests = [next_request(user, rng, True, float(n)) for n in range(30)]
    for req in requests:
        assert req.key == f"{req.conversation_id}_turn_{req.turn}"
        assert len(req.previous_turn_keys) == req.turn - 1
        assert (req.phase is Phase.PREFILL) == (req.context_tokens >= 10000)
    assert len({r.conversation_id for r in requests}) > 1


def test_generator_is_open_loop():
    users = make_users(3, random.Random(3))
    for user in users:
        user.think_time_s = 0.01
    out: queue.PriorityQueue = queue.PriorityQueue()
    stop = threading.Event()
    gen = OpenLoopGenerator(users, out, random.Random(4), stop, multi_turn=False)
    gen.start()
    time.sleep(0.3)
    stop.set()
    gen.join()
    assert out.qsize() > 30        # nobody consumed, yet arrivals continued
