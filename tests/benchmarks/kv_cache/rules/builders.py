"""Hand-built KV cache run directories, in our suite's shape and in upstream's v3.0 shape, and in-process rule
evaluation through the audit's loader.

Every figure is a hand-written constant and every aggregate in a summary is the hand-computed result below, so the
aggregation rule (H7.15) is checked against arithmetic done here, never against the suite's own functions.

Ranks (same in every Option); trial t (counted from 1 in ours, from 0 upstream) adds 0.1 GiB/s to rank 0's read
bandwidth and t-1 ms to every P95:

    rank 0: read 1.0 (+0.1 per trial), write 0.25, 1000 storage tokens/s, device P95 read 100, write 40, io P95 500
    rank 1: read 1.5,                  write 0.5,  2000 storage tokens/s, device P95 read 120, write 45, io P95 700

    per-trial sums of read: 2.5, 2.6, 2.7 -> mean 2.6;  write 0.75;  tokens 3000
    P95 maxima over ranks and trials: device read 122, device write 47, storage io 702
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mlps_harness.rules import RuleResult
from mlps_harness.testing import rule_result

LEAF = "20260101_120000"
START = datetime(2026, 1, 1, 12, 0, 5)
#: The hand-computed aggregates of three trials of the two ranks above.
AGGREGATES = {"aggregated_read_bandwidth_gbps": 2.6, "aggregated_write_bandwidth_gbps": 0.75,
              "aggregated_storage_throughput_tokens_per_sec": 3000.0, "aggregated_device_read_p95_ms": 122.0,
              "aggregated_device_write_p95_ms": 47.0}
UPSTREAM_AGGREGATES = {"aggregated_read_bandwidth_gbps": 2.6, "aggregated_write_bandwidth_gbps": 0.75,
                       "aggregated_storage_throughput_tokens_per_sec": 3000.0, "aggregated_p95_latency_ms": 702.0,
                       "aggregated_avg_throughput_tokens_per_sec": 5000.0}
#: Table KVCache-1 of Rules.md §6 (v3.0), written out here rather than read from our ruleset.
CLOSED_OPTIONS = {
    "1": {"model": "llama3.1-8b", "num_users": 200, "duration_s": 300.0, "gpu_mem_gb": 0.0, "cpu_mem_gb": 0.0,
          "max_concurrent_allocs": 16, "generation_mode": "none"},
    "2": {"model": "llama3.1-8b", "num_users": 100, "duration_s": 300.0, "gpu_mem_gb": 0.0, "cpu_mem_gb": 4.0,
          "max_concurrent_allocs": 16, "generation_mode": "none"},
    "3": {"model": "llama3.1-70b-instruct", "num_users": 70, "duration_s": 300.0, "gpu_mem_gb": 0.0,
          "cpu_mem_gb": 0.0, "max_concurrent_allocs": 4, "generation_mode": "none"}}
FLAGS = {"model": "--model", "num_users": "--num-users", "duration_s": "--duration", "gpu_mem_gb": "--gpu-mem-gb",
         "cpu_mem_gb": "--cpu-mem-gb", "max_concurrent_allocs": "--max-concurrent-allocs",
         "generation_mode": "--generation-mode"}


def closed_options() -> dict[str, dict[str, Any]]:
    """The v3.0 CLOSED Options as plain dicts."""
    return copy.deepcopy(CLOSED_OPTIONS)


def figures(rank: int, trial_index: int) -> dict[str, float]:
    """Rank `rank`'s figures in the `trial_index`-th trial (0-based), from the table in the module docstring."""
    base = [{"read": 1.0, "write": 0.25, "tokens": 1000.0, "p95r": 100.0, "p95w": 40.0, "io": 500.0},
            {"read": 1.5, "write": 0.5, "tokens": 2000.0, "p95r": 120.0, "p95w": 45.0, "io": 700.0}][rank]
    return {"read": base["read"] + (0.1 * trial_index if rank == 0 else 0.0), "write": base["write"],
            "tokens": base["tokens"], "p95r": base["p95r"] + trial_index, "p95w": base["p95w"] + trial_index,
            "io": base["io"] + trial_index}


