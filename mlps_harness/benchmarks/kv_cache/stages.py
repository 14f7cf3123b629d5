"""The KV cache sequence: every Option's trials under mpirun, the pause between Options, then the run summary.

Layout: `<rd>/kv_cache/<model>/run/<datetime>/` holding the metadata, `summary.json` and
`option_<O>/trial_<T>/` (the trial's mpirun logs and `rank_<N>/kvcache_results.json`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlps_harness.benchmarks.kv_cache.aggregate import (
    SCHEMA_VERSION,
    option_aggregate,
    read_trial,
    trial_aggregate,
    write_summary,
)
from mlps_harness.benchmarks.kv_cache.plan import KvCachePlan, OptionSpec
from mlps_harness.benchmarks.kv_cache.rank import ERROR_NAME
from mlps_harness.launch import run_process, write_incomplete_marker
from mlps_harness.launch.runner import Interim
from mlps_harness.suite.rundirs import (
    RunInterrupted,
    new_run_dir,
    update_metadata,
    write_metadata,
)
from mlps_harness.suite.stage_result import StageResult

Progress = Callable[[str], None] | None
PROGRAM = "kv-cache"  #: the program's name in failure messages


@dataclass
class Trial(StageResult):
    """One launched trial (its `run_dir` is the trial's directory) with every rank's figures and the rank result
    files that were missing (which fail it: `error`); a failed trial's first cause names its slot and each failed
    rank's own error."""

    ranks: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@dataclass
class Sequence:
    """The whole run: its directory, every trial launched so far (by slot) and their aggregation."""

    run_dir: Path
    trials: dict[str, Trial] = field(default_factory=dict)
    summary: dict[str, Any] | None = None


def _rank_errors(trial_dir: Path, ranks: int) -> list[str]:
    """Each failed rank's own error (interruptions of the other ranks by mpirun listed last)."""
    errors = []
    for rank in range(ranks):
        path = trial_dir / f"rank_{rank}" / ERROR_NAME
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        errors.append((doc.get("returncode") == 130, f"rank {rank}: exit {doc.get('returncode')}: "
                                                     f"{doc.get('message')}"))
    return [text for _, text in sorted(errors, key=lambda e: e[0])]


def run_trial(plan: KvCachePlan, option: OptionSpec, number: int, run_dir: Path, progress: Progress) -> Trial:
    """Launch one trial (one benchmark process per rank) and read back every rank's figures."""
    slot = f"option_{option.name}/trial_{number}"
    trial_dir = run_dir / slot
    trial_dir.mkdir(parents=True, exist_ok=True)
    if progress:
        progress(Interim(f"{slot}: {option.model}, {option.num_users} users x {plan.num_processes} ranks, "
                         f"{option.duration_s:g} s"))
    started = datetime.now().isoformat(timespec="microseconds")
    result = run_process(plan.argv(option, trial_dir), trial_dir, "kv_cache", "run", timeout=plan.timeout,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"}, space_dirs=(plan.cache_dir,))
    trial = Trial.of_process(slot, trial_dir, result, PROGRAM, started_at=started,
                             ended_at=datetime.now().isoformat(timespec="microseconds"))
    if result.interrupted_by:
        raise RunInterrupted(f"{slot} interrupted by {result.interrupted_by}; {run_dir} is marked incomplete")
    trial.ranks, trial.missing = read_trial(trial_dir, plan.num_processes, run_dir)
    if trial.missing:
        trial.error = "missing rank results: " + ", ".join(trial.missing)
    if not trial.ok:
        errors = _rank_errors(trial_dir, plan.num_processes)
        trial.causes = [f"{slot}: " + ("; ".join(errors) if errors else "failed")]
    if progress and trial.ok:
        agg = trial_aggregate(trial.ranks)
        progress(f"{slot}: read {agg['read_bandwidth_gbps']:.2f} GiB/s, write {agg['write_bandwidth_gbps']:.2f} "
                 f"GiB/s, device P95 read {agg['device_read_p95_ms']:.0f} ms")
    elif progress:
        progress(f"{slot}: failed")
    return trial


def build_summary(plan: KvCachePlan, seq: Sequence) -> dict[str, Any]:
    """The run summary: upstream's keys plus each Option's parameters and every trial's per-rank figures."""
    options: dict[str, Any] = {}
    for option in plan.options:
        trials = [t for s, t in seq.trials.items() if s.startswith(f"option_{option.name}/")]
        entry = {**plan.option_record(option), **option_aggregate([t.ranks for t in trials if t.ok]),
                 "missing_files": [m for t in trials for m in t.missing]}
        entry["trials"] = [{"trial": int(t.slot.rsplit("_", 1)[1]), "started_at": t.started_at,
                            "ended_at": t.ended_at, "returncode": t.process.returncode if t.process else None,
                            "ok": t.ok, **trial_aggregate(t.ranks), "ranks": t.ranks} for t in trials]
        options[option.name] = entry
    planned = len(plan.slots)
    return {"schema_version": SCHEMA_VERSION, "run_datetime": seq.run_dir.name,
            "npernode": -(-plan.num_processes // max(len(set(plan.hosts)), 1)),
            "host_count": len(set(plan.hosts)), "total_ranks": plan.num_processes,
            "trials_per_option": plan.trials, "delay_between_options_s": plan.delay_s, "base_seed": plan.base_seed,
            "options": options,
            "partial_failure": len(seq.trials) != planned or not all(t.ok for t in seq.trials.values())}


def run_sequence(plan: KvCachePlan, cluster: dict, progress: Progress) -> Sequence:
    """Every Option's trials back to back (stopping at the first failure), pausing `delay_s` between Options."""
    run_dir = new_run_dir(plan.results_dir, "kv_cache", plan.model, "run")
    seq = Sequence(run_dir)
    meta = write_metadata(run_dir, "kv_cache", args=plan.recorded_args, params={}, rules_version=plan.rules_version,
                          cluster=cluster, command=plan.argv(plan.options[0], run_dir / "option_<O>/trial_<T>"),
                          extra={"kv_options": [plan.option_record(o) for o in plan.options]})
    marker = write_incomplete_marker(run_dir, "the run was started but did not finish")
    started = time.monotonic()
    try:
        for index, option in enumerate(plan.options):
            if index and plan.delay_s > 0:
                if progress:
                    progress(Interim(f"pause {plan.delay_s:g} s before Option {option.name}"))
                time.sleep(plan.delay_s)
            for number in range(1, plan.trials + 1):
                trial = run_trial(plan, option, number, run_dir, progress)
                seq.trials[trial.slot] = trial
                if not trial.ok:
                    raise StopIteration
    except StopIteration:
        pass
    except RunInterrupted:
        write_incomplete_marker(run_dir, "interrupted")
        raise
    finally:
        seq.summary = build_summary(plan, seq)
        write_summary(run_dir, seq.summary)
        update_metadata(meta, runtime=time.monotonic() - started)
    if seq.summary["partial_failure"]:
        failed = next((t for t in seq.trials.values() if not t.ok), None)
        write_incomplete_marker(run_dir, failed.failure().splitlines()[0] if failed else "not every trial ran")
    else:
        marker.unlink(missing_ok=True)
    return seq
