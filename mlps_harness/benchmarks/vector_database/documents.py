"""Typed vector database documents: the parse hook of this benchmark.

It reads `summary.json`, `config.json`, `recall_stats.json` (run dirs) and `load_summary.json` (load dirs) with
the safe readers into strict pydantic models (extra keys allowed) kept in `run.documents`; every problem becomes a
finding in `run.load_findings` (reported by H6.1 documents-parse). A missing file is left to the layout rule.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict

from mlps_harness.loader.parse import typed
from mlps_harness.loader.safe_io import read_json
from mlps_harness.model import Run
from mlps_harness.model.types import Int, Num, Str

SUMMARY = "vdb_summary"
CONFIG = "vdb_config"
RECALL = "vdb_recall"
LOAD = "vdb_load"


class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow")


class RecallStats(_Doc):
    """`recall_stats.json`: recall@k over the evaluated queries."""

    recall_at_k: Num | None = None
    num_queries_evaluated: Int | None = None
    k: Int | None = None
    min_recall: Num | None = None
    max_recall: Num | None = None
    mean_recall: Num | None = None


class VdbSummary(_Doc):
    """`summary.json`: statistics.json with recall reduced to its mean, plus the dataset and index."""

    throughput_qps: Num | None = None
    mean_latency_ms: Num | None = None
    p95_latency_ms: Num | None = None
    p99_latency_ms: Num | None = None
    p999_latency_ms: Num | None = None
    total_queries: Int | None = None
    total_time_seconds: Num | None = None
    recall: Num | RecallStats | None = None
    recall_k: Int | None = None
    engine: Str | None = None
    collection: Str | None = None
    dimension: Int | None = None
    num_vectors: Int | None = None
    inserted_vectors: Int | None = None
    index_type: Str | None = None
    metric_type: Str | None = None
    mode: Str | None = None
    runtime_seconds: Num | None = None
    queries: Int | None = None

    @property
    def mean_recall(self) -> float | None:
        """The mean recall, whether `recall` holds a number or upstream's statistics mapping."""
        if isinstance(self.recall, RecallStats):
            return self.recall.mean_recall if self.recall.mean_recall is not None else self.recall.recall_at_k
        return self.recall


class VdbConfig(_Doc):
    """`config.json`: what the run was asked to do (ours; upstream vdbbench's `vector_dim`/`runtime` too)."""

    engine: Str | None = None
    data_dir: Str | None = None
    collection: Str | None = None
    mode: Str | None = None
    runtime_seconds: Num | None = None
    runtime: Num | None = None
    queries: Int | None = None
    dimension: Int | None = None
    vector_dim: Int | None = None
    num_vectors: Int | None = None
    inserted_vectors: Int | None = None
    index_type: Str | None = None
    metric_type: Str | None = None


class LoadSummary(_Doc):
    """`load_summary.json` of a load (datagen) directory."""

    engine: Str | None = None
    collection: Str | None = None
    num_vectors: Int | None = None
    dimension: Int | None = None
    inserted_vectors: Int | None = None
    index_type: Str | None = None
    metric_type: Str | None = None


_FILES: tuple[tuple[str, str, type[BaseModel]], ...] = (
    ("config.json", CONFIG, VdbConfig),
    ("recall_stats.json", RECALL, RecallStats),
    ("load_summary.json", LOAD, LoadSummary),
)


def parse_vectordb(run: Run) -> None:
    """Add the typed vector database documents of `run` (and any findings) to the run."""
    names = run.file_names()
    findings = run.load_findings
    if "summary.json" in names:
        shown = f"{run.run_id}/summary.json"
        data: Any = run.summary_raw
        if data is None:  # the core parser reported unreadable files; a non-object is reported by `typed`
            data, _ = read_json(os.path.join(run.ref.path, "summary.json"), shown)
        if data is not None:
            doc = typed(VdbSummary, data, shown, findings)
            if doc is not None:
                run.documents[SUMMARY] = doc
    for name, key, model in _FILES:
        if name not in names:
            continue
        shown = f"{run.run_id}/{name}"
        data, problem = read_json(os.path.join(run.ref.path, name), shown)
        if problem is not None:
            findings.append(problem)
            continue
        doc = typed(model, data, shown, findings)
        if doc is not None:
            run.documents[key] = doc


def summary(run: Run) -> VdbSummary | None:
    """The run's typed summary.json, if usable."""
    return run.documents.get(SUMMARY)


def config(run: Run) -> VdbConfig | None:
    """The run's typed config.json, if usable."""
    return run.documents.get(CONFIG)


def recall_stats(run: Run) -> RecallStats | None:
    """The run's typed recall_stats.json, if usable."""
    return run.documents.get(RECALL)


def load_summary(run: Run) -> LoadSummary | None:
    """The typed load_summary.json of a load directory, if usable."""
    return run.documents.get(LOAD)


def recorded(run: Run, key: str) -> tuple[Any, str | None]:
    """The first recorded value of `key` in summary.json, config.json or load_summary.json, and its file."""
    for name, doc in (("summary.json", summary(run)), ("config.json", config(run)),
                      ("load_summary.json", load_summary(run))):
        value = getattr(doc, key, None) if doc is not None else None
        if value is not None:
            return value, f"{run.run_id}/{name}"
    return None, None
