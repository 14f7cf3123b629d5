"""KV cache figures: per Option and trial the aggregated storage bandwidth, tokens/s and device P95 latencies.

Aggregation follows Rules.md §6 (and `aggregate.py`, which wrote the run summary): a trial's bandwidth and
storage tokens/s are the sums over its ranks; an Option's figure is the mean over its trials; device P95
latencies are the maximum over every rank and trial. A group's figure per Option applies the same rule to the
trials of all its runs. Bandwidths are GiB/s as the benchmark reports them.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict

from mlps_harness.benchmarks.kv_cache.documents import summary_names
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
    whole_number,
)
from mlps_harness.model import Run

SUMMED = ("read_bandwidth_gbps", "write_bandwidth_gbps", "storage_throughput_tokens_per_sec")
MAXED = ("device_read_p95_ms", "device_write_p95_ms")


class TrialFigures(BaseModel):
    """One trial of an Option: rates summed over ranks, P95s the max over ranks."""

    model_config = ConfigDict(extra="forbid")

    trial: int
    read_bandwidth_gbps: float | None = None
    write_bandwidth_gbps: float | None = None
    storage_throughput_tokens_per_sec: float | None = None
    device_read_p95_ms: float | None = None
    device_write_p95_ms: float | None = None


class OptionFigures(BaseModel):
    """One Option of a run (or of a group): upstream's `aggregated_*` names."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    num_users: int | None = None
    aggregated_read_bandwidth_gbps: float | None = None
    aggregated_write_bandwidth_gbps: float | None = None
    aggregated_storage_throughput_tokens_per_sec: float | None = None
    aggregated_device_read_p95_ms: float | None = None
    aggregated_device_write_p95_ms: float | None = None
    trial_count: int | None = None
    rank_count: int | None = None
    trials: list[TrialFigures] = []


class RunMetrics(RunMetricsBase):
    """One KV cache run: its Options."""

    total_ranks: int | None = None
    trials_per_option: int | None = None
    options: dict[str, OptionFigures] = {}


class GroupMetrics(GroupMetricsBase):
    """One model's group: each Option aggregated over every trial of every run."""

    options: dict[str, OptionFigures] = {}


def _raw_summary(run: Run) -> dict[str, Any] | None:
    from mlps_harness.loader.safe_io import read_json

    names = summary_names(run.file_names())
    if not names:
        return None
    name = next((n for n in names if run.ref.leaf in n), names[0])
    data, problem = read_json(os.path.join(run.ref.path, name), f"{run.run_id}/{name}")
    return data if problem is None and isinstance(data, dict) else None


def _trial(raw: dict[str, Any], index: int, reader: FigureReader, where: str) -> TrialFigures:
    ranks = [r for r in raw.get("ranks") or [] if isinstance(r, dict)]
    values: dict[str, Any] = {}
    for key in (*SUMMED, *MAXED):
        if key in raw:
            values[key] = reader.put(f"{where}.{key}", raw[key])
        elif ranks and all(key in r for r in ranks):   # sum / max over the ranks, as Rules.md §6 aggregates
            per_rank = [reader.put(f"{where}.rank_{r.get('rank')}.{key}", r[key]) for r in ranks]
            if None not in per_rank:
                values[key] = sum(per_rank) if key in SUMMED else max(per_rank)
    return TrialFigures(trial=whole_number(raw.get("trial")) or index + 1, **values)


def run_metrics(run: Run) -> RunMetrics:
    """Each Option's recorded aggregates and its trials' figures (absent stays absent)."""
    raw = _raw_summary(run)
    reader = FigureReader()
    if raw is None:
        return RunMetrics(no_figures_reason="no readable summary.json (crashed or interrupted run)")
    options: dict[str, OptionFigures] = {}
    for name, option in sorted((raw.get("options") or {}).items()):
        if not isinstance(option, dict):
            continue
        values: dict[str, Any] = {}
        for key in (f"aggregated_{k}" for k in (*SUMMED, *MAXED)):
            if key in option:
                values[key] = reader.put(f"options.{name}.{key}", option[key])
        trials = [_trial(t, i, reader, f"options.{name}.trials.{i}") for i, t in enumerate(option.get("trials") or [])
                  if isinstance(t, dict)]
        options[str(name)] = OptionFigures(
            model=option.get("model") if isinstance(option.get("model"), str) else None,
            num_users=whole_number(option.get("num_users")), trial_count=whole_number(option.get("trial_count")),
            rank_count=whole_number(option.get("rank_count")), trials=trials, **values)
    return RunMetrics(total_ranks=whole_number(raw.get("total_ranks")),
                      trials_per_option=whole_number(raw.get("trials_per_option")), options=options,
                      invalid_values=sorted(set(reader.invalid)))


