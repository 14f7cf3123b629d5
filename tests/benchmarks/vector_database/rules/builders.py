"""Hand-built vector database result trees in the workload's output format, and an audit runner.

The statistics, recall and CSV content come from the workload's own functions (`stats.latency_statistics`,
`stats.recall_statistics`, `querying.csv_rows`), which need no server; summary.json and config.json are assembled
with the same keys as `workloads/vectordb/run.py`.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlps_harness.benchmarks.vector_database.workload.querying import (
    CSV_COLUMNS,
    BatchLog,
    csv_rows,
)
from mlps_harness.benchmarks.vector_database.workload.stats import (
    latency_statistics,
    recall_statistics,
)
from tests.helpers import REPO

DIMENSION = 128
NUM_VECTORS = 20_000


def _batch_log(runtime_s: float, batches: int = 40) -> BatchLog:
    starts = np.linspace(0.0, max(runtime_s - 0.01, 0.0), batches)
    rng = np.random.default_rng(7)
    return BatchLog(timestamps=[float(t) for t in starts], sizes=[1] * batches,
                    seconds=[float(s) for s in rng.uniform(0.002, 0.009, batches)], success=[True] * batches)


def _recall(value: float | None) -> dict[str, Any]:
    """recall_stats.json with the given mean: 10 queries, k=10, `value` of the true neighbours found."""
    truth = np.arange(100).reshape(10, 10)
    hits = int(round((value or 0.0) * 10))
    found = {q: [int(x) for x in truth[q, :hits]] + [1000 + i for i in range(10 - hits)] for q in range(10)}
    return recall_statistics(found, truth, 10)


def run_files(*, engine: str = "milvus", index_type: str = "HNSW", runtime_s: float = 60.0,
              recall: float | None = 0.9, dimension: int = DIMENSION, num_vectors: int = NUM_VECTORS,
              inserted: int | None = None, metric_type: str = "COSINE", collection: str = "vdb_bench",
              mode: str = "timed") -> dict[str, Any]:
    """The documents of one run directory: file name -> JSON object (or CSV rows)."""
    log = _batch_log(runtime_s)
    statistics = latency_statistics([log])
    recall_stats = _recall(recall)
    statistics["recall"] = recall_stats
    inserted = num_vectors if inserted is None else inserted
    timed = mode == "timed"
    config = {"engine": engine, "host": "127.0.0.1", "port": 19530, "data_dir": "/mnt/vdb", "collection": collection,
              "mode": mode, "runtime_seconds": runtime_s if timed else None, "queries": None if timed else 40,
              "num_query_processes": 1, "batch_size": 1, "search_limit": 10, "recall_k": 10,
              "dimension": dimension, "num_vectors": num_vectors, "inserted_vectors": inserted,
              "index_type": index_type, "metric_type": metric_type, "started_at": "2025-01-01T12:00:00"}
    summary = {k: v for k, v in statistics.items() if k != "recall"}
    summary.update({"recall": recall_stats.get("mean_recall", 0.0), "recall_k": 10, "engine": engine,
                    "collection": collection, "dimension": dimension, "num_vectors": num_vectors,
                    "inserted_vectors": inserted, "index_type": index_type, "metric_type": metric_type,
                    "mode": mode, "runtime_seconds": config["runtime_seconds"], "queries": config["queries"],
                    "num_query_processes": 1, "batch_size": 1})
    return {"config.json": config, "statistics.json": statistics, "recall_stats.json": recall_stats,
            "summary.json": summary, "milvus_benchmark_p0.csv": csv_rows(0, log)}


def load_files(*, engine: str = "milvus", index_type: str = "HNSW", dimension: int = DIMENSION,
               num_vectors: int = NUM_VECTORS, inserted: int | None = None, metric_type: str = "COSINE",
               collection: str = "vdb_bench") -> dict[str, Any]:
    """The documents of a load directory (load_summary.json as `load_collection` writes it)."""
    return {"load_summary.json": {
        "engine": engine, "host": "127.0.0.1", "port": 19530, "collection": collection, "num_vectors": num_vectors,
        "dimension": dimension, "distribution": "uniform", "seed": 1, "index_type": index_type,
        "inserted_vectors": num_vectors if inserted is None else inserted, "metric_type": metric_type,
        "index_params": {"M": 16, "efConstruction": 200}, "index_state": "Finished", "num_shards": 1}}


def metadata(leaf: str, command: str, same_filesystem: bool | None = False) -> dict[str, Any]:
    """A harness metadata file; `same_filesystem` None leaves out the filesystem information."""
    data: dict[str, Any] = {"benchmark_type": "vector_database", "run_datetime": leaf,
                            "args": {"command": command, "data_dir": "/mnt/vdb", "results_dir": "/results"}}
    if same_filesystem is not None:
        results_dev = "nvme0n1" if same_filesystem else "sda1"
        data["cluster_information"] = {"source": "local", "hosts": [{"hostname": "h1", "filesystems": {
            "data_dir": {"device": "nvme0n1", "mount_point": "/mnt/vdb"},
            "results_dir": {"device": results_dev, "mount_point": "/results"}}}]}
    return data


def write_dir(root: Path, engine: str, index: str, command: str, leaf: str, files: dict[str, Any],
              meta: dict[str, Any] | None = None, raw: dict[str, str] | None = None) -> Path:
    """Write one timestamp directory under `root/vector_database/<engine>/<index>/<command>/<leaf>`."""
    path = root / "vector_database" / engine / index / command / leaf
    path.mkdir(parents=True)
    for name, content in files.items():
        if name.endswith(".csv"):
            with (path / name).open("w", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(CSV_COLUMNS)
                writer.writerows(content)
        else:
            (path / name).write_text(json.dumps(content, indent=2))
    for name, text in (raw or {}).items():
        (path / name).write_text(text)
    if meta is not None:
        (path / f"vector_database_{leaf}_metadata.json").write_text(json.dumps(meta))
    return path


def leaf(i: int) -> str:
    """The i-th timestamp directory name, one minute apart."""
    return f"20250101_12{i:02d}00"


#: `Audit.outcome` of a rule the audit made no test for: it is not part of the target's ruleset
NOT_COLLECTED = "not collected"


@dataclass
class Audit:
    """The outcome of one audit: per (target, rule name) outcome, the JSON verdict, the process."""

    outcomes: dict[tuple[str, str], str]
    verdict: dict[str, Any]
    proc: subprocess.CompletedProcess[str]

    def outcome(self, target: str, rule: str) -> str:
        """The test's outcome word; NOT_COLLECTED when the audit made no test (a rule outside the ruleset)."""
        return self.outcomes.get((target, rule), NOT_COLLECTED)

    def findings(self, target: str, rule: str) -> list[dict[str, Any]]:
        return [f for f in self.verdict["findings"]
                if f.get("rule") == rule and target in (f.get("run"), f.get("group"))]


def audit(results: Path, out: Path, *extra: str) -> Audit:
    """Run `pytest compliance --results-dir=results` in a subprocess; collect every rule test's outcome."""
    xml, js = out / "junit.xml", out / "verdict.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "compliance", f"--results-dir={results}", "-q",
                           "-p", "no:cacheprovider", f"--junitxml={xml}", f"--mlps-json={js}", *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert xml.exists() and js.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    outcomes: dict[tuple[str, str], str] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        if "mlps_rule_name" not in props:
            continue
        target = props.get("mlps_run") or props.get("mlps_group", "")
        if case.find("error") is not None:
            outcomes[(target, props["mlps_rule_name"])] = "error"
        else:
            outcomes[(target, props["mlps_rule_name"])] = props.get("mlps_outcome", "na")
    return Audit(outcomes, json.loads(js.read_text()), proc)