def rank_result(option: dict[str, Any], rank: int, trial_index: int, *, seed: int | None = None,
                storage_entries: int = 40, run_info: bool = True) -> dict[str, Any]:
    """One rank's kv-cache.py result JSON (the benchmark's own keys)."""
    f = figures(rank, trial_index)
    doc: dict[str, Any] = {
        "requests_completed": 100 + rank, "total_tokens_generated": 5000, "seed": 42 + rank if seed is None else seed,
        "summary": {"storage_throughput_tokens_per_sec": f["tokens"], "avg_throughput_tokens_per_sec": 2500.0,
                    "storage_io_latency_ms": {"mean": 100.0, "p50": 90.0, "p95": f["io"]},
                    "cache_stats": {"tier_storage_read_bandwidth_gbps": f["read"],
                                    "tier_storage_write_bandwidth_gbps": f["write"],
                                    "storage_read_device_p95_ms": f["p95r"], "storage_write_device_p95_ms": f["p95w"],
                                    "storage_entries": storage_entries, "cpu_entries": 3}}}
    if run_info:
        doc["run_info"] = {k: option[k] for k in ("model", "num_users", "duration_s", "generation_mode")}
    return doc


def _summary_rank(rank: int, trial_index: int, file: str, seed: int | None, entries: int) -> dict[str, Any]:
    f = figures(rank, trial_index)
    return {"rank": rank, "file": file, "read_bandwidth_gbps": f["read"], "write_bandwidth_gbps": f["write"],
            "storage_throughput_tokens_per_sec": f["tokens"], "device_read_p95_ms": f["p95r"],
            "device_write_p95_ms": f["p95w"], "storage_entries": entries, "cpu_entries": 3,
            "seed": 42 + rank if seed is None else seed}


def _metadata(run_dir: Path, root: Path, leaf: str, model: str, ranks: int, args: dict[str, Any] | None,
              same_fs: bool | None, extra: dict[str, Any] | None = None, harness: bool = True) -> None:
    fs = None
    if same_fs is not None:
        fs = {"data_dir": {"device": "8:1", "mount_point": "/mnt/nvme"},
              "results_dir": {"device": "8:1" if same_fs else "8:2", "mount_point": "/mnt/nvme" if same_fs else "/"}}
    base = {"program": "kv_cache", "command": "run", "model": model, "hosts": ["127.0.0.1"],
            "num_processes": ranks, "cache_dir": "/mnt/nvme/kv", "results_dir": str(root)}
    meta: dict[str, Any] = {"benchmark_type": "kv_cache", "run_datetime": leaf,
                            "args": {k: v for k, v in {**base, **(args or {})}.items() if v is not ...},
                            "params_dict": {},
                            "cluster_information": {"source": "mpi", "hosts": [{"hostname": "h", "filesystems": fs}]}
                            if fs else None, **(extra or {})}
    if harness:
        meta["harness"] = {"rules_version": "v3.0"}
    (run_dir / f"kv_cache_{leaf}_metadata.json").write_text(json.dumps(meta, indent=2))


