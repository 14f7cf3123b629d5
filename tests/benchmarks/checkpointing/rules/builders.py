"""Build small checkpointing run directories from the documented formats (rules.md §6, the upstream sample's shape):
upstream mlpstorage v2.0 + DLIO-branch runs, and runs of our checkpoint workload (summary `workload` block, harness
metadata with cluster information and invocation bookends)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from mlps_harness.rules import RuleResult
from mlps_harness.testing import rule_result

DLIO_NAMES = {"llama3-8b": "llama_8b", "llama3-70b": "llama_70b", "llama3-405b": "llama_405b", "llama3-1t": "llama_1t"}
T0 = datetime(2025, 6, 1, 12, 0, 0)


def write_run(root: Path, *, model: str = "llama3-8b", leaf: str = "20250601_120000", procs: int = 8,
              writes: int = 10, reads: int = 10, size_GB: float = 105.0, params: dict[str, Any] | None = None,
              use_overrides_only: bool = False, fsync: bool = True, mode: str | None = None,
              host_memory: list[float] | None = None, cached_kb: int = 700000, start: datetime = T0,
              duration: float = 60.0, ours: dict[str, Any] | None = None, harness_version: str | None = None,
              checkpoint_folder: str = "/srv/ckpt", results_dir: str = "/srv/results",
              cluster: dict | None = None, accelerator: str | None = None,
              invocation: tuple[datetime, datetime] | None = None, skip: tuple[str, ...] = ()) -> Path:
    """One timestamp dir `checkpointing/<model>/<leaf>`; `ours` adds our workload's summary block."""
    run = root / "checkpointing" / model / leaf
    (run / "dlio_config").mkdir(parents=True)
    memory = host_memory or [23.5]
    folder = f"{checkpoint_folder}/{model}"
    user = dict(params or {})
    params_dict = {**user, "checkpoint.num_checkpoints_read": reads, "checkpoint.num_checkpoints_write": writes,
                   "checkpoint.checkpoint_folder": folder}
    if mode:
        params_dict["checkpoint.mode"] = mode
    args: dict[str, Any] = {"program": "checkpointing", "command": "run", "model": model, "num_processes": procs,
                            "hosts": ["127.0.0.1"], "client_host_memory_in_gb": 24, "results_dir": results_dir,
                            "checkpoint_folder": checkpoint_folder, "num_checkpoints_read": reads,
                            "num_checkpoints_write": writes, "params": [f"{k}={v}" for k, v in user.items()]}
    if accelerator:
        args["accelerator_type"] = accelerator
    meta: dict[str, Any] = {"benchmark_type": "checkpointing", "run_datetime": leaf, "run_number": 0, "args": args,
                            "verification": "closed", "cluster_information": cluster or "<ClusterInformation object>"}
    if not use_overrides_only:
        meta["params_dict"] = params_dict
    if harness_version:
        meta["harness"] = {"name": "mlps-harness", "rules_version": harness_version}
    if invocation:
        meta["invocation_start"], meta["invocation_end"] = (t.isoformat() for t in invocation)
    end = start + timedelta(seconds=duration)
    summary: dict[str, Any] = {
        "start": start.isoformat(), "num_accelerators": procs, "num_hosts": len(memory), "hostname": "vm",
        "metric": {"checkpoint_size_GB": size_GB, "save_checkpoint_duration_mean_seconds": 1.0,
                   "load_checkpoint_duration_mean_seconds": 1.0},
        "num_files_train": procs, "host_memory_GB": memory, "host_cpu_count": [2] * len(memory),
        "host_meminfo": {"MemTotal": f"{int(memory[0] * 1024 ** 2)} kB", "Cached": f"{cached_kb} kB"},
        "epochs": 0, "end": end.isoformat()}
    if ours is not None:
        summary["workload"] = {"model": model, "num_ranks": procs, "subset": mode == "subset", "size_scale": 1.0,
                               "fsync": fsync, "num_checkpoints_write": writes, "num_checkpoints_read": reads,
                               "cache_drop_method": "none", "cache_drop_methods_per_load": [], **ours}
    checkpoint: dict[str, Any] = {"checkpoint_folder": folder, "time_between_checkpoints": 5,
                                  "num_checkpoints_write": writes, "num_checkpoints_read": reads, "fsync": fsync}
    if mode:
        checkpoint["mode"] = mode
    config = {"workload": {"model": {"name": DLIO_NAMES.get(model, model), "type": "transformer"},
                           "framework": "pytorch",
                           "workflow": {"generate_data": False, "train": False, "checkpoint": True},
                           "checkpoint": checkpoint}}
    overrides = [f"workload={model.replace('-', '_')}"] + [f"++workload.{k}={v}" for k, v in params_dict.items()]
    files: dict[str, Any] = {
        f"checkpointing_{leaf}_metadata.json": meta, "summary.json": summary,
        "0_output.json": {"host_memory_GB": memory[0], "hostname": "vm"},
        "0_per_epoch_stats.json": {"1": {"start": start.isoformat(), "end": end.isoformat()}},
    }
    for name, doc in files.items():
        if name not in skip:
            (run / name).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    for name in ("checkpointing_run.stdout.log", "checkpointing_run.stderr.log", "dlio.log"):
        if name not in skip:
            (run / name).write_text("[OUTPUT] done\n", encoding="utf-8")
    (run / "dlio_config" / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (run / "dlio_config" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"output_subdir": "dlio_config"}}))
    (run / "dlio_config" / "overrides.yaml").write_text(yaml.safe_dump(overrides), encoding="utf-8")
    return run


def filesystems(folder_dev: str, results_dev: str) -> dict:
    """Our cluster information with the checkpoint folder (as data_dir) and results dir on the given st_devs."""
    fs = {"data_dir": {"st_dev": folder_dev, "device": f"/dev/{folder_dev}", "mount_point": "/ckpt"},
          "results_dir": {"st_dev": results_dev, "device": f"/dev/{results_dev}", "mount_point": "/res"}}
    return {"source": "mpi", "hosts": [{"hostname": "vm", "memory_total_bytes": 24 * 2 ** 30,
                                        "filesystems": fs}]}


def result(root: Path, rule: str, target: str | None = None, version: str = "v2.0") -> RuleResult:
    """Evaluate one rule (`<id>-<slug>` or bare id) on the only run (or the group) of `root`."""
    return rule_result(root, rule, target, rules_version=version, benchmark="checkpointing")


def division(root: Path, rule: str, version: str = "v2.0", target: str | None = None) -> str:
    """The rule's division as text, or 'N/A'."""
    res = result(root, rule, target, version)
    return res.division.value if res.division else "N/A"
