"""The KV cache run's typed documents, read by the parse hook.

Two producers write a KV cache run directory:

* our suite: `kvcache_run_summary_<datetime>.json` with every Option's parameters, argv and trials (each trial with
  its ranks' figures), and `option_<O>/trial_<T>/rank_<N>/kvcache_results.json` (trials counted from 1);
* upstream's v3.0 tool: `summary.json` (older builds: `kvcache_run_summary_<datetime>.json`) with only the Options'
  aggregates, and `option_<O>/trial_<T>/rank_<N>/kvcache_results_<rank start>.json` (trials counted from 0). It
  records the Options' parameters only in the metadata's `command_output_files` (one mpirun command per trial).

The hook reads either shape into one typed summary. For upstream's shape it rebuilds each Option's trials from the
rank files on disk and its parameters from the metadata commands, and says where each came from (`DOC_SOURCES`).
"""

from __future__ import annotations

import os
import re
import shlex
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from mlps_harness.model.types import Int, Num, Str

if TYPE_CHECKING:
    from mlps_harness.model import Run

SUMMARY_NAME = "summary.json"           #: the name the v3.0 report generator reads
SUMMARY_GLOB = "kvcache_run_summary_"   #: the older name (and our suite's)
DOC = "kv_summary"            #: run.documents key of the typed summary
DOC_FILE = "kv_summary_file"  #: ... and of its file name
DOC_RANK_FILES = "kv_rank_files"  #: ... and of the rank result files found on disk (relative to the run dir)
DOC_SHAPE = "kv_summary_shape"    #: "harness" (trials recorded in the summary) or "upstream" (rebuilt from disk)
DOC_SOURCES = "kv_sources"        #: what was read from where: {"trials": ..., "parameters": ...}
#: The wrapper's own default config file: passing it is not a user `--config`.
DEFAULT_CONFIG_SUFFIX = "kv_cache_benchmark/config.yaml"
#: kv-cache.py / wrapper flags that carry an Option parameter -> (field, type).
OPTION_FLAGS: dict[str, tuple[str, type]] = {
    "--model": ("model", str), "--num-users": ("num_users", int), "--duration": ("duration_s", float),
    "--gpu-mem-gb": ("gpu_mem_gb", float), "--cpu-mem-gb": ("cpu_mem_gb", float),
    "--max-concurrent-allocs": ("max_concurrent_allocs", int), "--generation-mode": ("generation_mode", str)}
#: Wrapper flags that place one rank (derived per rank from the MPI rank: §6.3.3.3), not Option parameters.
RANK_PLUMBING = ("--rank-output-base", "--rank-cache-base", "--seed-base")
_RANK_PATH = re.compile(r"^option_(\w+)/trial_(\d+)/rank_(\d+)/(kvcache_results[^/]*\.json)$")
_STAMP = re.compile(r"(\d{8}_\d{6})")


class RankFigures(BaseModel):
    """One rank's figures in one trial (from its `kvcache_results*.json`)."""

    model_config = ConfigDict(extra="allow")

    rank: Int
    file: Str | None = None
    read_bandwidth_gbps: Num = 0.0
    write_bandwidth_gbps: Num = 0.0
    storage_throughput_tokens_per_sec: Num = 0.0
    device_read_p95_ms: Num = 0.0
    device_write_p95_ms: Num = 0.0
    storage_io_p95_ms: Num | None = None
    storage_entries: Int = 0
    cpu_entries: Int = 0
    requests_completed: Int = 0
    seed: Int | None = None
    model: Str | None = None
    num_users: Int | None = None
    duration_s: Num | None = None
    generation_mode: Str | None = None
    cache_dir: Str | None = None
    started_at: datetime | None = None


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
    """One Option: its parameters, its aggregates (ours or upstream's), and its trials."""

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
    aggregated_device_read_p95_ms: Num | None = None
    aggregated_device_write_p95_ms: Num | None = None
    #: upstream v3.0: the maximum storage-I/O P95 (ms) over every rank and trial
    aggregated_p95_latency_ms: Num | None = None
    rank_count: Int = 0
    trial_count: Int = 0
    partial_failure: bool = False
    missing_files: list[Str] = []
    #: a count (ours) or upstream's list of the result files of ranks that used only the CPU tier
    cpu_tier_ranks: Int | list[Str] = 0
    trials: list[TrialRecord] = []

    @property
    def cpu_tier_count(self) -> int:
        """How many ranks used only the CPU tier, whichever form the summary records."""
        return len(self.cpu_tier_ranks) if isinstance(self.cpu_tier_ranks, list) else int(self.cpu_tier_ranks)


class KvRunSummary(BaseModel):
    """The run summary (upstream's keys plus ours)."""

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
    trial_failures: dict[str, Any] | None = None


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


def stamp(text: str) -> datetime | None:
    """The `YYYYMMDD_HHMMSS` time in a file name, if any."""
    m = _STAMP.search(text)
    try:
        return datetime.strptime(m.group(1), "%Y%m%d_%H%M%S") if m else None
    except ValueError:
        return None


def summary_names(names: set[str]) -> list[str]:
    """The run-summary files of a run dir: summary.json first, then the older `kvcache_run_summary_*.json`."""
    legacy = sorted(n for n in names if n.startswith(SUMMARY_GLOB) and n.endswith(".json"))
    return ([SUMMARY_NAME] if SUMMARY_NAME in names else []) + legacy


