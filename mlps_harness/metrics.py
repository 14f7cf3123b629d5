"""Typed figures of runs and submission groups: the models every report reads, and the helpers benchmarks use.

A benchmark names a module in `BenchmarkSpec.metrics`; the module exposes

- `RunMetrics` / `GroupMetrics`: pydantic models (subclasses of `RunMetricsBase` / `GroupMetricsBase`) whose
  fields stay absent (None) when a run does not record them — never a made-up 0;
- `run_metrics(run) -> RunMetrics | None` (None: this kind of run records no figures, e.g. a datagen);
- `group_metrics(runs: list[RunResult]) -> GroupFigures` (runs of one group and one accelerator type);
- `HEADLINES`: the group figures a report shows first (the first one is *the* headline);
- `charts(group: GroupResult, runs: list[RunResult]) -> list[Chart]`: what the HTML card draws.

Per-run figures travel from xdist workers as one JSON-plain user property (`METRICS_PROPERTY`) on the first rule
test of each run in each process, so the controller computes group figures without re-reading the tree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

from mlps_harness import properties as prop_names
from mlps_harness.argtypes import finite_float
from mlps_harness.spec import BenchmarkSpec, benchmarks

if TYPE_CHECKING:
    from mlps_harness.model import Run

SCHEMA_VERSION = "mlps-results-1"
METRICS_PROPERTY = prop_names.METRICS     #: user property name: a `RunResult` as JSON
_SENT_KEY = pytest.StashKey[set]()    #: run ids whose figures this process already attached to a report
INVALID_VALUE = "invalid value"       #: what reports show for a NaN or infinite recorded value
BOOKKEEPING = ("invalid_values", "no_figures_reason")   #: RunMetrics keys that are not figures


# --------------------------------------------------------------------------------------------------- models
class Headline(BaseModel):
    """A group figure shown in the terminal table, the HTML card and JUnit."""

    key: str
    label: str
    unit: str = ""
    better: Literal["higher", "lower"] = "higher"


class RunMetricsBase(BaseModel):
    """Base of a benchmark's per-run figures: unknown keys are refused, absent figures stay None."""

    model_config = ConfigDict(extra="forbid")

    #: figures the run recorded as NaN or infinity: reported as "invalid value", never plotted or averaged
    invalid_values: list[str] = Field(default_factory=list)
    #: why a run that should have figures has none (e.g. zero steps); reports say "no figures" and this
    no_figures_reason: str | None = None

    def has_figures(self) -> bool:
        """True when at least one figure was recorded (a finite number)."""
        return any(v is not None and v != [] and v != {} for k, v in self if k not in BOOKKEEPING)


class GroupMetricsBase(BaseModel):
    """Base of a benchmark's group figures."""

    model_config = ConfigDict(extra="forbid")


class GroupFigures(BaseModel):
    """What a benchmark's `group_metrics` returns: the figures, which runs they used, and how (with rule ids)."""

    metrics: SerializeAsAny[GroupMetricsBase]
    measured_runs: list[str] = Field(default_factory=list)
    excluded_runs: dict[str, str] = Field(default_factory=dict)   #: run id -> why it is not in the figures
    formulas: dict[str, str] = Field(default_factory=dict)        #: figure -> formula and the rule it follows


class RunResult(BaseModel):
    """One run's record in results.json (upstream reportgen's field names where upstream has one)."""

    run_id: str
    benchmark_type: str
    model: str | None = None
    command: str | None = None
    group: str
    accelerator: str | None = None
    num_processes: int | None = None
    num_hosts: int | None = None
    hosts: list[str] = Field(default_factory=list)
    host_memory_GB: list[float] = Field(default_factory=list)
    rules_version: str
    start: str | None = None
    #: the user's overrides (`--params` / `params_dict`), dotted keys
    parameters: dict[str, str] = Field(default_factory=dict)
    #: the run's verdict: CLOSED, OPEN or INVALID (None when no rule was evaluated on it)
    category: str | None = None
    #: the benchmark's `RunMetrics`; None for a run that records no figures by nature (datagen, load)
    metrics: dict[str, Any] | None = None

    def figures(self) -> dict[str, Any]:
        """The metrics without bookkeeping keys ({} when none)."""
        return {k: v for k, v in (self.metrics or {}).items() if k not in BOOKKEEPING}

    @property
    def invalid_values(self) -> list[str]:
        return list((self.metrics or {}).get("invalid_values", []))


class GroupResult(BaseModel):
    """One submission group (split per accelerator type) in results.json."""

    group: str                      #: group id, plus " [accelerator]" when the group mixes accelerator types
    group_id: str
    benchmark_type: str
    model: str | None = None
    accelerator: str | None = None
    category: str | None = None     #: the group's verdict
    runs: list[str] = Field(default_factory=list)
    measured_runs: list[str] = Field(default_factory=list)
    excluded_runs: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    formulas: dict[str, str] = Field(default_factory=dict)
    headlines: list[Headline] = Field(default_factory=list)
    #: change against `--mlps-compare`'s file: figure -> percent (None when not comparable)
    change_percent: dict[str, float | None] = Field(default_factory=dict)


class ReviewFinding(BaseModel):
    """One OPEN or INVALID finding, or a warning, with the v3.0 review's level (error / warning / info)."""

    rule: str | None = None
    run: str | None = None
    group: str | None = None
    division: str
    level: str | None = None
    review_level: Literal["error", "warning", "info"]
    message: str
    parameter: str | None = None
    expected: str | None = None
    actual: str | None = None
    fix: str | None = None
    file: str | None = None


