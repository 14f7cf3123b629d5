"""KV cache figures: per-trial sums over ranks, mean over trials, P95 max (Rules.md §6), from hand-built summaries."""

from __future__ import annotations

import json
from pathlib import Path

from mlps_harness.benchmarks.kv_cache import metrics
from mlps_harness.loader import ResultsIndex
from mlps_harness.metrics import run_result


def _rank(rank: int, read: float, tokens: float, p95: float) -> dict:
    return {"rank": rank, "read_bandwidth_gbps": read, "write_bandwidth_gbps": read / 10,
            "storage_throughput_tokens_per_sec": tokens, "device_read_p95_ms": p95, "device_write_p95_ms": p95 / 2}


def _tree(tmp_path: Path, leaf: str, trials: list[list[dict]]) -> None:
    run = tmp_path / "kv_cache" / "llama3.1-8b" / "run" / leaf
    run.mkdir(parents=True)
    doc = {"total_ranks": 2, "trials_per_option": len(trials),
           "options": {"1": {"model": "llama3.1-8b", "num_users": 200,
                             "trials": [{"trial": i + 1, "ranks": ranks} for i, ranks in enumerate(trials)]}}}
    (run / f"kvcache_run_summary_{leaf}.json").write_text(json.dumps(doc))


def test_group_option_figures_follow_rules_section_6(tmp_path: Path) -> None:
    _tree(tmp_path, "20260101_000000", [[_rank(0, 1.0, 100, 5), _rank(1, 2.0, 200, 9)],
                                        [_rank(0, 3.0, 300, 7), _rank(1, 4.0, 400, 6)]])
    _tree(tmp_path, "20260101_010000", [[_rank(0, 5.0, 500, 20), _rank(1, 6.0, 600, 1)]])
    index = ResultsIndex(tmp_path)
    runs = [run_result(index.run(ref.run_id)) for ref in index.refs]
    first = runs[0].metrics["options"]["1"]
    assert [t["read_bandwidth_gbps"] for t in first["trials"]] == [3.0, 7.0]          # sum over ranks
    assert [t["device_read_p95_ms"] for t in first["trials"]] == [9, 7]               # max over ranks
    assert "aggregated_read_bandwidth_gbps" not in first                              # not recorded: absent
    group = metrics.group_metrics(runs).metrics.options["1"]
    assert group.aggregated_read_bandwidth_gbps == (3.0 + 7.0 + 11.0) / 3             # mean over all trials
    assert group.aggregated_storage_throughput_tokens_per_sec == (300 + 700 + 1100) / 3
    assert group.aggregated_device_read_p95_ms == 20                                  # max over ranks and trials
    assert group.trial_count == 3


def test_nan_rank_figure_is_an_invalid_value(tmp_path: Path) -> None:
    _tree(tmp_path, "20260101_000000", [[_rank(0, float("nan"), 100, 5), _rank(1, 2.0, 200, 9)]])
    index = ResultsIndex(tmp_path)
    (result,) = [run_result(index.run(ref.run_id)) for ref in index.refs]
    trial = result.metrics["options"]["1"]["trials"][0]
    assert "read_bandwidth_gbps" not in trial and trial["storage_throughput_tokens_per_sec"] == 300
    assert result.metrics["invalid_values"] == ["options.1.trials.0.rank_0.read_bandwidth_gbps",
                                                "options.1.trials.0.rank_0.write_bandwidth_gbps"]   # read / 10


def test_run_without_summary_has_no_figures(tmp_path: Path) -> None:
    (tmp_path / "kv_cache" / "llama3.1-8b" / "run" / "20260101_000000").mkdir(parents=True)
    index = ResultsIndex(tmp_path)
    (result,) = [run_result(index.run(ref.run_id)) for ref in index.refs]
    assert result.metrics["no_figures_reason"].startswith("no readable summary.json")
    assert metrics.group_metrics([result]).metrics.options == {}