def build_run(root: Path, *, options: dict[str, dict[str, Any]] | None = None, trials: int = 3, ranks: int = 2,
              delay_s: float = 90.0, seeds: dict[int, int] | None = None, cpu_only: dict[str, set] | None = None,
              args: dict[str, Any] | None = None, same_fs: bool | None = False, extra_args: list[str] | None = None,
              drop_rank_file: str | None = None, summary_patch: dict[str, Any] | None = None,
              rank_patch: dict[tuple[str, int, int], dict[str, Any]] | None = None,
              incomplete: str | None = None, leaf: str = LEAF) -> str:
    """Write one run dir in our suite's shape; returns its run id. `cpu_only` maps an Option to the (trial, rank)
    pairs with no storage entries; `summary_patch` maps an Option to keys overwritten in its summary record;
    `rank_patch` maps (Option, trial, rank) to keys overwritten in that rank's summary entry."""
    options = copy.deepcopy(options or closed_options())
    model = next(iter(options.values()))["model"]
    run_dir = root / "kv_cache" / model / "run" / leaf
    run_dir.mkdir(parents=True)
    clock = START
    summary_options: dict[str, Any] = {}
    for index, (name, option) in enumerate(options.items()):
        if index:
            clock += timedelta(seconds=delay_s)
        trial_records = []
        for trial in range(1, trials + 1):
            entries_of = []
            for rank in range(ranks):
                rel = f"option_{name}/trial_{trial}/rank_{rank}/kvcache_results.json"
                (run_dir / rel).parent.mkdir(parents=True)
                entries = 0 if (trial, rank) in (cpu_only or {}).get(name, set()) else 40
                seed = (seeds or {}).get(rank)
                doc = rank_result(option, rank, trial - 1, seed=seed, storage_entries=entries)
                (run_dir / rel).write_text(json.dumps(doc, indent=4))
                entry = _summary_rank(rank, trial - 1, rel, seed, entries)
                entry.update((rank_patch or {}).get((name, trial, rank), {}))
                entries_of.append(entry)
            start, clock = clock, clock + timedelta(seconds=option["duration_s"] + 2)
            trial_records.append({"trial": trial, "started_at": start.isoformat(), "ended_at": clock.isoformat(),
                                  "returncode": 0, "ok": True, "ranks": entries_of})
        args_list = [token for key, flag in FLAGS.items() for token in (flag, str(option[key]))]
        summary_options[name] = {**option, "args": [*args_list, *(extra_args or [])], **AGGREGATES,
                                 "rank_count": ranks, "trial_count": trials, "cpu_tier_ranks": 0,
                                 "missing_files": [], "trials": trial_records, **(summary_patch or {}).get(name, {})}
    summary = {"schema_version": "mlps-kvcache-run-1", "run_datetime": leaf, "npernode": ranks, "host_count": 1,
               "total_ranks": ranks, "trials_per_option": trials, "delay_between_options_s": delay_s,
               "base_seed": 42, "options": summary_options, "partial_failure": False}
    (run_dir / f"kvcache_run_summary_{leaf}.json").write_text(json.dumps(summary, indent=4))
    if drop_rank_file:
        (run_dir / drop_rank_file).unlink()
    _metadata(run_dir, root, leaf, model, ranks, args, same_fs)
    if incomplete:
        (run_dir / ".mlps-incomplete").write_text(json.dumps({"reason": incomplete}))
    return f"kv_cache/{model}/run/{leaf}"


def upstream_command(run_dir: str, name: str, trial: int, option: dict[str, Any], ranks: int,
                     extra: str = "", seed_base: int = 42) -> dict[str, str]:
    """One `command_output_files` entry as upstream's v3.0 tool records it (one mpirun per trial)."""
    flags = " ".join(f"{flag} {option[key]:g}" if isinstance(option[key], float) else f"{flag} {option[key]}"
                     for key, flag in FLAGS.items())
    command = (f"mpirun -n {ranks} -host 127.0.0.1:{ranks} --bind-to none --map-by socket /opt/storage/.venv/bin/"
               f"python3 /opt/storage/kv_cache_benchmark/mlperf_wrapper.py --rank-output-base {run_dir}/option_"
               f"{name}/trial_{trial} --rank-cache-base /mnt/kv/cache --seed-base {seed_base} --config "
               f"/opt/storage/kv_cache_benchmark/config.yaml {flags} {extra}").strip()
    log = f"{run_dir}/kvcache_opt{name}_trial{trial}_{LEAF}"
    return {"command": command, "stdout": f"{log}.stdout.log", "stderr": f"{log}.stderr.log"}


