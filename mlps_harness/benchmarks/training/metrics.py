"""Training figures: DLIO's `summary.json` metrics per run, and the group figures the rules define.

Per run, the figures are DLIO's own (upstream reportgen's names): AU per epoch and mean, samples/s, MiB/s
(DLIO's `MB` is 1024² bytes). Per group and accelerator type: the mean over the measured runs, the warm-up (the
earliest run directory) excluded — Rules.md 2.1.17 (one warm-up + five measured runs) and the v2.0 submission
guidelines ("the result is the mean of the five runs"); the AU bar is rule 3.3.2's.
"""

from __future__ import annotations

from typing import Any

from mlps_harness.metrics import (
    Chart,
    FigureReader,
    GroupFigures,
    GroupMetricsBase,
    GroupResult,
    Headline,
    RefLine,
    RunMetricsBase,
    RunResult,
    Series,
    mean,
    pick,
    whole_numbers,
)
from mlps_harness.model import Run

_RUN = ("train_au_mean_percentage", "train_au_stdev_percentage", "train_throughput_mean_samples_per_second",
        "train_throughput_stdev_samples_per_second", "train_io_mean_MB_per_second", "train_io_stdev_MB_per_second",
        "save_checkpoint_io_mean_GB_per_second", "save_checkpoint_duration_mean_seconds", "checkpoint_size_GB")
_LISTS = ("train_au_percentage", "train_throughput_samples_per_second")


class RunMetrics(RunMetricsBase):
    """One training run (DLIO summary.json `metric` block, plus the run's shape)."""

    train_au_percentage: list[float] | None = None
    train_au_mean_percentage: float | None = None
    train_au_stdev_percentage: float | None = None
    train_au_meet_expectation: str | None = None
    train_throughput_samples_per_second: list[float] | None = None
    train_throughput_mean_samples_per_second: float | None = None
    train_throughput_stdev_samples_per_second: float | None = None
    train_io_mean_MB_per_second: float | None = None
    train_io_stdev_MB_per_second: float | None = None
    save_checkpoint_io_mean_GB_per_second: float | None = None
    save_checkpoint_duration_mean_seconds: float | None = None
    checkpoint_size_GB: float | None = None
    epochs: int | None = None
    num_accelerators: int | None = None
    num_hosts: int | None = None


class GroupMetrics(GroupMetricsBase):
    """One submission group and accelerator type."""

    train_au_mean_percentage: float | None = None
    train_throughput_mean_samples_per_second: float | None = None
    train_io_mean_MB_per_second: float | None = None
    au_minimum_percentage: float | None = None
    au_bar_met: bool | None = None
    num_accelerators: int | None = None
    #: accelerators the storage kept at the AU bar: the runs' accelerator count when every measured run met it
    accelerators_sustained: int | None = None


def run_metrics(run: Run) -> RunMetrics | None:
    """The figures of a `run` command's directory (None for datagen: it records no figures)."""
    if run.ref.command != "run":
        return None
    raw = run.summary_raw if isinstance(run.summary_raw, dict) else {}
    metric = raw.get("metric") if isinstance(raw.get("metric"), dict) else {}
    reader = FigureReader()
    reader.put_each(metric, _RUN)
    for key in _LISTS:
        reader.put_list(key, metric.get(key))
    extra: dict[str, Any] = whole_numbers(raw, ("epochs", "num_accelerators", "num_hosts"))
    if isinstance(metric.get("train_au_meet_expectation"), str):
        extra["train_au_meet_expectation"] = metric["train_au_meet_expectation"]
    if not raw:
        extra["no_figures_reason"] = "no readable summary.json (crashed or interrupted run)"
    elif reader.values.get("train_throughput_mean_samples_per_second") == 0.0:
        # DLIO exits 0 with all-zero metrics below two steps per epoch (rule H2.7): those zeros are not figures
        return RunMetrics(no_figures_reason="zero steps: DLIO recorded all-zero metrics (rule H2.7)", **{
            k: v for k, v in extra.items() if k != "train_au_meet_expectation"})
    return reader.build(RunMetrics, **extra)


def _au_minimum(version: str, model: str | None) -> float | None:
    from mlps_harness.benchmarks.training.ruleset import training_rules

    try:
        value = training_rules(version).au_minimum.get(model or "")
    except Exception:  # no ruleset for this version: no bar to draw
        return None
    return value * 100 if value is not None else None


def _warmup_count(version: str) -> int:
    from mlps_harness.benchmarks.training.ruleset import training_rules

    try:
        return training_rules(version).submission.warmup_runs
    except Exception:
        return 1


