"""Rules.md §5.2.2 (index build record) and §5.6.4 (CLOSED parameter allow-list) through the real audit, on a
hand-built tree: each case beside its mirror, a case on each side of every threshold, both ruleset versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .builders import NOT_COLLECTED, Audit, audit, leaf, load_files, metadata, run_files, write_dir

BUILD = "5.2.2-index-build-record"
PARAMS = "5.6.4-closed-parameters"


def _sub(name: str) -> str:
    """A submission-tree prefix of its own per case, so every case is its own group."""
    return f"closed/Acme/results/{name}"


def _group(name: str, engine: str = "milvus", index: str = "HNSW") -> str:
    return f"{_sub(name)}/vector_database/{engine}/{index}"


def _load(**changes: Any) -> dict[str, Any]:
    files = load_files()
    record = files["load_summary.json"]
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return files


#: group name -> (load_summary.json changes or a special marker, v3.0 outcome of 5.2.2)
BUILD_CASES: dict[str, tuple[Any, str]] = {
    "finished": ({}, "closed"),                                           # state Finished, compact not configured
    "in-progress": ({"index_state": "InProgress"}, "invalid"),
    "state-code-3": ({"index_state": "3"}, "closed"),                      # Milvus IndexState enum value of Finished
    "no-record": ({"index_state": None}, "invalid"),                      # no state and no build seconds
    "seconds-positive": ({"index_state": None, "index_build_seconds": 0.2}, "closed"),
    "seconds-zero": ({"index_state": None, "index_build_seconds": 0}, "invalid"),
    "pending-zero": ({"pending_index_rows": 0}, "closed"),
    "pending-one": ({"pending_index_rows": 1}, "invalid"),
    "compact-unrecorded": ({"compact": True}, "invalid"),
    "compact-recorded": ({"compact": True, "compaction_seconds": 31.0}, "closed"),
    "compact-zero-seconds": ({"compact": True, "compaction_seconds": 0}, "invalid"),
    "load-diskann-run-hnsw": ({"index_type": "DISKANN"}, "invalid"),
    "no-load": ("no load", "invalid"),
    "ours-no-load-summary": ("ours without record", "invalid"),
    "upstream-datagen-summary": ("upstream summary", "closed"),
    "upstream-datagen-metadata-only": ("upstream metadata only", "closed"),   # a warning (the review published it)
    "upstream-compact-unrecorded": ("upstream compact", "closed"),           # a warning: upstream records none
}


def _upstream_meta(leaf_name: str, command: str, **args: Any) -> dict[str, Any]:
    """Metadata as upstream's v3.0 tool writes it (no `harness` block; `override_parameters`; `params` "")."""
    return {"benchmark_type": "vector_database", "command": command, "run_datetime": leaf_name,
            "override_parameters": {}, "verification": "CLOSED",
            "args": {"command": command, "vdb_engine": "milvus", "vdb_index": "HNSW", "params": "",
                     "results_dir": "/results", "storage_root": "/mnt/vdb", **args}}


def _build_groups(root: Path) -> None:
    for name, (change, _) in BUILD_CASES.items():
        base = root / _sub(name)
        write_dir(base, "milvus", "HNSW", "run", leaf(1), run_files(), metadata(leaf(1), "run"))
        upstream_summary = {"num_vectors": 20000, "dimension": 128, "inserted_vectors": 20000, "index_type": "HNSW",
                            "database": {"database": "milvus"}}
        if change == "no load":
            continue
        if change == "ours without record":
            meta = {**metadata(leaf(0), "load"), "harness": {"name": "mlps-harness"}}
            write_dir(base, "milvus", "HNSW", "load", leaf(0), {}, meta)
        elif change == "upstream summary":
            write_dir(base, "milvus", "HNSW", "datagen", leaf(0), {"summary.json": upstream_summary},
                      _upstream_meta(leaf(0), "datagen"))
        elif change == "upstream metadata only":
            write_dir(base, "milvus", "HNSW", "datagen", leaf(0), {}, _upstream_meta(leaf(0), "datagen"),
                      raw={"vector_database_datagen.stdout.log": "inserted 20000 vectors\n"})
        elif change == "upstream compact":
            write_dir(base, "milvus", "HNSW", "datagen", leaf(0), {"summary.json": upstream_summary},
                      _upstream_meta(leaf(0), "datagen", compact=True))
        else:
            write_dir(base, "milvus", "HNSW", "load", leaf(0), _load(**change), metadata(leaf(0), "load"))


