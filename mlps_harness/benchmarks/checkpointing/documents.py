"""The checkpointing run's typed documents: our workload record in summary.json, and what rules derive from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mlps_harness.model import Run
from mlps_harness.model.types import Int, Num, Str

WORKLOAD_DOC = "checkpoint_workload"   #: run.documents key of the typed workload record


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
    """Parse hook: type summary.json's `workload` block into `run.documents["checkpoint_workload"]`."""
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


def _param_int(run: Run, key: str) -> int | None:
    value = run.params.get(key)
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def checkpoint_counts(run: Run) -> tuple[int | None, int | None]:
    """(writes, reads) of one invocation: resolved config, our workload record, metadata args, then the overrides
    (metadata params or `dlio_config/overrides.yaml`, where v3.0 split invocations record them)."""
    record, wl = workload_record(run), run.workload
    args = run.metadata.args if run.metadata else None
    writes = next((v for v in (wl.num_checkpoints_write if wl else None,
                               record.num_checkpoints_write if record else None,
                               args.num_checkpoints_write if args else None,
                               _param_int(run, "checkpoint.num_checkpoints_write")) if v is not None), None)
    reads = next((v for v in (wl.num_checkpoints_read if wl else None,
                              record.num_checkpoints_read if record else None,
                              args.num_checkpoints_read if args else None,
                              _param_int(run, "checkpoint.num_checkpoints_read")) if v is not None), None)
    return writes, reads


def flatten(node: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested mapping as dotted keys -> leaf values."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def same_value(value: Any, reference: Any) -> bool:
    """Equal as DLIO/hydra render them: booleans case-insensitively ("True"/true), numbers numerically."""
    if isinstance(reference, bool):
        return str(value).lower() == str(reference).lower()
    try:
        return float(value) == float(reference)
    except (TypeError, ValueError, OverflowError):   # OverflowError: an integer too large for a float
        return str(value) == str(reference)


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