def _leaf(run: RunResult) -> tuple[str, str]:
    """Sort key: the timestamp directory name (= start time), as the rules order runs."""
    return run.run_id.rsplit("/", 1)[-1], run.run_id


def group_metrics(runs: list[RunResult]) -> GroupFigures:
    """Mean over the measured runs (warm-up excluded), and whether every measured run met the AU bar."""
    measured_cmd = sorted((r for r in runs if r.command == "run"), key=_leaf)
    version = max((r.rules_version for r in runs), default="v3.0")
    warmups = _warmup_count(version) if len(measured_cmd) > 1 else len(measured_cmd)
    excluded = {r.run_id: "warm-up (the earliest run directory; rule 2.1.17)" for r in measured_cmd[:warmups]}
    candidates = measured_cmd[warmups:]
    measured = [r for r in candidates if r.figures()]
    excluded.update({r.run_id: "no figures" + (f" ({r.metrics['no_figures_reason']})"
                                               if r.metrics and r.metrics.get("no_figures_reason") else "")
                     for r in candidates if not r.figures()})
    bar = _au_minimum(version, runs[0].model if runs else None)
    au = pick(measured, "train_au_mean_percentage")
    met = None if not measured or any(a is None for a in au) or bar is None else all(a >= bar for a in au)
    accel = next((r.figures().get("num_accelerators") or r.num_processes for r in measured), None)
    metrics = GroupMetrics(
        train_au_mean_percentage=mean(au),
        train_throughput_mean_samples_per_second=mean(pick(measured, "train_throughput_mean_samples_per_second")),
        train_io_mean_MB_per_second=mean(pick(measured, "train_io_mean_MB_per_second")),
        au_minimum_percentage=bar, au_bar_met=met, num_accelerators=accel,
        accelerators_sustained=accel if met else None)
    rule = "mean over the measured runs, warm-up excluded (Rules.md 2.1.17; v2.0 guidelines: mean of 5 runs)"
    return GroupFigures(metrics=metrics, measured_runs=[r.run_id for r in measured], excluded_runs=excluded,
                        formulas={"train_au_mean_percentage": rule,
                                  "train_throughput_mean_samples_per_second": rule,
                                  "train_io_mean_MB_per_second": rule,
                                  "au_minimum_percentage": f"{version} ruleset au_minimum (rule 3.3.2)",
                                  "accelerators_sustained": "the runs' accelerator count when every measured run's "
                                                            "mean AU reaches the bar (rule 3.3.2), else absent"})


def headlines(metrics: dict[str, Any]) -> list[Headline]:  # noqa: ARG001 - the same for every group
    """The group figures reports show, the headline first."""
    return [Headline(key="train_io_mean_MB_per_second", label="throughput", unit="MiB/s"),
            Headline(key="train_throughput_mean_samples_per_second", label="sample rate", unit="samples/s"),
            Headline(key="train_au_mean_percentage", label="AU", unit="%"),
            Headline(key="accelerators_sustained", label="accelerators at AU bar", unit="")]


def charts(group: GroupResult, runs: list[RunResult]) -> list[Chart]:
    """Per-run MiB/s with the measured-run mean, and AU per epoch with the AU bar."""
    ordered = sorted((r for r in runs if r.command == "run"), key=_leaf)
    labels = [r.run_id.rsplit("/", 1)[-1] + (" (warm-up)" if "warm-up" in group.excluded_runs.get(r.run_id, "")
                                               else "") for r in ordered]
    out = []
    mib = group.metrics.get("train_io_mean_MB_per_second")
    out.append(Chart(title="Read throughput per run", unit="MiB/s", categories=labels,
                     series=[Series(label="MiB/s", values=pick(ordered, "train_io_mean_MB_per_second"))],
                     lines=[RefLine(label=f"mean of measured runs {mib:,.1f}", value=mib)] if mib is not None
                     else []))
    measured = [r for r in ordered if r.run_id in group.measured_runs]
    epochs = max((len(r.figures().get("train_au_percentage") or []) for r in measured), default=0)
    if epochs:
        bar = group.metrics.get("au_minimum_percentage")
        out.append(Chart(title="Accelerator utilisation per epoch", unit="AU %", kind="line",
                         categories=[f"epoch {i + 1}" for i in range(epochs)],
                         series=[Series(label=r.run_id.rsplit("/", 1)[-1],
                                        values=list(r.figures().get("train_au_percentage") or [])
                                        + [None] * (epochs - len(r.figures().get("train_au_percentage") or [])))
                                 for r in measured],
                         lines=[RefLine(label=f"AU bar {bar:.0f} %", value=bar, style="threshold")]
                         if bar is not None else []))
    return out
