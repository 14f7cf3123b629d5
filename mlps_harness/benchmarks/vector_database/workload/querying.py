"""Query processes: each one owns a client and times only the search call."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Optional

import numpy as np

from .options import ID_FIELD

MAX_CONSECUTIVE_FAILURES = 20
WARMUP_BATCHES = 3
CSV_COLUMNS = ("process_id", "batch_id", "timestamp", "batch_size",
               "batch_time_seconds", "avg_query_time_seconds", "success")


@dataclasses.dataclass
class QueryJob:
    """Everything one query process needs (picklable for spawn)."""

    process_id: int
    uri: str
    collection: str
    queries: np.ndarray
    first_query: int
    batch_size: int
    search_limit: int
    search_params: dict[str, Any]
    runtime_s: Optional[float] = None
    query_quota: Optional[int] = None


@dataclasses.dataclass
class BatchLog:
    """Per-batch measurements of one process (columns of the CSV)."""

    timestamps: list[float] = dataclasses.field(default_factory=list)
    sizes: list[int] = dataclasses.field(default_factory=list)
    seconds: list[float] = dataclasses.field(default_factory=list)
    success: list[bool] = dataclasses.field(default_factory=list)
    first_results: dict[int, list[int]] = dataclasses.field(default_factory=dict)
    last_error: Optional[str] = None


def search_loop(search: Callable[[np.ndarray], Any], queries: np.ndarray, batch_size: int,
                *, first_query: int = 0, runtime_s: Optional[float] = None,
                query_quota: Optional[int] = None) -> BatchLog:
    """Issue batches cycling through ``queries`` until the runtime or quota is used.

    Only ``search(batch)`` is inside the timer; picking the batch and keeping
    the first result ids per query (for recall) happen outside it.
    """
    log = BatchLog()
    num_queries = len(queries)
    position, issued, failures_in_a_row = first_query % num_queries, 0, 0
    deadline = time.perf_counter() + runtime_s if runtime_s is not None else float("inf")
    while True:
        if query_quota is not None:
            size = min(batch_size, query_quota - issued)
            if size <= 0:
                break
        else:
            if time.perf_counter() >= deadline:
                break
            size = batch_size
        indices = (position + np.arange(size)) % num_queries
        batch = queries[indices]
        wall_start = time.time()
        started = time.perf_counter()
        try:
            result = search(batch)
            ok = True
        except Exception as error:  # noqa: BLE001 - recorded as a failed batch
            result, ok = None, False
            log.last_error = f"{type(error).__name__}: {error}"
        elapsed = time.perf_counter() - started
        log.timestamps.append(wall_start)
        log.sizes.append(size)
        log.seconds.append(elapsed)
        log.success.append(ok)
        if ok:
            failures_in_a_row = 0
            if len(log.first_results) < num_queries:
                for query_index, hits in zip(indices.tolist(), result):
                    log.first_results.setdefault(query_index, [int(i) for i in hits.ids])
        else:
            failures_in_a_row += 1
            if failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
                break
        position = (position + size) % num_queries
        issued += size
    return log


def make_searcher(client: Any, job: QueryJob) -> Callable[[np.ndarray], Any]:
    """Bind the fixed search arguments so the timed call is one plain pymilvus call."""
    collection, limit, params = job.collection, job.search_limit, job.search_params
    output_fields = [ID_FIELD]

    def search(batch: np.ndarray) -> Any:
        return client.search(collection, data=batch, limit=limit,
                             search_params=params, output_fields=output_fields)

    return search


def query_process(job: QueryJob, messages: Any, start_event: Any) -> None:
    """Entry point of a query process: connect, warm up, wait, run, report."""
    try:
        from pymilvus import MilvusClient

        client = MilvusClient(uri=job.uri, timeout=30)
        search = make_searcher(client, job)
        for warmup in range(WARMUP_BATCHES):
            start = (job.first_query + warmup * job.batch_size) % len(job.queries)
            search(job.queries[(start + np.arange(job.batch_size)) % len(job.queries)])
        messages.put(("ready", job.process_id, None))
        start_event.wait()
        log = search_loop(search, job.queries, job.batch_size, first_query=job.first_query,
                          runtime_s=job.runtime_s, query_quota=job.query_quota)
        client.close()
        messages.put(("done", job.process_id, log))
    except Exception as error:  # noqa: BLE001 - reported to the parent as text
        messages.put(("error", job.process_id, f"{type(error).__name__}: {error}"))


def csv_rows(process_id: int, log: BatchLog) -> list[tuple[Any, ...]]:
    """Rows of ``milvus_benchmark_p<i>.csv`` for one process."""
    rows = []
    for batch_id, (stamp, size, seconds, ok) in enumerate(
            zip(log.timestamps, log.sizes, log.seconds, log.success)):
        rows.append((process_id, batch_id, f"{stamp:.6f}", size, f"{seconds:.9f}",
                     f"{seconds / size:.9f}", ok))
    return rows
