"""Item 7 of issue #15: impossible values and self-contradicting summaries are INVALID findings at the loader,
each naming the file and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from mlps_harness.benchmarks.training.synthetic import TrainingRunSpec, write_training_run
from mlps_harness.loader import ResultsIndex
from mlps_harness.outcomes import Division

Mutation = Callable[[dict], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(doc: dict) -> None:
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node[part]
        if isinstance(last, str) and last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return mutate


def _delete(key: str) -> Mutation:
    return lambda doc: doc.pop(key)


SUMMARY_CASES = [
    ("metric.train_au_mean_percentage", _set("metric.train_au_mean_percentage", 1e308)),
    ("metric.train_au_percentage.0", _set("metric.train_au_percentage.0", -5.0)),
    ("metric.train_throughput_samples_per_second.2", _set("metric.train_throughput_samples_per_second.2", 1e308)),
    ("metric.train_throughput_mean_samples_per_second",
     _set("metric.train_throughput_mean_samples_per_second", -100.0)),
    ("num_accelerators", _set("num_accelerators", 10 ** 400)),
    ("host_memory_GB.0", _set("host_memory_GB.0", float("inf"))),
    ("epochs", _delete("epochs")),
    ("num_hosts", _delete("num_hosts")),
    ("host_memory_GB", _delete("host_memory_GB")),
    ("metric.train_au_percentage", _set("metric.train_au_percentage", [])),
    ("metric.train_au_percentage", _set("metric.train_au_percentage", [95.0, 95.0])),
    ("metric.train_au_mean_percentage", _set("metric.train_au_mean_percentage", 60.0)),
    ("end", _set("end", "2020-01-01T00:00:00")),
]

METADATA_CASES = [
    ("run_number", _delete("run_number")),
    ("returncode", _set("returncode", None)),
    ("datasize", _set("datasize", {"total_disk_bytes": -1})),
    ("args.client_host_memory_in_gb", _set("args.client_host_memory_in_gb", 1e300)),
    ("args.num_processes", _set("args.num_processes", -8)),
]


def _run_dir(tmp_path: Path) -> Path:
    return write_training_run(tmp_path, TrainingRunSpec())


def _rewrite(path: Path, mutate: Mutation) -> None:
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))  # NaN / Infinity are written as JSON extensions on purpose


def _findings(tmp_path: Path):
    index = ResultsIndex(tmp_path, "auto")
    return index.run(index.refs[0].run_id).load_findings


def test_the_unmutated_synthetic_run_loads_without_findings(tmp_path: Path) -> None:
    _run_dir(tmp_path)
    assert _findings(tmp_path) == []


@pytest.mark.parametrize("field,mutate", SUMMARY_CASES, ids=[f"summary-{c[0]}-{i}" for i, c in enumerate(SUMMARY_CASES)])
def test_an_impossible_summary_value_is_invalid_naming_file_and_field(tmp_path: Path, field: str,
                                                                       mutate: Mutation) -> None:
    _rewrite(_run_dir(tmp_path) / "summary.json", mutate)
    found = [f for f in _findings(tmp_path) if f.division is Division.INVALID]
    assert found, "no finding"
    assert any(f.file.endswith("summary.json") and f.parameter == field for f in found), \
        [(f.file, f.parameter, f.message) for f in found]


@pytest.mark.parametrize("field,mutate", METADATA_CASES, ids=[c[0] for c in METADATA_CASES])
def test_an_impossible_metadata_value_is_invalid_naming_file_and_field(tmp_path: Path, field: str,
                                                                        mutate: Mutation) -> None:
    run_dir = _run_dir(tmp_path)
    meta = next(run_dir.glob("*_metadata.json"))
    doc = json.loads(meta.read_text())
    doc.setdefault("returncode", 0)
    doc.setdefault("datasize", {"total_disk_bytes": 10})
    meta.write_text(json.dumps(doc))
    _rewrite(meta, mutate)
    found = [f for f in _findings(tmp_path) if f.division is Division.INVALID]
    assert any(f.file.endswith("_metadata.json") and f.parameter == field for f in found), \
        [(f.file, f.parameter, f.message) for f in found]