class ResultsDocument(BaseModel):
    """results.json: every run's record and every group's figures and verdict."""

    schema_version: Literal["mlps-results-1"] = SCHEMA_VERSION
    generated: str
    verdict: str | None = None
    division: str | None = None
    rules_versions: list[str] = Field(default_factory=list)
    command_line: list[str] = Field(default_factory=list)
    runs: list[RunResult] = Field(default_factory=list)
    groups: list[GroupResult] = Field(default_factory=list)
    #: OPEN and INVALID findings, then warnings, each with its run, group and review level
    findings: list[ReviewFinding] = Field(default_factory=list)


class Series(BaseModel):
    """One data series of a chart; None = no value (not plotted, labelled in the chart)."""

    label: str
    values: list[float | None]


class RefLine(BaseModel):
    """A horizontal reference line (a mean, a threshold)."""

    label: str
    value: float
    style: Literal["mean", "threshold"] = "mean"


class Chart(BaseModel):
    """A chart a benchmark asks for; `mlps_harness.reporting.charts` draws it."""

    title: str
    unit: str = ""
    categories: list[str]
    series: list[Series]
    kind: Literal["bar", "line"] = "bar"
    lines: list[RefLine] = Field(default_factory=list)
    log_scale: bool = False


# -------------------------------------------------------------------------------------------------- helpers
def number(value: Any) -> tuple[float | None, bool]:
    """`(finite float, False)`, `(None, True)` for NaN/infinity, `(None, False)` for absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, False
    finite = finite_float(value)   # None for NaN, infinity and an integer too large for a float
    return finite, finite is None


class FigureReader:
    """Collects figures from raw JSON values: finite numbers kept, NaN/inf noted in `invalid`, the rest absent."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.invalid: list[str] = []

    def put(self, key: str, raw: Any) -> float | None:
        """Record one number; returns it (None when absent or invalid)."""
        value, bad = number(raw)
        if bad:
            self.invalid.append(key)
        elif value is not None:
            self.values[key] = value
        return value

    def put_each(self, source: dict[str, Any], keys: Iterable[str]) -> None:
        """Record `source[key]` for each of `keys` (an absent key stays absent)."""
        for key in keys:
            self.put(key, source.get(key))

    def put_list(self, key: str, raw: Any) -> list[float] | None:
        """Record a list of numbers; one NaN/inf element marks the whole list invalid."""
        if not isinstance(raw, list) or not raw:
            return None
        values = [number(v) for v in raw]
        if any(bad for _, bad in values):
            self.invalid.append(key)
            return None
        if any(v is None for v, _ in values):
            return None
        self.values[key] = [v for v, _ in values]
        return self.values[key]

    def build(self, model: type[RunMetricsBase], **extra: Any) -> RunMetricsBase:
        """The benchmark's `RunMetrics` from what was collected."""
        return model(**self.values, **extra, invalid_values=sorted(set(self.invalid)))


def whole_number(value: Any) -> int | None:
    """A JSON integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def whole_numbers(source: dict[str, Any], keys: Iterable[str]) -> dict[str, int]:
    """`{key: source[key]}` for each of `keys` whose value is a JSON integer (not a boolean)."""
    return {key: source[key] for key in keys if whole_number(source.get(key)) is not None}


def mean(values: Iterable[float | None]) -> float | None:
    """Arithmetic mean of the values that are present (None when none is)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def maximum(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def minimum(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def pick(runs: list[RunResult], key: str) -> list[float | None]:
    """The value of one figure in each run (None where absent)."""
    return [r.figures().get(key) for r in runs]


def lookup(metrics: dict[str, Any], key: str) -> Any:
    """A figure by dotted path (`options.1.aggregated_read_bandwidth_gbps`), or None."""
    node: Any = metrics
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def metrics_module(benchmark: str) -> Any:
    """The metrics module a registered benchmark names, or None."""
    spec: BenchmarkSpec | None = benchmarks().get(benchmark)
    if spec is None or spec.metrics is None:
        return None
    return spec.hook(spec.metrics)


# ------------------------------------------------------------------------------------ per-run, on workers
def run_result(run: "Run") -> RunResult:
    """The record of one parsed run (its verdict is filled in on the controller)."""
    ref, meta = run.ref, run.metadata
    args = meta.args if meta else None
    summary = run.summary
    module = metrics_module(ref.benchmark)
    metrics: dict[str, Any] | None = None
    if module is not None:
        try:
            figures = module.run_metrics(run)
        except Exception as exc:  # a figure the report cannot compute must not take the audit down
            figures = None
            metrics = {"invalid_values": [f"figures could not be read: {type(exc).__name__}: {exc}"[:200]]}
        if figures is not None:
            metrics = figures.model_dump(mode="json", exclude_none=True)
    memory = [v for v in (number(m)[0] for m in (summary.host_memory_GB or [])) if v is not None] \
        if summary else []
    return RunResult(
        run_id=run.run_id, benchmark_type=ref.benchmark, model=ref.model, command=ref.command, group=ref.group_id,
        accelerator=run.accelerator, num_processes=run.num_processes,
        num_hosts=summary.num_hosts if summary and summary.num_hosts is not None else None,
        hosts=args.host_list if args else [], host_memory_GB=memory, rules_version=run.rules_version,
        start=summary.start.isoformat() if summary and summary.start else (meta.run_datetime if meta else None),
        parameters=dict(run.params), metrics=metrics)


def sent_results(config: pytest.Config) -> set[str]:
    """The runs whose record this process has put on a report (the audit pool hands its processes' sets back)."""
    return config.stash.setdefault(_SENT_KEY, set())


def attach_run_result(item: pytest.Item, run: "Run") -> None:
    """Put the run's record on this test's report, once per run and process (the controller dedups workers)."""
    sent = sent_results(item.config)
    if run.run_id in sent:
        return
    sent.add(run.run_id)
    item.user_properties.append((METRICS_PROPERTY, json.dumps(run_result(run).model_dump(mode="json"))))
