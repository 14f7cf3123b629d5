"""Synthetic results trees in upstream `mlpstorage` v2.0 format, for tests and the audit benchmark.

The files follow the documented formats (metadata JSON, DLIO `summary.json`, `dlio_config/*.yaml`, per-rank
files, logs); every value that rules read can be set per run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

UNET3D_RECORD = 146600628


@dataclass
class TrainingRunSpec:
    """What one synthetic training run looks like."""

    model: str = "unet3d"
    accelerator: str = "h100"
    command: str = "run"
    start: datetime = datetime(2025, 6, 13, 12, 0, 0)
    duration_s: float = 600.0
    num_processes: int = 8
    num_hosts: int = 1
    host_memory_gib: float = 64.0
    num_files_train: int = 56_000
    batch_size: int = 7
    record_length: float = UNET3D_RECORD
    au_percent: float = 95.0
    num_samples_per_file: int = 1
    throughput: float = 100.0
    params: dict[str, str] = field(default_factory=dict)
    checkpoint: bool = True
    data_dir: str = "/mnt/fs/data"
    results_dir: str = "/srv/results"
    #: extra top-level metadata keys (e.g. `harness: {rules_version: v3.0}`)
    extra_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def datetime_name(self) -> str:
        return self.start.strftime("%Y%m%d_%H%M%S")


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")


def write_training_run(root: Path, spec: TrainingRunSpec, prefix: str = "") -> Path:
    """Write one run directory under `root` (optionally below a v3.0 submission prefix); returns its path."""
    run_dir = root / prefix / "training" / spec.model / spec.command / spec.datetime_name
    (run_dir / "dlio_config").mkdir(parents=True, exist_ok=False)
    params = {"dataset.num_files_train": str(spec.num_files_train), **spec.params,
              "dataset.data_folder": f"{spec.data_dir}/{spec.model}"}
    workload = {
        "model": {"name": spec.model, "type": "cnn", "model_size": 499153191}, "framework": "pytorch",
        "workflow": {"generate_data": spec.command == "datagen", "train": spec.command == "run",
                     "checkpoint": spec.checkpoint and spec.command == "run"},
        "dataset": {"data_folder": "data/unet3d/", "format": "npz", "num_files_train": str(spec.num_files_train),
                    "num_samples_per_file": spec.num_samples_per_file, "record_length_bytes": spec.record_length},
        "reader": {"data_loader": "pytorch", "batch_size": spec.batch_size, "read_threads": 4},
        "train": {"epochs": 5, "computation_time": 0.323}, "metric": {"au": 0.9},
    }
    config_name = f"{spec.model}_{'datagen' if spec.command == 'datagen' else spec.accelerator}"
    overrides = [f"workload={config_name}", *(f"++workload.{k}={v}" for k, v in params.items())]
    (run_dir / "dlio_config" / "config.yaml").write_text(yaml.safe_dump({"workload": workload}))
    (run_dir / "dlio_config" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (run_dir / "dlio_config" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"run": {"dir": str(run_dir)}}}))
    meta: dict[str, Any] = {
        "args": {"program": "training", "command": spec.command, "results_dir": spec.results_dir, "closed": True,
                 "hosts": [f"10.0.0.{i + 1}" for i in range(spec.num_hosts)], "model": spec.model,
                 "client_host_memory_in_gb": spec.host_memory_gib, "num_accelerators": spec.num_processes,
                 "accelerator_type": spec.accelerator, "num_client_hosts": spec.num_hosts,
                 "data_dir": spec.data_dir, "params": [f"{k}={v}" for k, v in spec.params.items()],
                 "num_processes": spec.num_processes},
        "run_datetime": spec.datetime_name, "run_number": 0, "runtime": spec.duration_s,
        "verification": "closed", "cluster_information": "<mlpstorage.rules.ClusterInformation object>",
        "params_dict": params, "combined_params": workload, "benchmark_type": "training",
        **spec.extra_metadata,
    }
    (run_dir / f"training_{spec.datetime_name}_metadata.json").write_text(json.dumps(meta, indent=2))
    for stream in ("stdout", "stderr"):
        (run_dir / f"training_{spec.command}.{stream}.log").write_text("")
    (run_dir / "dlio.log").write_text("[INFO] synthetic\n")
    if spec.command != "run":
        return run_dir
    end = spec.start + timedelta(seconds=spec.duration_s)
    summary = {
        "start": _iso(spec.start), "end": _iso(end), "num_accelerators": spec.num_processes,
        "num_hosts": spec.num_hosts, "hostname": "host1",
        "metric": {"train_au_percentage": [spec.au_percent] * 5, "train_au_mean_percentage": spec.au_percent,
                   "train_au_stdev_percentage": 0.0,
                   "train_au_meet_expectation": "success" if spec.au_percent >= 90 else "fail",
                   "train_throughput_samples_per_second": [spec.throughput] * 5,
                   "train_throughput_mean_samples_per_second": spec.throughput,
                   "train_io_mean_MB_per_second": spec.throughput * spec.record_length / 2 ** 20},
        "num_files_train": spec.num_files_train, "num_files_eval": 0,
        "num_samples_per_file": spec.num_samples_per_file,
        "host_cpu_count": [64] * spec.num_hosts, "host_memory_GB": [spec.host_memory_gib] * spec.num_hosts,
        "host_meminfo": {"MemTotal": f"{int(spec.host_memory_gib * 1024 ** 2)} kB"}, "epochs": 5,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=4))
    for rank in range(min(spec.num_processes, 2)):
        (run_dir / f"{rank}_output.json").write_text(json.dumps({"host_memory_GB": spec.host_memory_gib}))
        (run_dir / f"{rank}_per_epoch_stats.json").write_text(json.dumps({"1": {"start": _iso(spec.start)}}))
    return run_dir


def write_training_submission(root: Path, runs: int = 6, gap_s: float = 30.0, prefix: str = "",
                              model: str = "unet3d", start: datetime | None = None, datagen: bool = True,
                              gaps: Sequence[float] | None = None, **overrides: Any) -> list[Path]:
    """A datagen dir (unless `datagen` is False) plus `runs` consecutive run dirs (warm-up + measured) of one model.

    `gaps` gives the idle seconds after each run (default `gap_s` everywhere). Returns the run dirs.
    """
    t = start or datetime(2025, 6, 13, 10, 0, 0)
    base = TrainingRunSpec(model=model, **overrides)
    if datagen:
        write_training_run(root, TrainingRunSpec(**{**base.__dict__, "command": "datagen", "start": t}), prefix)
    t += timedelta(hours=1)
    paths = []
    for i in range(runs):
        paths.append(write_training_run(root, TrainingRunSpec(**{**base.__dict__, "start": t}), prefix))
        t += timedelta(seconds=base.duration_s + (gaps[i] if gaps is not None and i < len(gaps) else gap_s))
    return paths