def _with(meta: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**meta, **extra}


def _args(meta: dict[str, Any], **args: Any) -> dict[str, Any]:
    return {**meta, "args": {**meta["args"], **args}}


def _config(**changes: Any) -> dict[str, Any]:
    files = run_files()
    files["config.json"].update(changes)
    return files


#: run name -> (files, metadata, v3.0 outcome of 5.6.4); every run is a run of the PARAMS group
PARAM_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {}


def _param_cases() -> None:
    m = metadata(leaf(0), "run")
    up = _upstream_meta(leaf(0), "run", search_limit=10, num_query_vectors=1000, benchmark_mode="timed")
    cases = {
        "clean": (run_files(), m, "closed"),
        "ef-construction-400": (run_files(), _with(up, override_parameters={"index.ef_construction": 400}), "closed"),
        "num-shards-4": (run_files(), _with(m, params_dict={"dataset.num_shards": "4"}), "closed"),
        "distribution-zipfian": (run_files(), _with(up, override_parameters={"dataset.distribution": "zipfian"}),
                                 "invalid"),
        "distribution-uniform": (run_files(), _with(up, override_parameters={"dataset.distribution": "uniform"}),
                                 "closed"),
        "recorded-distribution-zipfian": (_config(distribution="zipfian"), m, "invalid"),
        "recorded-distribution-uniform": (_config(distribution="uniform"), m, "closed"),
        "mode-sweep": (run_files(), _with(up, override_parameters={"run.mode": "sweep"}), "open"),
        "recorded-mode-sweep": (_config(mode="sweep"), m, "open"),
        "recorded-mode-query-count": (_config(mode="query_count"), m, "closed"),
        "recall-k-100": (_config(recall_k=100), m, "invalid"),
        "recall-k-11": (_config(recall_k=11), m, "invalid"),
        "recall-k-10": (_config(recall_k=10), m, "closed"),
        "query-vectors-999": (_config(num_query_vectors=999), m, "invalid"),
        "query-vectors-1000": (_config(num_query_vectors=1000), m, "closed"),
        "upstream-args-search-limit-20": (run_files(), _args(up, search_limit=20), "invalid"),
        "database-pgvector": (run_files(), _with(up, override_parameters={"database.database": "pgvector"}), "open"),
        "database-milvus": (run_files(), _with(up, override_parameters={"database.database": "milvus"}), "closed"),
        "host-override": (run_files(), _with(up, override_parameters={"database.host": "10.0.0.5"}), "open"),
        "host-on-command-line": (run_files(), _args(m, vdb_host="10.0.0.5", vdb_port=19530, host="10.0.0.5"),
                                 "closed"),
        "unknown-key-in-params": (run_files(), _args(up, params=["foo.bar=1"]), "invalid"),
        "num-vectors-override": (run_files(), _with(up, override_parameters={"dataset.num_vectors": 10}), "invalid"),
        "num-vectors-recorded": (run_files(num_vectors=10_000), m, "closed"),   # scale: §5.1.1, not judged here
    }
    PARAM_CASES.update(cases)


_param_cases()
PARAM_GROUP = _group("params")
#: a pgvector run may change its own native parameters in OPEN (§5.6.5); the mirror on Milvus is above
NATIVE = _group("native", engine="pgvector")


def _param_groups(root: Path) -> None:
    for i, (files, meta, _) in enumerate(PARAM_CASES.values()):
        write_dir(root / _sub("params"), "milvus", "HNSW", "run", leaf(i), files, {**meta, "run_datetime": leaf(i)})
    meta = _args(_upstream_meta(leaf(0), "run"), params=["foo.bar=1"], vdb_engine="pgvector")
    write_dir(root / _sub("native"), "pgvector", "HNSW", "run", leaf(0), run_files(engine="pgvector"), meta)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vdb_build_params")
    _build_groups(root)
    _param_groups(root)
    return root


