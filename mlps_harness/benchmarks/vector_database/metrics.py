"""Vector database figures: QPS, latency percentiles and recall per run, and their mean over a group's runs.

Per run the figures are `summary.json`'s (vdbbench's statistics names). Per group (engine and index) the figure is
the mean over the `run` directories (Rules.md §5 asks for five runs per index; their mean is the result).
"""

from __future__ import annotations

from typing import Any

from mlps_harness.benchmarks.vector_database.documents import summary
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

_KEYS = ("throughput_qps", "mean_latency_ms", "p95_latency_ms", "p99_latency_ms", "p999_latency_ms",
         "total_time_seconds", "runtime_seconds")
_GROUPED = ("throughput_qps", "mean_latency_ms", "p95_latency_ms", "p99_latency_ms", "p999_latency_ms", "recall")


class RunMetrics(RunMetricsBase):
    """One query run."""

    throughput_qps: float | None = None
    mean_latency_ms: float | None = None
    p95_latency_ms: float | None = None
    p99_latency_ms: float | None = None
    p999_latency_ms: float | None = None
    recall: float | None = None
    recall_k: int | None = None
    total_queries: int | None = None
    total_time_seconds: float | None = None
    runtime_seconds: float | None = None


class GroupMetrics(GroupMetricsBase):
    """One engine and index."""

    throughput_qps: float | None = None
    mean_latency_ms: float | None = None
    p95_latency_ms: float | None = None
    p99_latency_ms: float | None = None
    p999_latency_ms: float | None = None
    recall: float | None = None


def run_metrics(run: Run) -> RunMetrics | None:
    """The figures of a `run` directory (None for load/datagen directories)."""
    if run.ref.command != "run":
        return None
    raw = run.summary_raw if isinstance(run.summary_raw, dict) else {}
    reader = FigureReader()
    reader.put_each(raw, _KEYS)
    recall = raw.get("recall")
    if isinstance(recall, dict):   # upstream's statistics mapping
        recall = recall.get("mean_recall", recall.get("recall_at_k"))
    reader.put("recall", recall)
    extra: dict[str, Any] = whole_numbers(raw, ("recall_k", "total_queries"))
    if not raw and summary(run) is None:
        extra["no_figures_reason"] = "no readable summary.json (crashed or interrupted run)"
    return reader.build(RunMetrics, **extra)


def group_metrics(runs: list[RunResult]) -> GroupFigures:
    """The mean of each figure over the group's query runs that recorded it."""
    measured = [r for r in runs if r.command == "run" and r.figures()]
    excluded = {r.run_id: ("no figures" + (f" ({r.metrics['no_figures_reason']})" if r.metrics and
                                           r.metrics.get("no_figures_reason") else "")) if r.command == "run"
                else f"{r.command} directory (records no query figures)" for r in runs if r not in measured}
    metrics = GroupMetrics(**{key: mean(pick(measured, key)) for key in _GROUPED})
    rule = "mean over the group's query runs (Rules.md §5: five runs per index)"
    return GroupFigures(metrics=metrics, measured_runs=[r.run_id for r in measured], excluded_runs=excluded,
                        formulas={key: rule for key in _GROUPED})


def headlines(metrics: dict[str, Any]) -> list[Headline]:  # noqa: ARG001
    """QPS first, then latency and recall."""
    return [Headline(key="throughput_qps", label="QPS", unit="queries/s"),
            Headline(key="p99_latency_ms", label="p99 latency", unit="ms", better="lower"),
            Headline(key="mean_latency_ms", label="mean latency", unit="ms", better="lower"),
            Headline(key="recall", label="recall", unit="")]


def charts(group: GroupResult, runs: list[RunResult]) -> list[Chart]:  # noqa: ARG001
    """QPS per run, and each run's latency percentiles with its recall in the label."""
    ordered = sorted((r for r in runs if r.command == "run"), key=lambda r: r.run_id)
    labels = [r.run_id.rsplit("/", 1)[-1] for r in ordered]
    recall = [r.figures().get("recall") for r in ordered]
    qps = group.metrics.get("throughput_qps")
    return [Chart(title="Queries per second per run", unit="QPS", categories=labels,
                  series=[Series(label="QPS", values=pick(ordered, "throughput_qps"))],
                  lines=[RefLine(label=f"mean {qps:,.1f}", value=qps)] if qps is not None else []),
            Chart(title="Latency percentiles per run (recall in the labels)", unit="ms",
                  categories=[f"{label}\nrecall {r:.3f}" if r is not None else f"{label}\nrecall -"
                              for label, r in zip(labels, recall)],
                  series=[Series(label=name, values=pick(ordered, key)) for name, key in (
                      ("mean", "mean_latency_ms"), ("p95", "p95_latency_ms"), ("p99", "p99_latency_ms"),
                      ("p99.9", "p999_latency_ms"))])]
