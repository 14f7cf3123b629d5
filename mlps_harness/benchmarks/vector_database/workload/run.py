"""``run``: timed or query-count search benchmark with recall and disk I/O."""

from __future__ import annotations

import csv
import datetime as dt
import json
import multiprocessing
import queue
import time
from pathlib import Path
from typing import Any, Optional

from . import backend
from .dataset import exact_top_k, generate_queries
from .options import (
    DEFAULT_COLLECTION,
    DEFAULT_QUERY_SEED,
    VectorDBError,
    build_search_params,
    check_index_supported_by_engine,
    check_positive,
)
from .querying import CSV_COLUMNS, QueryJob, csv_rows, query_process
from .server import MilvusEndpoint
from .stats import (
    devices_for_path,
    disk_io_delta,
    latency_statistics,
    read_diskstats,
    recall_statistics,
)

WORKER_START_TIMEOUT_S = 120.0


def run_benchmark(
    endpoint: MilvusEndpoint,
    *,
    output_dir: str | Path,
    collection: str = DEFAULT_COLLECTION,
    runtime_s: Optional[float] = None,
    num_queries: Optional[int] = None,
    num_query_processes: int = 1,
    batch_size: int = 1,
    search_limit: int = 10,
    search_ef: int = 64,
    nprobe: int = 16,
    search_list: int = 100,
    recall_k: Optional[int] = None,
    num_query_vectors: int = 1000,
    query_seed: int = DEFAULT_QUERY_SEED,
    dimension: Optional[int] = None,
    log: Any = print,
) -> dict[str, Any]:
    """Benchmark searches on ``collection`` and write the result files; return the summary.

    Exactly one of ``runtime_s`` (timed mode) or ``num_queries`` (query-count
    mode) may be given; neither means 60 s timed. ``dimension``, if given,
    must match the collection. Writes ``config.json``,
    ``milvus_benchmark_p<i>.csv``, ``statistics.json``, ``recall_stats.json``
    and ``summary.json`` into ``output_dir``.
    """
    if runtime_s is not None and num_queries is not None:
        raise VectorDBError("--runtime and --queries are mutually exclusive; pass only one of them.")
    if runtime_s is None and num_queries is None:
        runtime_s = 60.0
    if runtime_s is not None:
        check_positive("--runtime", runtime_s, "number of seconds")
    else:
        check_positive("--queries", num_queries, "integer")
    for option, value in (("--num-query-processes", num_query_processes), ("--batch-size", batch_size),
                          ("--search-limit", search_limit), ("--num-query-vectors", num_query_vectors)):
        check_positive(option, value, "integer")
    recall_k = search_limit if recall_k is None else recall_k
    check_positive("--recall-k", recall_k, "integer")
    if recall_k > search_limit:
        raise VectorDBError(f"--recall-k {recall_k} is larger than --search-limit {search_limit}; "
                            "raise --search-limit or lower --recall-k.")

    client = backend.connect(endpoint)
    try:
        engine = backend.detect_engine(client)
        info = backend.collection_info(client, collection)
        if dimension is not None and dimension != info["dimension"]:
            raise VectorDBError(
                f"--dimension {dimension} does not match collection {collection!r}, which was "
                f"loaded with dimension {info['dimension']}; pass --dimension {info['dimension']} "
                "or reload the collection with `load --force --dimension ...`."
            )
        spec = info["dataset"]
        if spec is None:
            raise VectorDBError(
                f"collection {collection!r} was not created by `load` (no dataset description), so "
                "recall cannot be computed; reload it with `load --force`."
            )
        check_index_supported_by_engine(str(info["index_type"]), engine)
        inserted = backend.row_count(client, collection)
        if inserted == 0:
            raise VectorDBError(f"collection {collection!r} is empty; run `load` with --num-vectors > 0.")
        backend.wait_until_indexed(client, collection, inserted, timeout_s=600.0)
        backend.load_and_build(client, collection, timeout_s=600.0)
    finally:
        client.close()

    index_type, metric_type = str(info["index_type"]), str(info["metric_type"])
    recall_k = min(recall_k, inserted)  # cannot ask for more neighbours than there are rows
    search_params = {"metric_type": metric_type,
                     "params": build_search_params(index_type, search_ef=search_ef, nprobe=nprobe,
                                                   search_list=search_list)}
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = {
        "engine": engine, "host": endpoint.host, "port": endpoint.port, "data_dir": endpoint.data_dir,
        "collection": collection, "mode": "timed" if runtime_s is not None else "query_count",
        "runtime_seconds": runtime_s, "queries": num_queries,
        "num_query_processes": num_query_processes, "batch_size": batch_size,
        "search_limit": search_limit, "search_params": search_params, "recall_k": recall_k,
        "num_query_vectors": num_query_vectors, "query_seed": query_seed,
        "dimension": info["dimension"], "num_vectors": spec.num_vectors, "inserted_vectors": inserted,
        "distribution": spec.distribution, "data_seed": spec.seed,
        "index_type": index_type, "metric_type": metric_type, "index_params": info["index_params"],
        "started_at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    _write_json(out / "config.json", config)

    queries = generate_queries(spec, num_query_vectors, query_seed)
    jobs = _make_jobs(endpoint, collection, queries, num_query_processes, batch_size, search_limit,
                      search_params, runtime_s, num_queries)
    log(f"running {config['mode']} search on {collection!r} ({engine}, {index_type}) "
        f"with {num_query_processes} process(es), batch {batch_size}")
    disk_before = read_diskstats()
    started = time.perf_counter()
    logs = _run_processes(jobs)
    elapsed = time.perf_counter() - started
    disk_after = read_diskstats()

    for job, batch_log in zip(jobs, logs):
        _write_csv(out / f"milvus_benchmark_p{job.process_id}.csv", csv_rows(job.process_id, batch_log))
    statistics = latency_statistics(logs)
    if not statistics.get("batch_count"):
        errors = "; ".join(sorted({lg.last_error for lg in logs if lg.last_error}))
        raise VectorDBError(f"every search on {collection!r} failed: {errors}")

    first_results: dict[int, list[int]] = {}
    for batch_log in logs:
        for query_index, ids in batch_log.first_results.items():
            first_results.setdefault(query_index, ids)
    ground_truth = exact_top_k(spec, queries, recall_k, metric_type)  # untimed
    recall = recall_statistics(first_results, ground_truth, recall_k)
    devices, selection = devices_for_path(endpoint.data_dir, disk_before)
    statistics["recall"] = recall
    statistics["disk_io"] = disk_io_delta(disk_before, disk_after, devices, elapsed, selection)
    _write_json(out / "statistics.json", statistics)
    _write_json(out / "recall_stats.json", recall)

    summary = {key: value for key, value in statistics.items() if key != "recall"}
    summary.update({
        "recall": recall.get("mean_recall", 0.0), "recall_k": recall_k,
        "engine": engine, "collection": collection, "dimension": info["dimension"],
        "num_vectors": spec.num_vectors, "inserted_vectors": inserted,
        "index_type": index_type, "metric_type": metric_type, "search_params": search_params,
        "mode": config["mode"], "runtime_seconds": runtime_s, "queries": num_queries,
        "num_query_processes": num_query_processes, "batch_size": batch_size,
    })
    _write_json(out / "summary.json", summary)
    return summary


def _make_jobs(endpoint: MilvusEndpoint, collection: str, queries: Any, processes: int, batch_size: int,
               search_limit: int, search_params: dict[str, Any], runtime_s: Optional[float],
               num_queries: Optional[int]) -> list[QueryJob]:
    jobs = []
    for process_id in range(processes):
        quota = None
        if num_queries is not None:
            quota = num_queries // processes + (1 if process_id < num_queries % processes else 0)
        jobs.append(QueryJob(process_id=process_id, uri=endpoint.uri, collection=collection,
                             queries=queries, first_query=process_id * len(queries) // processes,
                             batch_size=batch_size, search_limit=search_limit,
                             search_params=search_params, runtime_s=runtime_s, query_quota=quota))
    return [job for job in jobs if job.query_quota is None or job.query_quota > 0]


def _run_processes(jobs: list[QueryJob]) -> list[Any]:
    """Start one spawned process per job, release them together, collect their logs."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    start_event = context.Event()
    processes = [context.Process(target=query_process, args=(job, messages, start_event), daemon=True)
                 for job in jobs]
    for process in processes:
        process.start()
    try:
        _expect(messages, processes, "ready", WORKER_START_TIMEOUT_S)
        start_event.set()
        longest = max((job.runtime_s or 0.0) for job in jobs)
        done = _expect(messages, processes, "done", None if not longest else longest + 120.0)
    finally:
        for process in processes:
            if process.is_alive():
                process.join(timeout=5)
            if process.is_alive():
                process.terminate()
    return [done[job.process_id] for job in jobs]


def _expect(messages: Any, processes: list[Any], kind: str, timeout_s: Optional[float]) -> dict[int, Any]:
    received: dict[int, Any] = {}
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while len(received) < len(processes):
        try:
            message_kind, process_id, payload = messages.get(timeout=1.0)
        except queue.Empty:
            if deadline is not None and time.monotonic() > deadline:
                raise VectorDBError(f"query processes did not report {kind!r} in time") from None
            if any(not p.is_alive() and p.exitcode not in (0, None) for p in processes):
                raise VectorDBError("a query process died; see its output above") from None
            continue
        if message_kind == "error":
            raise VectorDBError(f"query process {process_id} failed: {payload}")
        if message_kind == kind:
            received[process_id] = payload
    return received


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def _write_csv(path: Path, rows: list[tuple[Any, ...]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)
