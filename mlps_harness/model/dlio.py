"""DLIO output and configuration: `summary.json` and the resolved `dlio_config/config.yaml` workload.

Both DLIO schemas are read: PyPI 2.0.0's (`model: unet3d`, `dataset.record_length*`) and the upstream
`mlperf_storage` branch's (`model:` mapping, `dataset.record_length_bytes*`, checkpoint keys).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlps_harness.model.types import (
    Count,
    LenientCount,
    LenientMeasure,
    Measure,
    Percent,
    Str,
)


class DlioMetric(BaseModel):
    """The `metric` block of `summary.json` (training and checkpointing fields)."""

    model_config = ConfigDict(extra="allow")

    train_au_percentage: list[Percent] = None  # type: ignore[assignment]
    train_au_mean_percentage: Percent = None  # type: ignore[assignment]
    train_au_stdev_percentage: Percent = None  # type: ignore[assignment]
    train_au_meet_expectation: Str = None  # type: ignore[assignment]
    train_throughput_samples_per_second: list[Measure] = None  # type: ignore[assignment]
    train_throughput_mean_samples_per_second: Measure = None  # type: ignore[assignment]
    train_throughput_stdev_samples_per_second: Measure = None  # type: ignore[assignment]
    train_io_mean_MB_per_second: Measure = None  # type: ignore[assignment]
    train_io_stdev_MB_per_second: Measure = None  # type: ignore[assignment]
    checkpoint_size_GB: Measure = None  # type: ignore[assignment]
    save_checkpoint_io_mean_GB_per_second: Measure = None  # type: ignore[assignment]
    save_checkpoint_io_stdev_GB_per_second: Measure = None  # type: ignore[assignment]
    save_checkpoint_duration_mean_seconds: Measure = None  # type: ignore[assignment]
    save_checkpoint_duration_stdev_seconds: Measure = None  # type: ignore[assignment]
    load_checkpoint_io_mean_GB_per_second: Measure = None  # type: ignore[assignment]
    load_checkpoint_io_stdev_GB_per_second: Measure = None  # type: ignore[assignment]
    load_checkpoint_duration_mean_seconds: Measure = None  # type: ignore[assignment]
    load_checkpoint_duration_stdev_seconds: Measure = None  # type: ignore[assignment]


class DlioSummary(BaseModel):
    """DLIO's `summary.json`, written by rank 0 (or by our checkpoint workload in the same shape)."""

    model_config = ConfigDict(extra="allow")

    # Every typed key may be absent (older files, other commands) but never null: a null is a damaged file.
    start: datetime = None  # type: ignore[assignment]
    end: datetime = None  # type: ignore[assignment]
    num_accelerators: Count = None  # type: ignore[assignment]
    num_hosts: Count = None  # type: ignore[assignment]
    hostname: Str = None  # type: ignore[assignment]
    metric: DlioMetric = Field(default_factory=DlioMetric)
    num_files_train: Count = None  # type: ignore[assignment]
    num_files_eval: Count = None  # type: ignore[assignment]
    num_samples_per_file: Count = None  # type: ignore[assignment]
    host_memory_GB: list[Measure] = None  # type: ignore[assignment]
    host_cpu_count: list[Count] = None  # type: ignore[assignment]
    host_meminfo: dict[str, Any] | None = None
    epochs: Count = None  # type: ignore[assignment]

    @property
    def duration_seconds(self) -> float | None:
        """Wall time between `start` and `end`, when both are recorded."""
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


class WorkloadConfig(BaseModel):
    """The parts of DLIO's resolved `workload:` config that rules read, normalised across both schemas.

    Values are coerced leniently (Hydra writes command-line overrides as strings such as "56").
    """

    model_config = ConfigDict(extra="ignore")

    model_name: str | None = None
    framework: str | None = None
    generate_data: bool | None = None
    train: bool | None = None
    checkpoint: bool | None = None
    data_folder: str | None = None
    format: str | None = None
    num_files_train: LenientCount | None = None
    num_subfolders_train: LenientCount | None = None
    num_samples_per_file: LenientCount | None = None
    record_length_bytes: LenientMeasure | None = None
    batch_size: LenientCount | None = None
    read_threads: LenientCount | None = None
    odirect: bool | None = None
    epochs: LenientCount | None = None
    computation_time: LenientMeasure | None = None
    au: LenientMeasure | None = None
    checkpoint_folder: str | None = None
    num_checkpoints_write: LenientCount | None = None
    num_checkpoints_read: LenientCount | None = None
    fsync: bool | None = None
    checkpoint_mode: str | None = None

    @classmethod
    def from_workload(cls, workload: dict[str, Any]) -> "WorkloadConfig":
        """Build from the `workload:` mapping of `config.yaml` (either DLIO schema)."""
        def get(path: str) -> Any:
            node: Any = workload
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    return None
                node = node[part]
            return node

        model = workload.get("model")
        model_name = model.get("name") if isinstance(model, dict) else model
        record = get("dataset.record_length_bytes")
        if record is None:
            record = get("dataset.record_length")
        values = {
            "model_name": model_name, "framework": get("framework"),
            "generate_data": get("workflow.generate_data"), "train": get("workflow.train"),
            "checkpoint": get("workflow.checkpoint"), "data_folder": get("dataset.data_folder"),
            "format": get("dataset.format"), "num_files_train": get("dataset.num_files_train"),
            "num_subfolders_train": get("dataset.num_subfolders_train"),
            "num_samples_per_file": get("dataset.num_samples_per_file"), "record_length_bytes": record,
            "batch_size": get("reader.batch_size"), "read_threads": get("reader.read_threads"),
            "odirect": get("reader.odirect"), "epochs": get("train.epochs"),
            "computation_time": get("train.computation_time"), "au": get("metric.au"),
            "checkpoint_folder": get("checkpoint.checkpoint_folder"),
            "num_checkpoints_write": get("checkpoint.num_checkpoints_write"),
            "num_checkpoints_read": get("checkpoint.num_checkpoints_read"),
            "fsync": get("checkpoint.fsync"), "checkpoint_mode": get("checkpoint.mode"),
        }
        return cls.model_validate({k: v for k, v in values.items() if v is not None})
