"""Vector database single-run rules (rules.md §5, kvcache_vectordb.md B5). Upstream gives these no ids: `H5.<n>`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlps_harness.argtypes import finite_float
from mlps_harness.benchmarks.vector_database.documents import (
    config,
    load_summary,
    recall_stats,
    recorded,
    result_verdict,
    statistics,
    summary,
)
from mlps_harness.benchmarks.vector_database.ruleset import BENCHMARK as V
from mlps_harness.benchmarks.vector_database.ruleset import vectordb_rules
from mlps_harness.model import Run
from mlps_harness.outcomes import (
    Division,
    Finding,
    NotApplicable,
    closed,
    invalid,
    open_,
    warning,
)
from mlps_harness.rules.evidence import shared_filesystem
from mlps_harness.rules.registry import rule


def path_engine_index(path_model: str | None) -> tuple[str | None, str | None]:
    """Engine and index type from the `<engine>/<INDEX>` part of the results path, if the layout has it."""
    parts = (path_model or "").split("/")
    return (parts[0], parts[1]) if len(parts) == 2 else (None, None)


def _file(run: Run, name: str) -> str:
    return f"{run.run_id}/{name}"


def _unusable(run: Run, *names: str) -> bool:
    """Whether one of these files is present (so its absence from `documents` was reported by H6.1)."""
    return bool(run.file_names() & set(names))


@rule("H5.1", "complete-run", benchmark=V)
def complete_run(run: Run) -> Iterator[Finding]:
    """The run finished: it was not interrupted and wrote its summary.json."""
    marker = run.documents.get("incomplete") or run.incomplete
    if marker:
        yield invalid(f"incomplete run: {marker.get('reason', 'interrupted')}", parameter="run",
                      expected="a finished run", actual="interrupted", file=run.run_id,
                      fix="re-run the benchmark; an interrupted run cannot be submitted")
    if "summary.json" not in run.file_names():
        stats, where = statistics(run)
        if stats is not None:
            yield warning(f"no summary.json; its metrics are recovered from {where} (the v3.0 review warned, and "
                          "published the row)", parameter="summary.json", expected="present",
                          actual=f"absent; read {where}", file=_file(run, "summary.json"),
                          fix="keep the summary.json the tool wrote beside its statistics")
        else:
            yield invalid("incomplete run: no summary.json and no native statistics file", parameter="summary.json",
                          expected="present (or statistics.json / vectordb/simple/*.json)", actual="absent",
                          file=_file(run, "summary.json"),
                          fix="check the run's output for the error, fix it and re-run")


@rule("H5.2", "engine-closed", benchmark=V, commands=("run", "load", "datagen"))
def engine_closed(run: Run) -> Iterator[Finding]:
    """The engine is Milvus for CLOSED; embedded engines (milvus-lite) and other engines are OPEN."""
    rs = vectordb_rules(run.rules_version)
    engine, source = recorded(run, "engine")
    from_path, _ = path_engine_index(run.ref.model)
    if engine is None and from_path is None:
        if _unusable(run, "summary.json", "config.json", "load_summary.json"):
            raise NotApplicable("the documents recording the engine are unusable (see documents-parse)")
        yield invalid("the engine is not recorded", parameter="engine", expected=", ".join(rs.closed_engines),
                      actual="not recorded", file=_file(run, "summary.json"),
                      fix="re-run so that summary.json records the engine, under vector_database/<engine>/<INDEX>/")
        return
    if engine is not None and from_path is not None and engine != from_path:
        yield invalid(f"the results path says engine {from_path!r} but {source} says {engine!r}",
                      parameter="engine (results path)", expected=engine, actual=from_path, file=run.run_id,
                      fix=f"move the run under vector_database/{engine}/...")
    name = engine or from_path
    if name in rs.embedded_engines:
        yield open_(f"{name} is an embedded single-process engine, not a storage system under test: OPEN only",
                    parameter="engine", expected=", ".join(rs.closed_engines), actual=name, file=source or run.run_id,
                    fix="for CLOSED, run against a Milvus server whose data lives on the storage under test "
                        "(--vdb-host/--vdb-port)")
    elif name in rs.closed_engines:
        yield closed(f"{name} is a CLOSED engine", parameter="engine", actual=name)
    elif name in rs.open_engines:
        yield open_(f"{name} is a supported OPEN backend in {run.rules_version} (§5.6.5)", parameter="engine",
                    expected=", ".join(rs.closed_engines), actual=name, file=source or run.run_id,
                    fix="submit it in the OPEN division, or run on Milvus for CLOSED")
    else:
        yield invalid(f"{name} is not a supported backend in {run.rules_version} (§5.6.5: "
                      f"{', '.join(rs.closed_engines + rs.open_engines)})", parameter="engine",
                      expected=", ".join(rs.closed_engines + rs.open_engines), actual=name,
                      file=source or run.run_id, fix="run on Milvus (CLOSED) or on Elasticsearch or pgvector (OPEN)")


@rule("H5.3", "index-type-closed", benchmark=V, commands=("run", "load", "datagen"))
def index_type_closed(run: Run) -> Iterator[Finding]:
    """The index type is DISKANN, HNSW or AISAQ for CLOSED, IVF_FLAT, IVF_SQ8 or FLAT for OPEN, else INVALID."""
    rs = vectordb_rules(run.rules_version)
    _, from_path = path_engine_index(run.ref.model)
    values = {}
    for name, doc in (("summary.json", summary(run)), ("config.json", config(run))):
        if doc is not None and doc.index_type is not None:
            values[name] = doc.index_type.upper()
    loaded = load_summary(run)
    if not values and loaded is not None and loaded.index_type is not None:
        values["load_summary.json"] = loaded.index_type.upper()
    if not values and from_path is None:
        if _unusable(run, "summary.json", "config.json", "load_summary.json"):
            raise NotApplicable("the documents recording the index type are unusable (see documents-parse)")
        yield invalid("the index type is not recorded", parameter="index_type",
                      expected=", ".join(rs.closed_index_types), actual="not recorded", file=_file(run, "summary.json"),
                      fix="re-run so that summary.json records index_type")
        return
    if from_path is not None:
        values.setdefault("results path", from_path.upper())
    if len(set(values.values())) > 1:
        shown = ", ".join(f"{k}: {v}" for k, v in values.items())
        yield invalid(f"the index type differs between the records of one run ({shown})", parameter="index_type",
                      expected="one index type", actual=shown, file=run.run_id,
                      fix="keep each run under vector_database/<engine>/<INDEX>/ of the index it searched")
    index = next(iter(values.values()))
    engine, _ = recorded(run, "engine")
    engine = engine or path_engine_index(run.ref.model)[0]
    if engine in rs.native_index_engines:
        yield open_(f"{index} on {engine}: a non-Milvus backend may use any index native to it, in OPEN (§5.6.5)",
                    parameter="index_type", expected=", ".join(rs.closed_index_types) + " on milvus", actual=index,
                    file=run.run_id, fix="submit it in the OPEN division")
    elif index in rs.closed_index_types:
        yield closed(f"{index} is a CLOSED index type", parameter="index_type", actual=index)
    elif index in rs.open_index_types:
        yield open_(f"{index} is an OPEN-only index type in {run.rules_version}", parameter="index_type",
                    expected=", ".join(rs.closed_index_types), actual=index, file=run.run_id,
                    fix="submit it in the OPEN division, or build DISKANN, HNSW or AISAQ for CLOSED")
    else:
        yield invalid(f"unknown index type {index!r}", parameter="index_type", expected=", ".join(rs.index_types),
                      actual=index, file=run.run_id, fix="use one of the ruleset's index types")


@rule("H5.4", "required-metrics", benchmark=V)
def required_metrics(run: Run) -> Iterator[Finding]:
    """summary.json holds throughput_qps and mean/p95/p99/p999 latency (ms), each a finite, non-negative number."""
    rs = vectordb_rules(run.rules_version)
    raw = run.summary_raw
    shown = _file(run, "summary.json")
    stats, where = statistics(run)
    if raw is None and stats is not None and "summary.json" not in run.file_names():
        raw, shown = stats.model_dump(), where  # upstream: metrics recovered from the native statistics
    if raw is None:
        raise NotApplicable("summary.json is missing or unusable (see complete-run and documents-parse)")
    for key in rs.required_metrics:
        value: Any = raw.get(key)
        problem = None
        if key not in raw or value is None:
            problem = "is missing"
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            problem = f"is not a number ({type(value).__name__})"
        elif finite_float(value) is None:   # NaN, infinity, or an integer too large for a float
            problem = "is not finite"
        elif value < 0 or (key == "throughput_qps" and value == 0):
            problem = "is zero: no query succeeded" if value == 0 else "is negative"
        if problem:
            yield invalid(f"{key} {problem}", parameter=key, expected="a finite number > 0" if key == "throughput_qps"
                          else "a finite number >= 0", actual=repr(value) if key in raw else "absent", file=shown,
                          fix="re-run the benchmark; the summary must report every required metric")
        else:
            yield closed(f"{key} recorded", parameter=key, actual=str(value))


@rule("H5.5", "recall-measured", benchmark=V)
def recall_measured(run: Run) -> Iterator[Finding]:
    """Recall was measured against the ground truth and is above zero (recall 0.0: upstream issue #805)."""
    s, r = summary(run), recall_stats(run)
    values: list[tuple[str, float]] = []
    if s is not None and s.mean_recall is not None:
        values.append(("summary.json", s.mean_recall))
    r_mean = None if r is None else (r.mean_recall if r.mean_recall is not None else r.recall_at_k)
    if r_mean is not None:
        values.append(("recall_stats.json", r_mean))
    stats, where = statistics(run)
    if not values and stats is not None and stats.recall is not None and stats.recall.mean_recall is not None:
        values.append((where.split("/", run.run_id.count("/") + 1)[-1], stats.recall.mean_recall))
    fix = "re-run: the run must compute recall@k of its searches against the exact ground truth"
    if not values:
        if s is None and r is None and _unusable(run, "summary.json", "recall_stats.json"):
            raise NotApplicable("summary.json and recall_stats.json are unusable (see documents-parse)")
        yield invalid("recall is not recorded", parameter="recall", expected="a recall in (0, 1]",
                      actual="absent", file=_file(run, "recall_stats.json"), fix=fix)
        return
    if r is not None and r.num_queries_evaluated is not None and r.num_queries_evaluated <= 0:
        yield invalid("no query was evaluated for recall", parameter="num_queries_evaluated", expected="> 0",
                      actual=str(r.num_queries_evaluated), file=_file(run, "recall_stats.json"), fix=fix)
    for name, value in values[:1] if len({v for _, v in values}) == 1 else values:
        if value <= 0:
            yield invalid(f"recall is {value}: the searches found none of the true neighbours (issue #805)",
                          parameter="recall", expected="> 0", actual=str(value), file=_file(run, name),
                          fix="check that the index was built and loaded and that the search parameters match it; "
                              "then re-run")
        elif value > 1:
            yield invalid(f"recall {value} is above 1", parameter="recall", expected="<= 1", actual=str(value),
                          file=_file(run, name), fix=fix)
    if len(values) == 2 and abs(values[0][1] - values[1][1]) > 1e-6:
        yield invalid("summary.json recall and recall_stats.json mean_recall differ", parameter="recall",
                      expected=str(values[1][1]), actual=str(values[0][1]), file=_file(run, "summary.json"),
                      fix="restore both files from the same run")
    elif all(v > 0 for _, v in values):
        yield closed("recall measured", parameter="recall", actual=str(values[0][1]))
    low = vectordb_rules(run.rules_version).low_recall_warning
    name, value = values[0]
    if 0 < value < low:
        queries = (stats.recall.num_queries_evaluated if stats and stats.recall else None) or \
            (r.num_queries_evaluated if r else None)
        over = f" over {queries} queries" if queries else ""
        yield warning(f"mean recall {value:.4g}{over} is far below what the index reaches at a usual search width "
                      f"(warning below {low:g}; no target is set for v3.0)", parameter="recall",
                      expected=f">= {low:g}", actual=f"{value:.4g}", file=_file(run, name),
                      fix="check the search parameters (search_ef / search_list) against the index build and the "
                          "index's state before publishing the figures")


@rule("H5.6", "dimension-consistent", benchmark=V)
def dimension_consistent(run: Run) -> Iterator[Finding]:
    """The dimension searched equals the dimension loaded (summary.json and config.json agree)."""
    s, c = summary(run), config(run)
    values = {name: value for name, value in (
        ("summary.json dimension", s.dimension if s else None), ("config.json dimension", c.dimension if c else None),
        ("config.json vector_dim", c.vector_dim if c else None),
        ("metadata args.vector_dim", (run.metadata.args.model_dump().get("vector_dim")
                                      if run.metadata and run.metadata.args else None))) if value is not None}
    if not values:
        if _unusable(run, "summary.json", "config.json"):
            raise NotApplicable("the documents recording the dimension are unusable (see documents-parse)")
        yield invalid("the vector dimension is not recorded", parameter="dimension", expected="recorded",
                      actual="absent", file=_file(run, "summary.json"), fix="re-run so that summary.json records it")
    elif len(set(values.values())) > 1:
        shown = ", ".join(f"{k} {v}" for k, v in values.items())
        yield invalid(f"the load and run dimensions differ: {shown}", parameter="dimension",
                      expected="one dimension", actual=shown, file=_file(run, "config.json"),
                      fix="run with --dimension equal to the dimension the collection was loaded with")
    else:
        yield closed("dimension consistent", parameter="dimension", actual=str(next(iter(values.values()))))


@rule("H5.7", "inserted-count", benchmark=V, commands=("run", "load", "datagen"))
def inserted_count(run: Run) -> Iterator[Finding]:
    """Every requested vector was inserted: inserted_vectors == num_vectors."""
    checked: set[tuple[int, int]] = set()
    for name, doc in (("summary.json", summary(run)), ("config.json", config(run)),
                      ("load_summary.json", load_summary(run))):
        if doc is None:
            continue
        if doc.num_vectors is None or doc.inserted_vectors is None:
            continue
        pair = (doc.inserted_vectors, doc.num_vectors)
        if pair in checked:  # config.json repeats what summary.json says: report it once
            continue
        checked.add(pair)
        if doc.inserted_vectors != doc.num_vectors:
            yield invalid(f"{doc.inserted_vectors} vectors inserted, {doc.num_vectors} requested",
                          parameter="inserted_vectors", expected=str(doc.num_vectors),
                          actual=str(doc.inserted_vectors), file=_file(run, name),
                          fix="reload the collection (load --force) and wait until every vector is inserted")
    verdict = result_verdict(run)
    setup = verdict.flat_setup if verdict else None
    if not checked and setup is not None and setup.total_vectors is not None:
        checked.add((setup.total_vectors, setup.total_vectors))
        yield closed(f"{setup.total_vectors} vectors in the collection (result_verdict.json flat_setup)",
                     parameter="num_vectors", actual=str(setup.total_vectors))
    if not checked and run.metadata and not run.metadata.harness and run.ref.command == "run":
        raise NotApplicable("upstream's run dir records no vector counts; its datagen dir does (see H5.11)")
    if not checked:
        if _unusable(run, "summary.json", "config.json", "load_summary.json") and not (
                summary(run) or config(run) or load_summary(run)):
            raise NotApplicable("the documents recording the counts are unusable (see documents-parse)")
        yield invalid("num_vectors and inserted_vectors are not both recorded", parameter="inserted_vectors",
                      expected="num_vectors and inserted_vectors", actual="absent", file=_file(run, "summary.json"),
                      fix="re-run so that summary.json records both counts")


@rule("H5.8", "minimum-runtime", benchmark=V)
def minimum_runtime(run: Run) -> Iterator[Finding]:
    """The search phase ran at least 30 s (configured runtime; measured time in query-count mode)."""
    rs = vectordb_rules(run.rules_version)
    s, c = summary(run), config(run)
    configured = next((v for v in (s and s.runtime_seconds, c and c.runtime_seconds, c and c.runtime)
                       if v is not None), None)
    stats, _ = statistics(run)
    measured = s.total_time_seconds if s else (stats.total_time_seconds if stats else None)
    value, what = (configured, "configured runtime") if configured is not None else (measured, "measured time")
    if value is None:
        if s is None and _unusable(run, "summary.json"):
            raise NotApplicable("summary.json is unusable (see documents-parse)")
        yield invalid("the runtime is not recorded", parameter="runtime_seconds",
                      expected=f">= {rs.min_runtime_seconds:g} s", actual="absent", file=_file(run, "summary.json"),
                      fix="re-run so that summary.json records runtime_seconds or total_time_seconds")
        return
    if value < rs.min_runtime_seconds:
        make = invalid if rs.short_runtime_division == Division.INVALID.value else open_
        yield make(f"{what} {value:g} s is shorter than {rs.min_runtime_seconds:g} s", parameter="runtime_seconds",
                   expected=f">= {rs.min_runtime_seconds:g} s", actual=f"{value:g} s", file=_file(run, "summary.json"),
                   fix=f"re-run with --runtime {rs.min_runtime_seconds:g} or more (default 60)")
    else:
        yield closed(f"{what} long enough", parameter="runtime_seconds", actual=f"{value:g} s")


@rule("H5.9", "separate-filesystems", benchmark=V)
def separate_filesystems(run: Run) -> Iterator[Finding]:
    """The engine's storage (data dir) and the results dir are on different filesystems, when recorded."""
    where = shared_filesystem(run)
    if where is not None:
        yield invalid("the vector database storage and the results dir share one filesystem", parameter="data_dir",
                      expected="different filesystems", actual=f"both on {where}",
                      file=f"{run.run_id}/{run.metadata_file}",
                      fix="put the Milvus data on the storage under test and the results on another filesystem")
    else:
        yield closed("storage and results on different filesystems", parameter="data_dir")


@rule("5.3.5", "ground-truth-coverage", benchmark=V, versions=("v3.0",))
def ground_truth_coverage(run: Run) -> Iterator[Finding]:
    """Rules.md §5.3.5: recall is measured against an exact ground truth covering every vector. Upstream records it
    in `result_verdict.json` `flat_setup` (ok, coverage); its stored `valid` is not trusted (#805). A run without the
    file is a warning, as in the v3.0 review."""
    verdict = result_verdict(run)
    shown = _file(run, "result_verdict.json")
    if verdict is None:
        if _unusable(run, "result_verdict.json"):
            raise NotApplicable("result_verdict.json is unusable (see documents-parse)")
        yield warning("no result_verdict.json: the ground truth's coverage is not recorded", parameter="flat_setup",
                      expected="coverage 1.0", actual="not recorded", file=shown,
                      fix="keep the result_verdict.json the tool wrote (its flat_setup records the coverage)")
        return
    setup = verdict.flat_setup
    if setup is None:
        yield warning("result_verdict.json has no flat_setup: the ground truth's coverage is not recorded",
                      parameter="flat_setup", expected="coverage 1.0", actual="absent", file=shown,
                      fix="re-run with a tool that records flat_setup")
    elif setup.ok is False or setup.coverage is None or setup.coverage < 1.0:
        yield invalid(f"the exact ground truth covers {setup.coverage} of the vectors (ok={setup.ok})",
                      parameter="flat_setup.coverage", expected="1.0 and ok", actual=f"{setup.coverage}",
                      file=shown, fix="rebuild the FLAT ground-truth collection over every vector and re-run")
    else:
        yield closed("ground truth covers every vector", parameter="flat_setup.coverage", actual="1.0")


def _inside(path: str, base: str) -> bool:
    import os

    path, base = os.path.normpath(path), os.path.normpath(base)
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


@rule("5.4.1", "data-and-results-paths", benchmark=V, versions=("v3.0",))
def data_and_results_paths(run: Run) -> Iterator[Finding]:
    """Rules.md §5.4.1: with the file API, the vector data path (`storage_root`, or our engine data dir) and the
    results dir are both set and differ. Unset is a warning (the v3.0 review warned: SAMSUNG x5); the same or nested
    paths are INVALID; the object API needs no storage root."""
    args = run.metadata.args.model_dump() if run.metadata and run.metadata.args else {}
    if str(args.get("data_access_protocol") or "").lower() == "object":
        raise NotApplicable("object API: no storage root (§5.5.1 judges the backend)")
    c = config(run)
    data = next((v for v in (args.get("storage_root"), args.get("data_dir"), args.get("vdb_data_path"),
                             c.data_dir if c else None) if v), None)
    results = args.get("results_dir")
    where = f"{run.run_id}/{run.metadata_file or '<benchmark>_<datetime>_metadata.json'}"
    for key, value in (("storage_root", data), ("results_dir", results)):
        if not value:
            yield warning(f"{key} is not recorded: the data and results paths cannot be compared (§5.4.1)",
                          parameter=key, expected="a path", actual="not set", file=where,
                          fix=f"pass --{key.replace('_', '-')} (the vector data on the storage under test)")
    if data and results:
        if _inside(str(data), str(results)) or _inside(str(results), str(data)):
            yield invalid("the vector data path and the results dir overlap", parameter="storage_root",
                          expected=f"outside {results}", actual=str(data), file=where,
                          fix="keep the vector data on the storage under test, away from the results dir")
        else:
            yield closed("data and results paths set and apart", parameter="storage_root", actual=str(data))
