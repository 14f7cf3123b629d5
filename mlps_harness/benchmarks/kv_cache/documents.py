"""The KV cache run's typed documents: the run summary and per-rank figures, read by the parse hook."""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from mlps_harness.model.types import Int, Num, Str

if TYPE_CHECKING:
    from mlps_harness.model import Run

SUMMARY_GLOB = "kvcache_run_summary_"
DOC = "kv_summary"            #: run.documents key of the typed summary
DOC_FILE = "kv_summary_file"  #: ... and of its file name
DOC_RANK_FILES = "kv_rank_files"  #: ... and of the rank result files found on disk (relative to the run dir)


class RankFigures(BaseModel):
    """One rank's figures in one trial (from its `kvcache_results.json`)."""

    model_config = ConfigDict(extra="allow")

    rank: Int
    file: Str | None = None
    read_bandwidth_gbps: Num = 0.0
    write_bandwidth_gbps: Num = 0.0
    storage_throughput_tokens_per_sec: Num = 0.0
    device_read_p95_ms: Num = 0.0
    device_write_p95_ms: Num = 0.0
    storage_entries: Int = 0
    cpu_entries: Int = 0
    requests_completed: Int = 0
    seed: Int | None = None
    model: Str | None = None
    num_users: Int | None = None
    duration_s: Num | None = None
    generation_mode: Str | None = None


class TrialRecord(BaseModel):
    """One trial of an Option."""

    model_config = ConfigDict(extra="allow")

    trial: Int
    started_at: datetime | None = None
    ended_at: datetime | None = None
    returncode: Int | None = None
    ok: bool = True
    ranks: list[RankFigures] = []


class OptionRecord(BaseModel):
    """One Option: its parameters (ours), upstream's aggregates, and its trials (ours)."""

    model_config = ConfigDict(extra="allow")

    model: Str | None = None
    num_users: Int | None = None
    duration_s: Num | None = None
    gpu_mem_gb: Num | None = None
    cpu_mem_gb: Num | None = None
    max_concurrent_allocs: Int | None = None
    generation_mode: Str | None = None
    args: list[Str] = []
    aggregated_read_bandwidth_gbps: Num = 0.0
    aggregated_write_bandwidth_gbps: Num = 0.0
    aggregated_storage_throughput_tokens_per_sec: Num = 0.0
    aggregated_device_read_p95_ms: Num = 0.0
    aggregated_device_write_p95_ms: Num = 0.0
    rank_count: Int = 0
    trial_count: Int = 0
    missing_files: list[Str] = []
    cpu_tier_ranks: Int = 0
    trials: list[TrialRecord] = []


class KvRunSummary(BaseModel):
    """`kvcache_run_summary_<datetime>.json` (upstream's keys plus ours)."""

    model_config = ConfigDict(extra="allow")

    schema_version: Str | None = None
    run_datetime: Str | None = None
    npernode: Int | None = None
    host_count: Int | None = None
    total_ranks: Int
    trials_per_option: Int
    delay_between_options_s: Num | None = None
    base_seed: Int | None = None
    options: dict[str, OptionRecord]
    partial_failure: bool = False


def _rank_files(path: str) -> list[str]:
    """`option_*/trial_*/rank_*/kvcache_results*.json` below a run dir, never following links."""
    found: list[str] = []

    def dirs(base: str, prefix: str) -> list[str]:
        try:
            with os.scandir(base) as it:
                return sorted(e.name for e in it if e.name.startswith(prefix) and e.is_dir(follow_symlinks=False))
        except OSError:
            return []
    for option in dirs(path, "option_"):
        for trial in dirs(os.path.join(path, option), "trial_"):
            for rank in dirs(os.path.join(path, option, trial), "rank_"):
                base = os.path.join(path, option, trial, rank)
                try:
                    names = os.listdir(base)
                except OSError:
                    continue
                found += [f"{option}/{trial}/{rank}/{n}" for n in sorted(names)
                          if n.startswith("kvcache_results") and n.endswith(".json")
                          and os.path.isfile(os.path.join(base, n)) and not os.path.islink(os.path.join(base, n))]
    return found


def parse_kv_cache(run: "Run") -> None:
    """Read the run summary (safely, typed) into `run.documents`; problems become findings."""
    from mlps_harness.loader.parse import typed
    from mlps_harness.loader.safe_io import read_json
    from mlps_harness.outcomes import invalid

    names = sorted(n for n in run.file_names() if n.startswith(SUMMARY_GLOB) and n.endswith(".json"))
    run.documents[DOC_RANK_FILES] = _rank_files(run.ref.path)
    if not names:
        return
    if len(names) > 1:
        run.load_findings.append(invalid(f"{len(names)} run summaries in one run directory", parameter="summary",
                                         expected="1", actual=", ".join(names), file=run.run_id,
                                         fix="keep only the summary the harness wrote for this run"))
    name = next((n for n in names if run.ref.leaf in n), names[0])
    shown = f"{run.run_id}/{name}"
    data, problem = read_json(os.path.join(run.ref.path, name), shown)
    if problem:
        run.load_findings.append(problem)
        return
    summary = typed(KvRunSummary, data, shown, run.load_findings)
    if summary is not None:
        run.documents[DOC] = summary
        run.documents[DOC_FILE] = name
