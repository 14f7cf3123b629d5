"""One hand-built results tree with a scenario per rule outcome, audited once per ruleset version."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from .builders import Audit, audit, leaf, load_files, metadata, run_files, write_dir

CLEAN = "vector_database/milvus/HNSW"          #: 5 clean runs + a matching load: everything CLOSED
DEFECTS = "vector_database/milvus/DISKANN"     #: 8 runs, run i > 0 with one defect each
LITE = "vector_database/milvus-lite/HNSW"      #: embedded engine; one run on another dataset; a mismatched load
IVF = "vector_database/milvus/IVF_FLAT"        #: OPEN index type, only 3 runs
BOGUS = "vector_database/milvus/BOGUS"         #: unknown index type
PGV = "vector_database/pgvector/HNSW"          #: another engine
PGV_NATIVE = "vector_database/pgvector/IVFFLAT"  #: a supported OPEN backend with its native index
QDRANT = "vector_database/qdrant/HNSW"         #: an unsupported backend
RECALL = "vector_database/milvus/FLAT"         #: recall on each side of the warning; ground-truth records
MISC = "vector_database/milvus/AISAQ"          #: record mismatches and missing documents


def run_id(group: str, i: int, command: str = "run") -> str:
    return f"{group}/{command}/{leaf(i)}"


def _put(root: Path, group: str, i: int, files: dict, command: str = "run", same_fs: bool | None = False,
         raw: dict[str, str] | None = None) -> None:
    _, engine, index = group.split("/")
    write_dir(root, engine, index, command, leaf(i), files, metadata(leaf(i), command, same_fs), raw)


def _drop(files: dict, name: str, *keys: str) -> dict:
    if keys:
        for key in keys:
            files[name].pop(key)
    else:
        files.pop(name)
    return files


def build_tree(root: Path) -> None:
    """Write every scenario group under `root`."""
    for i in range(5):
        _put(root, CLEAN, i, run_files())
    _put(root, CLEAN, 0, load_files(), command="load")

    d = "DISKANN"
    _put(root, DEFECTS, 0, run_files(index_type=d))
    _put(root, DEFECTS, 1, run_files(index_type=d, runtime_s=10.0))
    _put(root, DEFECTS, 2, run_files(index_type=d, recall=0.0))
    _put(root, DEFECTS, 3, _drop(run_files(index_type=d), "summary.json", "p999_latency_ms"))
    nan = run_files(index_type=d)
    nan["summary.json"]["throughput_qps"] = math.nan  # json.dumps writes NaN, as Python's json would
    _put(root, DEFECTS, 4, nan)
    dims = run_files(index_type=d)
    dims["config.json"]["dimension"] = 64
    _put(root, DEFECTS, 5, dims)
    _put(root, DEFECTS, 6, run_files(index_type=d, inserted=19_000))
    _put(root, DEFECTS, 7, run_files(index_type=d), same_fs=True)

    for i in range(4):
        _put(root, LITE, i, run_files(engine="milvus-lite"))
    _put(root, LITE, 4, run_files(engine="milvus-lite", num_vectors=10_000))
    _put(root, LITE, 0, load_files(engine="milvus-lite", dimension=64), command="load")

    for i in range(3):
        _put(root, IVF, i, run_files(index_type="IVF_FLAT"))
    _put(root, BOGUS, 0, run_files(index_type="BOGUS"))
    _put(root, PGV, 0, run_files(engine="pgvector"))

    a = "AISAQ"
    _put(root, MISC, 0, run_files(engine="milvus-lite", index_type=a))          # path says milvus
    _put(root, MISC, 1, _drop(_drop(_drop(run_files(index_type=a), "summary.json", "recall"), "recall_stats.json"),
                              "statistics.json"))
    _put(root, MISC, 2, _drop(run_files(index_type=a), "summary.json"))
    typo = run_files(index_type=a)
    typo["summary.json"]["dimension"] = "128"
    _put(root, MISC, 3, typo)
    _put(root, MISC, 4, run_files(index_type="HNSW"))                           # path says AISAQ
    short = run_files(index_type=a, runtime_s=5.0, mode="query_count")
    _put(root, MISC, 5, short)
    _put(root, MISC, 6, run_files(index_type=a), raw={".mlps-incomplete": json.dumps({"reason": "SIGTERM"})})
    differ = run_files(index_type=a)
    differ["summary.json"]["recall"] = 0.5                                      # recall_stats.json says 0.9
    _put(root, MISC, 7, differ)
    _put(root, MISC, 8, _drop(_drop(run_files(index_type=a), "summary.json"), "statistics.json"))

    _put(root, PGV_NATIVE, 0, run_files(engine="pgvector", index_type="IVFFLAT"))
    _put(root, QDRANT, 0, run_files(engine="qdrant"))
    f = "FLAT"
    verdict = {"result": "valid", "valid": True, "num_queries_evaluated": 10,
               "flat_setup": {"ok": True, "coverage": 1.0, "total_vectors": 20000, "copied_vectors": 20000}}
    _put(root, RECALL, 0, {**run_files(index_type=f, recall=0.4), "result_verdict.json": verdict})
    partial = json.loads(json.dumps(verdict))
    partial["flat_setup"].update(coverage=0.9999, copied_vectors=19998)
    _put(root, RECALL, 1, {**run_files(index_type=f, recall=0.5), "result_verdict.json": partial})
    no_setup = {k: v for k, v in verdict.items() if k != "flat_setup"}
    _put(root, RECALL, 2, {**run_files(index_type=f), "result_verdict.json": no_setup})
    failed = json.loads(json.dumps(verdict))
    failed["flat_setup"]["ok"] = False
    _put(root, RECALL, 3, {**run_files(index_type=f), "result_verdict.json": failed})


@pytest.fixture(scope="session")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vdb_results")
    build_tree(root)
    return root


@pytest.fixture(scope="session")
def audit_v3(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Audit:
    return audit(tree, tmp_path_factory.mktemp("audit_v3"), "--rules-version=v3.0")


@pytest.fixture(scope="session")
def audit_v2(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Audit:
    return audit(tree, tmp_path_factory.mktemp("audit_v2"), "--rules-version=v2.0")
