"""Typed vector database documents: the parse hook of this benchmark.

It reads `summary.json`, `config.json`, `recall_stats.json` (run dirs) and `load_summary.json` (load dirs) with
the safe readers into strict pydantic models (extra keys allowed) kept in `run.documents`; every problem becomes a
finding in `run.load_findings` (reported by H6.1 documents-parse). A missing file is left to the layout rule.

Upstream's v3.0 tool writes other files, read here too: the native statistics (`statistics.json` in the run dir for
the older flat layout; `vectordb/simple/statistics.json` or `vectordb/simple/vdb_multi_node_summary.json` for the
MPI layout), `result_verdict.json` (ground-truth coverage, §5.3.5), and a datagen `summary.json` (its index type is
the index-build record). `STATS` holds the first native statistics file found and `STATS_FILE` its name.
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
STATS = "vdb_statistics"
STATS_FILE = "vdb_statistics_file"
VERDICT = "vdb_result_verdict"
#: Where upstream's run writes its native statistics, in the report generator's lookup order.
STATISTICS_FILES = ("statistics.json", "vectordb/simple/statistics.json", "vectordb/enhanced/enhanced_statistics.json",
                    "vectordb/simple/vdb_multi_node_summary.json", "vectordb/enhanced/vdb_multi_node_summary.json")
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


class _QueryFigures(_Doc):
    """Throughput and latency figures, as statistics.json and summary.json both record them."""

    throughput_qps: Num | None = None
    mean_latency_ms: Num | None = None
    p95_latency_ms: Num | None = None
    p99_latency_ms: Num | None = None
    p999_latency_ms: Num | None = None
    total_queries: Int | None = None
    total_time_seconds: Num | None = None


class Statistics(_QueryFigures):
    """Upstream's native statistics (`statistics.json`, `vdb_multi_node_summary.json`): latency, throughput and the
    recall mapping (`mean_recall`, `num_queries_evaluated`, ...)."""

    recall: RecallStats | None = None


class FlatSetup(_Doc):
    """`result_verdict.json` `flat_setup`: the exact (FLAT) ground-truth collection's coverage."""

    ok: bool | None = None
    coverage: Num | None = None
    total_vectors: Int | None = None
    copied_vectors: Int | None = None


class ResultVerdict(_Doc):
    """`result_verdict.json` (its stored `valid` is not trusted, upstream issue #805)."""

    num_queries_evaluated: Int | None = None
    flat_setup: FlatSetup | None = None


class VdbSummary(_QueryFigures):
    """`summary.json`: statistics.json with recall reduced to its mean, plus the dataset and index."""

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
    #: upstream v3.0: {"database": "milvus"} names the backend
    database: dict[str, Any] | None = None

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
    """`load_summary.json` of a load (datagen) directory, with its index-build record (§5.2.2): the index state the
    engine reported, the build time, and, when the load compacts, the compaction record."""

    engine: Str | None = None
    collection: Str | None = None
    num_vectors: Int | None = None
    dimension: Int | None = None
    inserted_vectors: Int | None = None
    index_type: Str | None = None
    metric_type: Str | None = None
    index_state: Str | Int | None = None
    index_build_seconds: Num | None = None
    pending_index_rows: Int | None = None
    #: the load was asked to compact the collection (upstream's `--compact` / `workflow.compact`)
    compact: bool | None = None
    compacted: bool | None = None
    compaction_seconds: Num | None = None
    compaction_state: Str | None = None


_FILES: tuple[tuple[str, str, type[BaseModel]], ...] = (
    ("config.json", CONFIG, VdbConfig),
    ("recall_stats.json", RECALL, RecallStats),
    ("load_summary.json", LOAD, LoadSummary),
)


def _read_sub(run: Run, rel: str, model: type[BaseModel]) -> Any:
    """A typed document at a path below the run dir (never following links), or None."""
    path = os.path.join(run.ref.path, *rel.split("/"))
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    shown = f"{run.run_id}/{rel}"
    data, problem = read_json(path, shown)
    if problem is not None:
        run.load_findings.append(problem)
        return None
    return typed(model, data, shown, run.load_findings)


def parse_vectordb(run: Run) -> None:
    """Add the typed vector database documents of `run` (and any findings) to the run."""
    names = run.file_names()
    findings = run.load_findings
    for rel in STATISTICS_FILES:
        doc = _read_sub(run, rel, Statistics)
        if doc is not None:
            run.documents[STATS], run.documents[STATS_FILE] = doc, rel
            break
    verdict = _read_sub(run, "result_verdict.json", ResultVerdict)
    if verdict is not None:
        run.documents[VERDICT] = verdict
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


def statistics(run: Run) -> tuple[Statistics | None, str | None]:
    """Upstream's native statistics of a run and the file they came from (relative to the results dir)."""
    doc = run.documents.get(STATS)
    return doc, (f"{run.run_id}/{run.documents[STATS_FILE]}" if doc is not None else None)


def result_verdict(run: Run) -> ResultVerdict | None:
    """The run's typed result_verdict.json, if usable."""
    return run.documents.get(VERDICT)


#: upstream's metadata `args` keys for what our documents call engine / index_type
_ARG_KEYS = {"engine": "vdb_engine", "index_type": "vdb_index"}


def recorded(run: Run, key: str) -> tuple[Any, str | None]:
    """The first recorded value of `key` in summary.json, config.json or load_summary.json (upstream: the engine
    in summary.json `database.database`, else the metadata's `vdb_engine` / `vdb_index`), and its file."""
    for name, doc in (("summary.json", summary(run)), ("config.json", config(run)),
                      ("load_summary.json", load_summary(run))):
        value = getattr(doc, key, None) if doc is not None else None
        if value is not None:
            return value, f"{run.run_id}/{name}"
    s = summary(run)
    if key == "engine" and s is not None and isinstance(s.database, dict) and s.database.get("database"):
        return str(s.database["database"]), f"{run.run_id}/summary.json database.database"
    args = run.metadata.args.model_dump() if run.metadata and run.metadata.args else {}
    if args.get(_ARG_KEYS.get(key, key)):
        return str(args[_ARG_KEYS.get(key, key)]), f"{run.run_id}/{run.metadata_file} args.{_ARG_KEYS.get(key, key)}"
    return None, None