def build_upstream_run(root: Path, *, summary_name: str = "summary.json", options: dict | None = None,
                       ranks: int = 2, option_gap_s: float = 200.0, commands: bool = True, extra_flag: str = "",
                       summary_patch: dict[str, Any] | None = None, skip_rank: tuple[str, int, int] | None = None,
                       duplicate_rank: tuple[str, int, int] | None = None, args: dict[str, Any] | None = None,
                       cpu_tier_ranks: list[str] | None = None, leaf: str = LEAF) -> str:
    """Write one run dir in upstream's v3.0 shape: summary with aggregates only (no trials), rank files
    `kvcache_results_<rank start>.json` under trial_0..2, metadata args with CLI defaults, and the Options'
    parameters only in `command_output_files`. Trials start 600 s apart; Options `option_gap_s` after the last
    trial's end (start + 300 s)."""
    options = copy.deepcopy(options or closed_options())
    run_dir = root / "closed" / "Org" / "results" / "sys" / "kv_cache" / "llama3.1-8b" / "run" / leaf
    run_dir.mkdir(parents=True)
    shown_dir = f"/home/user/results/closed/Org/results/sys/kv_cache/llama3.1-8b/run/{leaf}"
    clock = START
    entries, summary_options = [], {}
    for index, (name, option) in enumerate(options.items()):
        if index:
            clock += timedelta(seconds=300 + option_gap_s - 600)
        for trial in range(3):
            clock += timedelta(seconds=600 if (index or trial) else 0)
            for rank in range(ranks):
                if skip_rank == (name, trial, rank):
                    continue
                stamp = (clock + timedelta(seconds=rank)).strftime("%Y%m%d_%H%M%S")
                rank_dir = run_dir / f"option_{name}" / f"trial_{trial}" / f"rank_{rank}"
                rank_dir.mkdir(parents=True)
                doc = rank_result(option, rank, trial, run_info=False)
                (rank_dir / f"kvcache_results_{stamp}.json").write_text(json.dumps(doc, indent=4))
                if duplicate_rank == (name, trial, rank):
                    (rank_dir / f"kvcache_results_{stamp[:-2]}59.json").write_text(json.dumps(doc, indent=4))
            entries.append(upstream_command(shown_dir, name, trial, option, ranks, extra_flag))
        summary_options[name] = {"option": int(name), **UPSTREAM_AGGREGATES, "rank_count": ranks, "trial_count": 3,
                                 "partial_failure": False, "missing_files": [],
                                 "cpu_tier_ranks": list(cpu_tier_ranks or []),
                                 **(summary_patch or {}).get(name, {})}
    summary = {"schema_version": "1.0", "run_datetime": leaf, "npernode": ranks, "host_count": 1,
               "total_ranks": ranks, "trials_per_option": 3, "options": summary_options, "partial_failure": False,
               "trial_failures": {}}
    (run_dir / summary_name).write_text(json.dumps(summary, indent=2))
    upstream_args = {"mode": "closed", "benchmark": "kvcache", "command": "run", "cache_dir": "/mnt/kv/cache",
                     "results_dir": "/home/user/results", "systemname": "sys", "exec_type": "mpi",
                     "num_processes": ranks, "hosts": ["127.0.0.1"], "mpi_bin": "mpirun", "gpu_mem_gb": 16.0,
                     "cpu_mem_gb": 32.0, "duration": 60, "generation_mode": "realistic", "enable_autoscaling": True,
                     "seed": 42, "trials": 3, "inter_option_delay": 20, "params": "", "model": "llama3.1-8b",
                     **(args or {})}
    meta = {"benchmark_type": "kv_cache", "model": "llama3.1-8b", "command": "run", "run_datetime": leaf,
            "num_processes": ranks, "accelerator": None, "parameters": {"model": "llama3.1-8b", "num_users": 100,
                                                                        "duration": 60},
            "override_parameters": {}, "verification": None,
            "command_output_files": entries if commands else [], "args": upstream_args}
    (run_dir / f"kv_cache_{leaf}_metadata.json").write_text(json.dumps(meta, indent=2))
    return f"closed/Org/results/sys/kv_cache/llama3.1-8b/run/{leaf}"


def check(root: Path, run_id: str, rule_name: str, version: str = "auto") -> RuleResult:
    """Evaluate one registered rule on one run of a tree, through the audit's own loader."""
    return rule_result(root, rule_name, run_id, rules_version=version)


def division(result: RuleResult) -> str:
    """CLOSED / OPEN / INVALID, or N/A."""
    return result.division.value if result.applicable else "N/A"


def warnings_of(result: RuleResult) -> list[str]:
    """The messages of a result's warning findings."""
    return [f.message for f in result.findings if f.level == "warning"]
