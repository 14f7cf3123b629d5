"""Per-rank figures and the run summary (`summary.json`) with MLPerf v3's aggregation.

Bandwidth and storage tokens/s are summed over the ranks of a trial, then averaged over the trials of an Option;
device P95 latencies take the maximum over every rank and trial. Pure Python: the audit needs no numpy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mlps_harness.benchmarks.kv_cache.documents import SUMMARY_NAME

SCHEMA_VERSION = "mlps-kvcache-run-1"
SUMMED = ("read_bandwidth_gbps", "write_bandwidth_gbps", "storage_throughput_tokens_per_sec")
MAXED = ("device_read_p95_ms", "device_write_p95_ms")


def summary_name(run_datetime: str) -> str:  # noqa: ARG001 - one name for every run, as v3.0's tools read it
    """The file name of a run's summary: `summary.json`, the only name v3.0's report generator reads (H7.17)."""
    return SUMMARY_NAME


def rank_figures(result: dict[str, Any]) -> dict[str, Any]:
    """The figures of one rank's result JSON that the rules need; missing keys default to 0 (as upstream)."""
    summary = result.get("summary") or {}
    stats = summary.get("cache_stats") or {}
    info = result.get("run_info") or {}
    return {
        "read_bandwidth_gbps": float(stats.get("tier_storage_read_bandwidth_gbps", 0.0)),
        "write_bandwidth_gbps": float(stats.get("tier_storage_write_bandwidth_gbps", 0.0)),
        "storage_throughput_tokens_per_sec": float(summary.get("storage_throughput_tokens_per_sec", 0.0)),
        "device_read_p95_ms": float(stats.get("storage_read_device_p95_ms", 0.0)),
        "device_write_p95_ms": float(stats.get("storage_write_device_p95_ms", 0.0)),
        "storage_entries": int(stats.get("storage_entries", 0)),
        "cpu_entries": int(stats.get("cpu_entries", 0)),
        "requests_completed": int(result.get("requests_completed", 0)),
        "seed": result.get("seed"),
        "hostname": result.get("hostname"),
        "model": info.get("model"),
        "num_users": info.get("num_users"),
        "duration_s": info.get("duration_s"),
        "generation_mode": info.get("generation_mode"),
    }


def trial_aggregate(ranks: list[dict[str, Any]]) -> dict[str, float]:
    """One trial: rates summed over ranks, device P95s the maximum over ranks."""
    out: dict[str, float] = {k: sum(r[k] for r in ranks) for k in SUMMED}
    out.update({k: max((r[k] for r in ranks), default=0.0) for k in MAXED})
    return out


def option_aggregate(trials: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """One Option: the per-trial sums averaged over trials, P95s the maximum over every rank and trial."""
    per_trial = [trial_aggregate(ranks) for ranks in trials if ranks]
    n = len(per_trial)
    out: dict[str, Any] = {f"aggregated_{k}": (sum(t[k] for t in per_trial) / n if n else 0.0) for k in SUMMED}
    out.update({f"aggregated_{k}": max((t[k] for t in per_trial), default=0.0) for k in MAXED})
    out["rank_count"] = max((len(ranks) for ranks in trials), default=0)
    out["trial_count"] = n
    out["cpu_tier_ranks"] = sum(1 for ranks in trials for r in ranks if r["storage_entries"] == 0)
    return out


def read_trial(trial_dir: Path, total_ranks: int, run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The figures of every rank of a trial and the rank result files that are missing or unreadable."""
    from mlps_harness.benchmarks.kv_cache.rank import RESULT_NAME

    ranks, missing = [], []
    for rank in range(total_ranks):
        path = trial_dir / f"rank_{rank}" / RESULT_NAME
        shown = os.path.relpath(path, run_dir)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            missing.append(shown)
            continue
        ranks.append({"rank": rank, "file": shown, **rank_figures(data)})
    return ranks, missing


def write_summary(run_dir: Path, doc: dict[str, Any]) -> Path:
    """Write the run summary atomically (indent 4, as the benchmark's own JSON)."""
    path = run_dir / summary_name(run_dir.name)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=4), encoding="utf-8")
    os.replace(tmp, path)
    return path
