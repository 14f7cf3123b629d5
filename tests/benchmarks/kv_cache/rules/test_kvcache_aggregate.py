"""The MLPerf v3 aggregation (sum over ranks, mean over trials, P95 max) and the per-rank launcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlps_harness.benchmarks.kv_cache import rank as rank_launcher
from mlps_harness.benchmarks.kv_cache.aggregate import (
    option_aggregate,
    rank_figures,
    trial_aggregate,
)


def _r(read: float, write: float, tokens: float, p95r: float, p95w: float, entries: int = 5) -> dict:
    return {"read_bandwidth_gbps": read, "write_bandwidth_gbps": write, "storage_throughput_tokens_per_sec": tokens,
            "device_read_p95_ms": p95r, "device_write_p95_ms": p95w, "storage_entries": entries}


def test_sum_over_ranks_mean_over_trials_max_p95() -> None:
    trial1 = [_r(1.0, 0.5, 100, 10, 7), _r(2.0, 0.25, 300, 30, 2)]
    trial2 = [_r(1.5, 0.5, 200, 20, 9), _r(2.5, 0.75, 200, 15, 1, entries=0)]
    assert trial_aggregate(trial1) == {"read_bandwidth_gbps": 3.0, "write_bandwidth_gbps": 0.75,
                                       "storage_throughput_tokens_per_sec": 400, "device_read_p95_ms": 30,
                                       "device_write_p95_ms": 7}
    agg = option_aggregate([trial1, trial2])
    assert agg["aggregated_read_bandwidth_gbps"] == pytest.approx((3.0 + 4.0) / 2)
    assert agg["aggregated_write_bandwidth_gbps"] == pytest.approx((0.75 + 1.25) / 2)
    assert agg["aggregated_storage_throughput_tokens_per_sec"] == pytest.approx(400)
    assert agg["aggregated_device_read_p95_ms"] == 30
    assert agg["aggregated_device_write_p95_ms"] == 9
    assert (agg["rank_count"], agg["trial_count"], agg["cpu_tier_ranks"]) == (2, 2, 1)


def test_empty_option_aggregates_to_zero() -> None:
    agg = option_aggregate([])
    assert agg["trial_count"] == 0 and agg["aggregated_read_bandwidth_gbps"] == 0.0


def test_rank_figures_default_missing_keys_to_zero() -> None:
    figures = rank_figures({"requests_completed": 0, "seed": 43})
    assert figures["read_bandwidth_gbps"] == 0.0 and figures["storage_entries"] == 0 and figures["seed"] == 43


def test_single_trial_matches_the_benchmarks_own_aggregation() -> None:
    from kv_cache import aggregate_ranks

    results = [{"requests_completed": 3, "summary": {"storage_throughput_tokens_per_sec": 10.0 * i, "cache_stats": {
        "tier_storage_read_bandwidth_gbps": 0.5 + i, "tier_storage_write_bandwidth_gbps": 0.1 * i,
        "storage_read_device_p95_ms": 50.0 - i, "storage_write_device_p95_ms": 5.0 + i, "storage_entries": i}}}
        for i in range(3)]
    theirs = aggregate_ranks(results)
    ours = option_aggregate([[rank_figures(r) for r in results]])
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value), key


@pytest.mark.parametrize("env, expected", [({"OMPI_COMM_WORLD_RANK": "3"}, 3), ({"PMI_RANK": "1"}, 1)])
def test_rank_from_environment(monkeypatch, env: dict, expected: int) -> None:
    for name in rank_launcher.RANK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert rank_launcher.mpi_rank() == expected
    argv = rank_launcher.rank_argv(["--model", "tiny-1b"], expected, Path("/t"), Path("/c"), 42)
    assert argv[argv.index("--seed") + 1] == str(42 + expected)
    assert argv[argv.index("--cache-dir") + 1] == f"/c/rank_{expected}"


def test_failing_rank_writes_its_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "1")
    code = rank_launcher.main(["--trial-dir", str(tmp_path / "t"), "--cache-dir", str(tmp_path / "c"), "--",
                               "--model", "gpt-9", "--duration", "1"])
    assert code == 2
    error = json.loads((tmp_path / "t" / "rank_1" / rank_launcher.ERROR_NAME).read_text())
    assert error["rank"] == 1 and "gpt-9" in error["message"]
