"""Checkpointing figures: write (save) and read (load) throughput and duration per run, and per group.

Per run the figures are the summary's (upstream DLIO names): per checkpoint the duration is the maximum over
ranks and the throughput the checkpoint size over that duration; the summary holds their mean and stdev. DLIO's
`GB` is 1024³ bytes. Per group (rule 4.3.6): the mean over the runs of each phase's figures — a two-invocation
submission (4.7.1: writes, then reads) takes its write figures from one run and its read figures from the other.
"""

from __future__ import annotations

from typing import Any

from mlps_harness.benchmarks.checkpointing.documents import checkpoint_counts
from mlps_harness.metrics import (
    Chart,
    FigureReader,
    GroupFigures,
    GroupMetricsBase,
    GroupResult,
    Headline,
    RunMetricsBase,
    RunResult,
    Series,
    maximum,
    mean,
    pick,
)
from mlps_harness.model import Run

_PHASE_KEYS = tuple(f"{phase}_checkpoint_{what}" for phase in ("save", "load") for what in (
    "io_mean_GB_per_second", "io_stdev_GB_per_second", "duration_mean_seconds", "duration_stdev_seconds"))


class RunMetrics(RunMetricsBase):
    """One checkpointing invocation."""

    checkpoint_size_GB: float | None = None
    save_checkpoint_io_mean_GB_per_second: float | None = None
    save_checkpoint_io_stdev_GB_per_second: float | None = None
    save_checkpoint_duration_mean_seconds: float | None = None
    save_checkpoint_duration_stdev_seconds: float | None = None
    load_checkpoint_io_mean_GB_per_second: float | None = None
    load_checkpoint_io_stdev_GB_per_second: float | None = None
    load_checkpoint_duration_mean_seconds: float | None = None
    load_checkpoint_duration_stdev_seconds: float | None = None
    num_checkpoints_write: int | None = None
    num_checkpoints_read: int | None = None
    num_processes: int | None = None


class GroupMetrics(GroupMetricsBase):
    """One submission group and accelerator type."""

    checkpoint_size_GB: float | None = None
    save_checkpoint_io_mean_GB_per_second: float | None = None
    save_checkpoint_duration_mean_seconds: float | None = None
    load_checkpoint_io_mean_GB_per_second: float | None = None
    load_checkpoint_duration_mean_seconds: float | None = None
    num_checkpoints_write: int | None = None
    num_checkpoints_read: int | None = None


def run_metrics(run: Run) -> RunMetrics:
    """The invocation's figures from summary.json's `metric` block; counts from the config or our record."""
    raw = run.summary_raw if isinstance(run.summary_raw, dict) else {}
    metric = raw.get("metric") if isinstance(raw.get("metric"), dict) else {}
    reader = FigureReader()
    reader.put_each(metric, ("checkpoint_size_GB", *_PHASE_KEYS))
    writes, reads = checkpoint_counts(run)
    extra: dict[str, Any] = {"num_checkpoints_write": writes, "num_checkpoints_read": reads,
                             "num_processes": run.num_processes}
    if not raw:
        extra["no_figures_reason"] = "no readable summary.json (crashed or interrupted run)"
    return reader.build(RunMetrics, **extra)


def group_metrics(runs: list[RunResult]) -> GroupFigures:
    """Each phase's figures averaged over the runs that have that phase (rule 4.3.6)."""
    measured = [r for r in runs if r.figures().get("save_checkpoint_io_mean_GB_per_second") is not None
                or r.figures().get("load_checkpoint_io_mean_GB_per_second") is not None]
    excluded = {r.run_id: "no figures" + (f" ({r.metrics['no_figures_reason']})" if r.metrics and
                                          r.metrics.get("no_figures_reason") else "")
                for r in runs if r not in measured}

    def total(key: str) -> int | None:
        values = [r.figures().get(key) for r in runs if r.figures().get(key) is not None]
        return int(sum(values)) if values else None

    metrics = GroupMetrics(
        checkpoint_size_GB=maximum(pick(measured, "checkpoint_size_GB")),
        save_checkpoint_io_mean_GB_per_second=mean(pick(measured, "save_checkpoint_io_mean_GB_per_second")),
        save_checkpoint_duration_mean_seconds=mean(pick(measured, "save_checkpoint_duration_mean_seconds")),
        load_checkpoint_io_mean_GB_per_second=mean(pick(measured, "load_checkpoint_io_mean_GB_per_second")),
        load_checkpoint_duration_mean_seconds=mean(pick(measured, "load_checkpoint_duration_mean_seconds")),
        num_checkpoints_write=total("num_checkpoints_write"), num_checkpoints_read=total("num_checkpoints_read"))
    phase = ("mean over the runs that wrote (save) / read (load) checkpoints of each run's mean per-checkpoint "
             "figure, where a checkpoint's duration is the max over ranks (rule 4.3.6)")
    return GroupFigures(metrics=metrics, measured_runs=[r.run_id for r in measured], excluded_runs=excluded,
                        formulas={"save_checkpoint_io_mean_GB_per_second": phase,
                                  "save_checkpoint_duration_mean_seconds": phase,
                                  "load_checkpoint_io_mean_GB_per_second": phase,
                                  "load_checkpoint_duration_mean_seconds": phase,
                                  "checkpoint_size_GB": "the largest checkpoint of the group's runs",
                                  "num_checkpoints_write": "sum over the group's runs (rule H4.10 / 4.7.1)",
                                  "num_checkpoints_read": "sum over the group's runs (rule H4.10 / 4.7.1)"})


def headlines(metrics: dict[str, Any]) -> list[Headline]:  # noqa: ARG001
    """Write and read throughput first, then durations."""
    return [Headline(key="save_checkpoint_io_mean_GB_per_second", label="write", unit="GiB/s"),
            Headline(key="load_checkpoint_io_mean_GB_per_second", label="read", unit="GiB/s"),
            Headline(key="save_checkpoint_duration_mean_seconds", label="write time", unit="s", better="lower"),
            Headline(key="load_checkpoint_duration_mean_seconds", label="read time", unit="s", better="lower")]


def charts(group: GroupResult, runs: list[RunResult]) -> list[Chart]:  # noqa: ARG001
    """Write and read GiB/s per run."""
    ordered = sorted(runs, key=lambda r: r.run_id)
    return [Chart(title="Checkpoint write and read throughput per run", unit="GiB/s",
                  categories=[r.run_id.rsplit("/", 1)[-1] for r in ordered],
                  series=[Series(label="write (save)", values=pick(ordered, "save_checkpoint_io_mean_GB_per_second")),
                          Series(label="read (load)", values=pick(ordered, "load_checkpoint_io_mean_GB_per_second"))])]
