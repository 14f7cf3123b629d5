"""The schema of the checkpointing ruleset files (`rulesets/<version>/checkpointing.yaml`), the checkpoint sizing
maths the rules use, and the typed `workload` block our checkpoint workload adds to `summary.json` (parse hook)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from mlps_harness import rulesets
from mlps_harness.model import Run
from mlps_harness.model.types import Int, Num, Str
from mlps_harness.rules.training_ruleset import LayoutValues

WORKLOAD_DOC = "checkpoint_workload"


class ModelValues(BaseModel):
    """One row of the LLM table (upstream LLM_ALLOWED_VALUES + LLM_SIZE_BY_RANK)."""

    model_config = ConfigDict(extra="forbid")

    min_procs: int
    zero_stage: Literal[1, 3]
    tensor_parallelism: int
    pipeline_parallelism: int
    gpus_per_data_parallel: int
    closed_num_processes: int
    model_GB: float
    optimizer_GB: float

    @property
    def tp_pp(self) -> int:
        return self.tensor_parallelism * self.pipeline_parallelism

    @property
    def full_GB(self) -> float:
        """One full checkpoint (model + optimizer state), GiB."""
        return self.model_GB + self.optimizer_GB

    def rank_GB(self, num_processes: int, subset: bool) -> list[float]:
        """GiB each rank writes: ZeRO-3 splits everything over the world; ZeRO-1 splits the optimizer and the
        first `gpus_per_data_parallel` ranks also hold a slice of the model. Subset keeps the CLOSED world size."""
        world = self.closed_num_processes if subset else num_processes
        out = []
        for rank in range(num_processes):
            if self.zero_stage == 3:
                out.append(self.full_GB / world)
            else:
                model = self.model_GB / self.gpus_per_data_parallel if rank < self.gpus_per_data_parallel else 0.0
                out.append(self.optimizer_GB / world + model)
        return out

    def expected_GB(self, num_processes: int, subset: bool) -> float:
        """checkpoint_size_GB of an unscaled run on `num_processes` ranks."""
        return sum(self.rank_GB(num_processes, subset))


class CheckpointRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: dict[str, ModelValues]
    subset_num_processes: int
    subset_models: list[str]
    open_process_unit: Literal["gpus_per_data_parallel", "tp_pp"]
    closed_params: list[str]
    injected_params: list[str]
    num_checkpoints_write: int
    num_checkpoints_read: int
    counts_mismatch: Literal["OPEN", "INVALID"]
    size_tolerance: float
    clear_cache_factor: float
    cache_drop_methods: list[str]
    max_invocations: int
    max_phase_gap_seconds: float | None
    accelerator_memory_GB: dict[str, float]
    default_accelerator: str
    min_accelerators_per_host: int | None
    #: 2.1.23: most timestamp dirs (invocations) a checkpointing group may hold (None = no such rule)
    max_timestamp_dirs: int | None = None
    #: 4.7.3: the observed remap gap must be at least this fraction of the declared remap time (None = no rule)
    remap_min_fraction: float | None = None
    layout: dict[str, LayoutValues]

    def open_unit(self, model: ModelValues) -> int:
        """The number OPEN process counts must be a positive multiple of."""
        return model.tp_pp if self.open_process_unit == "tp_pp" else model.gpus_per_data_parallel


def checkpoint_rules(version: str) -> CheckpointRules:
    """The checkpointing ruleset for a version."""
    return rulesets.section(version, "checkpointing", CheckpointRules)


class WorkloadRecord(BaseModel):
    """The `workload` block of summary.json written by our checkpoint workload (absent in upstream results)."""

    model_config = ConfigDict(extra="allow")

    model: Str | None = None
    num_ranks: Int | None = None
    subset: bool | None = None
    mode: Str | None = None
    size_scale: Num | None = None
    fsync: bool | None = None
    odirect: bool | None = None
    transfer_size: Int | None = None
    cache_drop_method: Str | None = None
    cache_drop_methods_per_load: list[Str] | None = None
    num_checkpoints_write: Int | None = None
    num_checkpoints_read: Int | None = None
    checkpoint_folder: Str | None = None
    bytes_per_rank: list[Int] | None = None


def parse_checkpoint(run: Run) -> None:
    """`parse_extra` hook: type summary.json's `workload` block into `run.documents["checkpoint_workload"]`."""
    raw = run.summary_raw.get("workload") if isinstance(run.summary_raw, dict) else None
    if raw is None:
        return
    from mlps_harness.loader.parse import validation_finding

    shown = f"{run.run_id}/summary.json"
    if not isinstance(raw, dict):
        from mlps_harness.outcomes import invalid

        run.load_findings.append(invalid(f"{shown}: 'workload' must be a mapping", file=shown,
                                         parameter="workload", fix="restore the summary the workload wrote"))
        return
    try:
        run.documents[WORKLOAD_DOC] = WorkloadRecord.model_validate(raw)
    except ValidationError as exc:
        run.load_findings.append(validation_finding(exc, shown))


def workload_record(run: Run) -> WorkloadRecord | None:
    """Our workload's record of the run, or None for upstream DLIO results."""
    doc = run.documents.get(WORKLOAD_DOC)
    return doc if isinstance(doc, WorkloadRecord) else None


def checkpoint_counts(run: Run) -> tuple[int | None, int | None]:
    """(writes, reads) of one invocation: resolved config, our workload record, then metadata args."""
    record, wl = workload_record(run), run.workload
    args = run.metadata.args if run.metadata else None
    writes = next((v for v in (wl.num_checkpoints_write if wl else None,
                               record.num_checkpoints_write if record else None,
                               args.num_checkpoints_write if args else None) if v is not None), None)
    reads = next((v for v in (wl.num_checkpoints_read if wl else None,
                              record.num_checkpoints_read if record else None,
                              args.num_checkpoints_read if args else None) if v is not None), None)
    return writes, reads


def checkpoint_mode(run: Run) -> str | None:
    """`checkpoint.mode` of the run (None = default mode)."""
    if run.workload and run.workload.checkpoint_mode:
        return str(run.workload.checkpoint_mode)
    if run.params.get("checkpoint.mode"):
        return run.params["checkpoint.mode"]
    record = workload_record(run)
    if record and record.subset:
        return "subset"
    return None


def size_scale(run: Run) -> float:
    """Our workload's `--size-scale` (1.0 for upstream results, which cannot scale)."""
    record = workload_record(run)
    return float(record.size_scale) if record and record.size_scale is not None else 1.0


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def invocation_bounds(run: Run) -> tuple[datetime | None, datetime | None, str]:
    """Start and end of the invocation and their source: our metadata bookends, else DLIO's summary start/end."""
    extra = (run.metadata.model_extra or {}) if run.metadata else {}
    start, end = _parse_time(extra.get("invocation_start")), _parse_time(extra.get("invocation_end"))
    if start and end:
        return start, end, "metadata invocation_start/invocation_end"
    if run.summary and run.summary.start and run.summary.end:
        return run.summary.start, run.summary.end, "summary.json start/end"
    return None, None, "not recorded"
