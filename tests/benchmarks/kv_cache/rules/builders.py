"""Hand-built KV cache run directories in the suite's output format, and in-process rule evaluation.

A run dir is `kv_cache/<model>/run/<datetime>/` with the metadata, `kvcache_run_summary_<datetime>.json` and
`option_<O>/trial_<T>/rank_<N>/kvcache_results.json` (rank results carry the benchmark's own keys).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mlps_harness.benchmarks.kv_cache.aggregate import (
    option_aggregate,
    read_trial,
    summary_name,
    trial_aggregate,
)
from mlps_harness.benchmarks.kv_cache.ruleset import kvcache_rules
from mlps_harness.loader import ResultsIndex
from mlps_harness.rules import REGISTRY, RuleResult, evaluate

LEAF = "20260101_120000"
START = datetime(2026, 1, 1, 12, 0, 5)


def closed_options() -> dict[str, dict[str, Any]]:
    """The v3.0 CLOSED Options as plain dicts (from the ruleset data)."""
    return {k: v.model_dump() for k, v in kvcache_rules("v3.0").options.items()}


def rank_result(option: dict[str, Any], rank: int, trial: int, *, seed: int | None = None,
                storage_entries: int = 40) -> dict[str, Any]:
    """One rank's kv-cache.py result JSON (the keys the suite reads; figures vary by rank and trial)."""
    read = 1.0 + 0.25 * rank + 0.1 * trial
    return {
        "requests_completed": 100 + rank, "total_tokens_generated": 5000, "seed": 42 + rank if seed is None else seed,
        "summary": {"storage_throughput_tokens_per_sec": 1000.0 * (rank + 1) + trial,
                    "cache_stats": {"tier_storage_read_bandwidth_gbps": read,
                                    "tier_storage_write_bandwidth_gbps": read / 4,
                                    "storage_read_device_p95_ms": 100.0 + 10 * rank + trial,
                                    "storage_write_device_p95_ms": 40.0 + 5 * rank + trial,
                                    "storage_entries": storage_entries, "cpu_entries": 3}},
        "run_info": {"model": option["model"], "num_users": option["num_users"], "duration_s": option["duration_s"],
                     "generation_mode": option["generation_mode"]},
    }


def build_run(root: Path, *, options: dict[str, dict[str, Any]] | None = None, trials: int = 3, ranks: int = 2,
              delay_s: float = 90.0, seeds: dict[int, int] | None = None, cpu_only: dict[str, set] | None = None,
              args: dict[str, Any] | None = None, same_fs: bool | None = False, extra_args: list[str] | None = None,
              drop_rank_file: str | None = None, summary_patch: dict[str, Any] | None = None,
              incomplete: str | None = None, leaf: str = LEAF) -> str:
    """Write one run dir; returns its run id. `cpu_only` maps an Option to the (trial, rank) pairs with no
    storage entries; `summary_patch` maps an Option to keys overwritten after aggregation."""
    options = copy.deepcopy(options or closed_options())
    model = next(iter(options.values()))["model"]
    run_dir = root / "kv_cache" / model / "run" / leaf
    run_dir.mkdir(parents=True)
    clock = START
    summary_options: dict[str, Any] = {}
    for index, (name, option) in enumerate(options.items()):
        if index:
            clock += timedelta(seconds=delay_s)
        trial_records, trial_ranks = [], []
        for trial in range(1, trials + 1):
            trial_dir = run_dir / f"option_{name}" / f"trial_{trial}"
            for rank in range(ranks):
                rank_dir = trial_dir / f"rank_{rank}"
                rank_dir.mkdir(parents=True)
                entries = 0 if (trial, rank) in (cpu_only or {}).get(name, set()) else 40
                doc = rank_result(option, rank, trial, seed=(seeds or {}).get(rank), storage_entries=entries)
                (rank_dir / "kvcache_results.json").write_text(json.dumps(doc, indent=4))
            figures, missing = read_trial(trial_dir, ranks, run_dir)
            start, clock = clock, clock + timedelta(seconds=option["duration_s"] + 2)
            trial_ranks.append(figures)
            trial_records.append({"trial": trial, "started_at": start.isoformat(), "ended_at": clock.isoformat(),
                                  "returncode": 0, "ok": True, **trial_aggregate(figures), "ranks": figures})
        args_list = ["--model", option["model"], *(extra_args or [])]
        summary_options[name] = {**option, "args": args_list, **option_aggregate(trial_ranks), "missing_files": [],
                                 "trials": trial_records, **(summary_patch or {}).get(name, {})}
    summary = {"schema_version": "mlps-kvcache-run-1", "run_datetime": leaf, "npernode": ranks, "host_count": 1,
               "total_ranks": ranks, "trials_per_option": trials, "delay_between_options_s": delay_s,
               "base_seed": 42, "options": summary_options, "partial_failure": False}
    (run_dir / summary_name(leaf)).write_text(json.dumps(summary, indent=4))
    if drop_rank_file:
        (run_dir / drop_rank_file).unlink()
    fs = None
    if same_fs is not None:
        fs = {"data_dir": {"device": "8:1", "mount_point": "/mnt/nvme"},
              "results_dir": {"device": "8:1" if same_fs else "8:2", "mount_point": "/mnt/nvme" if same_fs else "/"}}
    meta = {"benchmark_type": "kv_cache", "run_datetime": leaf,
            "args": {"program": "kv_cache", "command": "run", "model": model, "hosts": ["127.0.0.1"],
                     "num_processes": ranks, "cache_dir": "/mnt/nvme/kv", "results_dir": str(root), **(args or {})},
            "params_dict": {}, "harness": {"rules_version": "v3.0"},
            "cluster_information": {"source": "mpi", "hosts": [{"hostname": "h", "filesystems": fs}]} if fs else None}
    (run_dir / f"kv_cache_{leaf}_metadata.json").write_text(json.dumps(meta, indent=2))
    if incomplete:
        (run_dir / ".mlps-incomplete").write_text(json.dumps({"reason": incomplete}))
    return f"kv_cache/{model}/run/{leaf}"


def check(root: Path, run_id: str, rule_name: str, version: str = "auto") -> RuleResult:
    """Evaluate one registered rule on one run of a tree, through the audit's own loader."""
    index = ResultsIndex(root, version)
    run = index.run(run_id)
    from mlps_harness.rules import all_rules

    all_rules()
    return evaluate(REGISTRY[rule_name], run, run.rules_version)


def division(result: RuleResult) -> str:
    """CLOSED / OPEN / INVALID, or N/A."""
    return result.division.value if result.applicable else "N/A"
