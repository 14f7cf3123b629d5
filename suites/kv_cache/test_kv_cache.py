"""The KV cache suite's trials, then the same rule tests as `compliance/` on the run just written."""

from __future__ import annotations

import pytest

from mlps_harness.benchmarks.kv_cache.configview import datasize, datasize_lines
from mlps_harness.benchmarks.kv_cache.plan import KvCachePlan
from mlps_harness.benchmarks.kv_cache.stages import Sequence
from mlps_harness.rule_tests import test_layout, test_rules, test_submission  # noqa: F401 - collected here


@pytest.mark.stage("datasize")
def test_datasize(kv_plan: KvCachePlan) -> None:
    """Per Option: bytes per token and what the cache dir may hold (upstream's `kvcache datasize`)."""
    size = datasize(kv_plan)
    for line in datasize_lines(size):
        print(line)
    assert set(size["options"]) == {o.name for o in kv_plan.options}
    assert all(o["bytes_per_token"] > 0 and o["largest_block_bytes"] > 0 for o in size["options"].values())


@pytest.mark.stage("run")
def test_trial(kv_sequence: Sequence, slot: str) -> None:
    """One trial: every rank ran kv-cache.py and wrote its result JSON."""
    trial = kv_sequence.trials.get(slot)
    if trial is None:
        pytest.skip("not run: an earlier trial failed")
    if not trial.ok:
        pytest.fail(trial.failure(), pytrace=False)
    print(f"{slot}: {len(trial.ranks)} ranks, {sum(r['requests_completed'] for r in trial.ranks)} requests")


@pytest.mark.stage("run")
def test_summary(kv_sequence: Sequence) -> None:
    """The run summary aggregates every Option (rates summed over ranks, averaged over trials; P95 max)."""
    summary = kv_sequence.summary
    assert summary is not None
    for name, option in summary["options"].items():
        print(f"Option {name}: read {option['aggregated_read_bandwidth_gbps']:.3f} GiB/s, write "
              f"{option['aggregated_write_bandwidth_gbps']:.3f} GiB/s, device P95 read "
              f"{option['aggregated_device_read_p95_ms']:.1f} ms / write {option['aggregated_device_write_p95_ms']:.1f}"
              f" ms, {option['aggregated_storage_throughput_tokens_per_sec']:.0f} tokens/s")
    if summary["partial_failure"]:
        pytest.fail("partial failure: not every trial completed on every rank (see the trial tests)", pytrace=False)