def _group_option(per_run: list[OptionFigures]) -> OptionFigures:
    trials = [t for o in per_run for t in o.trials]
    out: dict[str, Any] = {}
    for key in SUMMED:
        values = [getattr(t, key) for t in trials if getattr(t, key) is not None]
        out[f"aggregated_{key}"] = (sum(values) / len(values) if values
                                    else mean(getattr(o, f"aggregated_{key}") for o in per_run))
    for key in MAXED:
        out[f"aggregated_{key}"] = maximum([*(getattr(t, key) for t in trials),
                                            *(getattr(o, f"aggregated_{key}") for o in per_run)])
    return OptionFigures(model=per_run[0].model, num_users=per_run[0].num_users,
                         trial_count=len(trials) or sum(o.trial_count or 0 for o in per_run) or None,
                         rank_count=maximum(o.rank_count for o in per_run), **out)


def group_metrics(runs: list[RunResult]) -> GroupFigures:
    """Per Option: rates averaged over every trial of the group, P95s the maximum (Rules.md §6)."""
    measured = [r for r in runs if (r.metrics or {}).get("options")]
    excluded = {r.run_id: "no figures" + (f" ({r.metrics['no_figures_reason']})" if r.metrics and
                                          r.metrics.get("no_figures_reason") else "")
                for r in runs if r not in measured}
    by_option: dict[str, list[OptionFigures]] = {}
    for r in measured:
        for name, option in r.metrics["options"].items():
            by_option.setdefault(name, []).append(OptionFigures.model_validate(option))
    options = {name: _group_option(items) for name, items in sorted(by_option.items())}
    rule = ("per Option: per-trial sum over ranks, mean over all trials of the group's runs; device P95 = max over "
            "ranks and trials (Rules.md §6)")
    return GroupFigures(metrics=GroupMetrics(options=options), measured_runs=[r.run_id for r in measured],
                        excluded_runs=excluded, formulas={"options": rule})


def headlines(metrics: dict[str, Any]) -> list[Headline]:
    """Storage tokens/s and read bandwidth of each Option."""
    out = []
    for name in sorted((metrics.get("options") or {})):
        out.append(Headline(key=f"options.{name}.aggregated_storage_throughput_tokens_per_sec",
                            label=f"option {name} tokens/s", unit="tokens/s"))
        out.append(Headline(key=f"options.{name}.aggregated_read_bandwidth_gbps", label=f"option {name} read",
                            unit="GiB/s"))
    return out


def charts(group: GroupResult, runs: list[RunResult]) -> list[Chart]:  # noqa: ARG001
    """Bandwidth and device P95 per Option (the group's figures)."""
    options = group.metrics.get("options") or {}
    names = sorted(options)
    if not names:
        return []
    labels = [f"option {n}" for n in names]

    def values(key: str) -> list[float | None]:
        return [options[n].get(key) for n in names]

    return [Chart(title="Storage bandwidth per Option (mean over trials)", unit="GiB/s", categories=labels,
                  series=[Series(label="read", values=values("aggregated_read_bandwidth_gbps")),
                          Series(label="write", values=values("aggregated_write_bandwidth_gbps"))]),
            Chart(title="Storage tokens/s per Option", unit="tokens/s", categories=labels,
                  series=[Series(label="tokens/s", values=values("aggregated_storage_throughput_tokens_per_sec"))]),
            Chart(title="Device P95 latency per Option (max over ranks and trials)", unit="ms", categories=labels,
                  series=[Series(label="read P95", values=values("aggregated_device_read_p95_ms")),
                          Series(label="write P95", values=values("aggregated_device_write_p95_ms"))])]