def option_commands(run: "Run") -> dict[str, dict[str, Any]]:
    """Each Option's parameters and remaining wrapper flags from the metadata's `command_output_files` (upstream
    records one mpirun command per trial there). {option: {field: value, "args": [...], "commands": n}}."""
    extra = (run.metadata.model_extra or {}) if run.metadata else {}
    entries = extra.get("command_output_files")
    found: dict[str, dict[str, Any]] = {}
    if not isinstance(entries, list):
        return found
    for entry in entries:
        command = entry.get("command") if isinstance(entry, dict) else None
        if not isinstance(command, str):
            continue
        try:
            tokens = shlex.split(command)
        except ValueError:
            continue
        at = next((i for i, t in enumerate(tokens) if t.endswith(("mlperf_wrapper.py", "kv-cache.py"))), None)
        if at is None:
            continue
        tail, values, rest = tokens[at + 1:], {}, []
        option = None
        i = 0
        while i < len(tail):
            flag, value = tail[i], tail[i + 1] if i + 1 < len(tail) else ""
            if flag in OPTION_FLAGS or flag in RANK_PLUMBING or flag == "--config":
                i += 2
            else:
                rest.append(flag)
                i += 1
                continue
            if flag == "--rank-output-base":
                m = re.search(r"option_(\w+)/trial_\d+/?$", value)
                option = m.group(1) if m else None
            elif flag == "--seed-base":
                values["seed_base"] = value
            elif flag == "--rank-cache-base":
                values["cache_base"] = value
            elif flag == "--config":
                if not value.endswith(DEFAULT_CONFIG_SUFFIX):
                    rest += [flag, value]
            else:
                field, kind = OPTION_FLAGS[flag]
                try:
                    values[field] = kind(value)
                except ValueError:
                    values[field] = value
        if option is None:
            continue
        record = found.setdefault(option, {"commands": 0, "args": rest})
        record["commands"] += 1
        for key, value in values.items():
            record.setdefault(key, value)
    return found


def _rebuild_trials(run: "Run", summary: KvRunSummary, files: list[str]) -> None:
    """Upstream's shape: each Option's trials and ranks from the rank result files on disk."""
    from mlps_harness.benchmarks.kv_cache.aggregate import rank_figures
    from mlps_harness.loader.safe_io import read_json

    trials: dict[tuple[str, int], list[RankFigures]] = {}
    for rel in files:
        m = _RANK_PATH.match(rel)
        if not m:
            continue
        option, trial, rank = m.group(1), int(m.group(2)), int(m.group(3))
        data, problem = read_json(os.path.join(run.ref.path, rel), f"{run.run_id}/{rel}")
        if problem is not None or not isinstance(data, dict):
            run.load_findings.append(problem) if problem is not None else None
            continue
        try:
            figures = rank_figures(data)
            latency = ((data.get("summary") or {}).get("storage_io_latency_ms") or {}).get("p95")
            entry = RankFigures(rank=rank, file=rel, storage_io_p95_ms=latency, started_at=stamp(m.group(4)),
                                **{k: v for k, v in figures.items() if v is not None})
        except (TypeError, ValueError, AttributeError) as exc:
            from mlps_harness.outcomes import invalid
            run.load_findings.append(invalid(f"{run.run_id}/{rel} has values of the wrong type ({exc})",
                                             file=f"{run.run_id}/{rel}", parameter="summary",
                                             fix="restore the rank result file the benchmark wrote"))
            continue
        trials.setdefault((option, trial), []).append(entry)
    for (option, trial), ranks in sorted(trials.items()):
        record = summary.options.get(option)
        if record is None:
            continue
        starts = [r.started_at for r in ranks if r.started_at]
        record.trials.append(TrialRecord(trial=trial, started_at=min(starts) if starts else None,
                                         ranks=sorted(ranks, key=lambda r: r.rank)))


def parse_kv_cache(run: "Run") -> None:
    """Read the run summary (safely, typed) into `run.documents`; problems become findings."""
    from mlps_harness.loader.parse import typed
    from mlps_harness.loader.safe_io import read_json
    from mlps_harness.outcomes import invalid

    names = summary_names(run.file_names())
    run.documents[DOC_RANK_FILES] = files = _rank_files(run.ref.path)
    if not names:
        return
    legacy = [n for n in names if n != SUMMARY_NAME]
    if len(legacy) > 1:
        run.load_findings.append(invalid(f"{len(legacy)} run summaries in one run directory", parameter="summary",
                                         expected="1", actual=", ".join(legacy), file=run.run_id,
                                         fix="keep only the summary the benchmark wrote for this run"))
    name = SUMMARY_NAME if SUMMARY_NAME in names else next((n for n in legacy if run.ref.leaf in n), legacy[0])
    shown = f"{run.run_id}/{name}"
    data, problem = read_json(os.path.join(run.ref.path, name), shown)
    if problem:
        run.load_findings.append(problem)
        return
    summary = typed(KvRunSummary, data, shown, run.load_findings)
    if summary is None:
        return
    run.documents[DOC] = summary
    run.documents[DOC_FILE] = name
    sources: dict[str, str] = {}
    if any(opt.trials for opt in summary.options.values()):
        run.documents[DOC_SHAPE] = "harness"
        sources["trials"] = shown
    else:
        run.documents[DOC_SHAPE] = "upstream"
        _rebuild_trials(run, summary, files)
        sources["trials"] = f"{run.run_id}/option_*/trial_*/rank_*/kvcache_results_*.json"
    commands = option_commands(run)
    if commands:
        sources["parameters"] = f"{run.run_id}/{run.metadata_file} command_output_files"
        for option, found in commands.items():
            record = summary.options.get(option)
            if record is None:
                continue
            for field, _ in OPTION_FLAGS.values():
                if getattr(record, field) is None and field in found:
                    setattr(record, field, found[field])
            if not record.args:
                record.args = list(found["args"])
            if "seed_base" in found:
                record.__pydantic_extra__["seed_base"] = found["seed_base"]
    elif any(opt.model is not None for opt in summary.options.values()):
        sources["parameters"] = shown
    run.documents[DOC_SOURCES] = sources