@pytest.fixture(scope="module")
def v3(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Audit:
    return audit(tree, tmp_path_factory.mktemp("bp_v3"), "--rules-version=v3.0")


@pytest.fixture(scope="module")
def v2(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Audit:
    return audit(tree, tmp_path_factory.mktemp("bp_v2"), "--rules-version=v2.0")


def _warnings(result: Audit, target: str, rule: str) -> list[dict]:
    return [f for f in result.verdict["warnings"] if f.get("rule") == rule and target in (f.get("run"), f.get("group"))]


@pytest.mark.parametrize("name", list(BUILD_CASES))
def test_index_build_record(v3: Audit, v2: Audit, name: str) -> None:
    group = _group(name)
    assert v3.outcome(group, BUILD) == BUILD_CASES[name][1], v3.findings(group, BUILD)
    assert v2.outcome(group, BUILD) == NOT_COLLECTED   # v2.0 has no vector database rules: no test


def test_index_build_findings_name_the_record(v3: Audit) -> None:
    (state,) = v3.findings(_group("in-progress"), BUILD)
    assert (state["parameter"], state["actual"]) == ("index_state", "InProgress")
    assert state["file"].endswith("/load_summary.json") and state["fix"]
    (mismatch,) = v3.findings(_group("load-diskann-run-hnsw"), BUILD)
    assert (mismatch["expected"], mismatch["actual"]) == ("DISKANN", "HNSW")
    assert mismatch["file"].endswith("summary.json") and "/run/" in mismatch["file"]
    (compact,) = v3.findings(_group("compact-unrecorded"), BUILD)
    assert compact["parameter"] == "compaction" and compact["actual"] == "absent"
    (missing,) = v3.findings(_group("no-load"), BUILD)
    assert missing["parameter"] == "datagen/" and "datagen/<datetime>" in missing["expected"]


def test_upstream_records_missing_are_warnings_and_present_ones_are_not(v3: Audit) -> None:
    (w,) = _warnings(v3, _group("upstream-datagen-metadata-only"), BUILD)
    assert "summary.json" in w["message"] and w["file"].endswith("/datagen/" + leaf(0) + "/summary.json")
    (c,) = _warnings(v3, _group("upstream-compact-unrecorded"), BUILD)
    assert c["parameter"] == "compaction"
    assert not _warnings(v3, _group("upstream-datagen-summary"), BUILD)
    assert not _warnings(v3, _group("finished"), BUILD)


@pytest.mark.parametrize("name", list(PARAM_CASES))
def test_closed_parameters(v3: Audit, v2: Audit, name: str) -> None:
    run = f"{PARAM_GROUP}/run/{leaf(list(PARAM_CASES).index(name))}"
    assert v3.outcome(run, PARAMS) == PARAM_CASES[name][2], v3.findings(run, PARAMS)
    assert v2.outcome(run, PARAMS) == NOT_COLLECTED


def test_native_parameter_of_another_backend_is_open(v3: Audit) -> None:
    run = f"{NATIVE}/run/{leaf(0)}"
    assert v3.outcome(run, PARAMS) == "open"
    (finding,) = v3.findings(run, PARAMS)
    assert "native to pgvector" in finding["message"] and finding["parameter"] == "foo.bar"


def test_parameter_findings_name_key_value_and_file(v3: Audit) -> None:
    def only(name: str) -> dict:
        (finding,) = v3.findings(f"{PARAM_GROUP}/run/{leaf(list(PARAM_CASES).index(name))}", PARAMS)
        return finding

    recall = only("recall-k-11")
    assert (recall["parameter"], recall["expected"], recall["actual"]) == ("search.recall_k", "10", "11")
    assert recall["file"].endswith("/config.json") and recall["fix"]
    zipf = only("distribution-zipfian")
    assert zipf["parameter"] == "dataset.distribution" and zipf["file"].endswith("_metadata.json")
    limit = only("upstream-args-search-limit-20")
    assert limit["parameter"] == "search.search_limit" and limit["file"].endswith("search_limit")
    sweep = only("mode-sweep")
    assert sweep["expected"] == "timed, query_count" and sweep["division"] == "OPEN"


def test_the_allow_list_is_the_ruleset_data(v3: Audit) -> None:
    """The 20 CLOSED keys of the Rules.md table, read from the ruleset (not from code)."""
    from mlps_harness.benchmarks.vector_database.ruleset import vectordb_rules

    lists = vectordb_rules("v3.0").parameters
    assert lists is not None and len(lists.closed) == 20 and len(set(lists.closed)) == 20
    assert {"index.ef_construction", "dataset.num_shards", "storage.storage_root"} <= set(lists.closed)
    assert not {"dataset.distribution", "dataset.num_vectors", "search.recall_k"} & set(lists.closed + lists.open)
    assert vectordb_rules("v2.0").parameters is None and vectordb_rules("v2.0").index_build is None


def test_nothing_errors(v3: Audit, v2: Audit) -> None:
    for result in (v3, v2):
        assert result.verdict["counts"]["error"] == 0, result.proc.stdout[-3000:]
