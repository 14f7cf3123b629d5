"""The vector database stages: the backend (embedded milvus-lite or a real Milvus), the load (once), the runs.

Each stage returns a `StageResult` that says what happened in plain words (the workload runs in this process: its
returned figures are the result's `figures`); nothing here raises for a user problem (a `VectorDBError` or a server
error becomes the result's `error`), so the suite reports failures without tracebacks.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlps_harness.benchmarks.vector_database.plan import BENCHMARK, VectorDBPlan
from mlps_harness.benchmarks.vector_database.workload import (
    EmbeddedMilvus,
    MilvusEndpoint,
    VectorDBError,
    load_collection,
    run_benchmark,
)
from mlps_harness.cluster.collect import local_cluster_info
from mlps_harness.launch import INCOMPLETE_MARKER, write_incomplete_marker
from mlps_harness.launch.runner import Interim
from mlps_harness.suite.rundirs import (
    RunInterrupted,
    new_run_dir,
    update_metadata,
    write_metadata,
)
from mlps_harness.suite.stage_result import StageResult

Progress = Callable[[str], None]


@dataclass
class Backend:
    """The Milvus the session talks to, or why there is none."""

    endpoint: MilvusEndpoint | None
    engine: str
    error: str | None = None
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.endpoint is not None and self.error is None


def _describe(error: BaseException) -> str:
    if isinstance(error, VectorDBError):
        return str(error)
    return f"{type(error).__name__}: {error}"


_received: list[str] = []   #: the stop signal that interrupted this process, if any


def _interrupted_by() -> str:
    return _received[-1] if _received else "Ctrl-C"


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While the backend is open, SIGTERM and SIGHUP interrupt like Ctrl-C (KeyboardInterrupt): the load or run
    is marked incomplete, its query processes and the embedded server are stopped, nothing is left listening.
    Main thread only (signal handlers can be set nowhere else)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: object) -> None:
        _received.append(signal.Signals(signum).name)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def open_backend(plan: VectorDBPlan) -> Iterator[Backend]:
    """Start the embedded milvus-lite server (stopped on exit) or point at the real Milvus of the plan; either way
    SIGTERM/SIGHUP stop the session like Ctrl-C while it is open."""
    with stop_signals_interrupt():
        if not plan.embedded:
            data_dir = str(plan.data_dir) if plan.data_dir_given else None
            yield Backend(MilvusEndpoint(str(plan.host), int(plan.port or 0), data_dir), plan.engine)
            return
        server = EmbeddedMilvus(plan.milvus_data_dir)
        try:
            endpoint = server.start()
        except (VectorDBError, OSError) as error:
            yield Backend(None, plan.engine, f"cannot start the embedded milvus-lite server: {_describe(error)}",
                          server.log_path)
            return
        for note in server.notes:
            sys.stderr.write(f"vector_database: {note}\n")
        try:
            yield Backend(endpoint, plan.engine, log_path=server.log_path)
        finally:
            server.stop()


def cluster_information(plan: VectorDBPlan) -> dict:
    """This host (the query processes run here) with the filesystems of the engine's data and of the results.

    Against a remote Milvus the local data dir says nothing about its storage, so it is left out unless
    --data-dir was given (then H5.9 compares it with the results dir).
    """
    storage = plan.milvus_data_dir if plan.embedded else plan.data_dir
    info = local_cluster_info(storage, plan.results_dir)
    if not plan.embedded and not plan.data_dir_given:
        for host in info.get("hosts", []):
            host.get("filesystems", {}).pop("data_dir", None)
        info.setdefault("warnings", []).append(
            f"the storage of the Milvus at {plan.host}:{plan.port} is unknown here; pass --data-dir (its mount "
            "on this host) to record it")
    return info


def preflight(plan: VectorDBPlan, backend: Backend) -> str | None:
    """Why loading would fail on an existing collection (dimension mismatch, no --vdb-force), else None."""
    from mlps_harness.benchmarks.vector_database.workload import backend as milvus

    assert backend.endpoint is not None
    try:
        client = milvus.connect(backend.endpoint)
    except Exception as error:  # noqa: BLE001 - any connection problem is reported in words
        return _describe(error)
    try:
        if plan.force or not client.has_collection(plan.collection):
            return None
        info = milvus.collection_info(client, plan.collection)
    except Exception as error:  # noqa: BLE001
        return _describe(error)
    finally:
        client.close()
    where = (f"the embedded milvus-lite server (data in {plan.milvus_data_dir})" if plan.embedded
             else f"{backend.endpoint.host}:{backend.endpoint.port}")
    if info["dimension"] != plan.dimension:
        return (f"--vdb-dimension {plan.dimension} does not match the existing collection {plan.collection!r} at "
                f"{where}, which holds {info['dimension']}-d vectors; pass --vdb-dimension {info['dimension']}, "
                "--vdb-force to drop and reload it, or another --vdb-collection")
    return (f"--vdb-force: collection {plan.collection!r} already exists at {where} ({info['index_type']}, "
            f"{info['dimension']}-d); pass --vdb-force to drop and reload it, or choose another --vdb-collection")


def _start(plan: VectorDBPlan, backend: Backend, command: str, run_number: int, cluster: dict,
           argv_for: Callable[[Path], list[str]]) -> tuple[Path, Path]:
    run_dir = new_run_dir(plan.results_dir, BENCHMARK, backend.engine, plan.index_type, command)
    meta = write_metadata(run_dir, BENCHMARK, args=plan.recorded_args(command, run_number), params={},
                          rules_version=plan.rules_version, cluster=cluster, command=argv_for(run_dir),
                          extra={"run_number": run_number, "datasize": plan.datasize})
    write_incomplete_marker(run_dir, f"the {command} was started but did not finish")
    return run_dir, meta


def _finish(stage: StageResult, meta: Path, started: float, error: BaseException | None) -> StageResult:
    stage.seconds = time.perf_counter() - started
    update_metadata(meta, runtime=round(stage.seconds, 3), returncode=0 if error is None else 1)
    assert stage.run_dir is not None
    if error is None:
        (stage.run_dir / INCOMPLETE_MARKER).unlink(missing_ok=True)
    else:
        stage.error = _describe(error)
        write_incomplete_marker(stage.run_dir, stage.error)
    return stage


def load(plan: VectorDBPlan, backend: Backend, cluster: dict, progress: Progress | None = None) -> StageResult:
    """Create, index and fill the collection once, in its own `.../load/<datetime>/` directory."""
    if not backend.ok:
        return StageResult("load", error=backend.error or "no Milvus server")
    problem = preflight(plan, backend)
    if problem:
        return StageResult("load", error=problem)
    run_dir, meta = _start(plan, backend, "load", 0, cluster, plan.load_argv)
    stage, started, failure = StageResult("load", run_dir), time.perf_counter(), None
    try:
        stage.figures = load_collection(
            backend.endpoint, collection=plan.collection, num_vectors=plan.num_vectors, dimension=plan.dimension,
            distribution=plan.distribution, index_type=plan.index_type, metric_type=plan.metric_type,
            force=plan.force, output_dir=run_dir, log=_interim(progress))
    except KeyboardInterrupt:
        write_incomplete_marker(run_dir, f"interrupted by {_interrupted_by()}")
        raise RunInterrupted(f"load interrupted by {_interrupted_by()}; {run_dir} is marked incomplete") from None
    except Exception as error:  # noqa: BLE001 - reported as the stage's failure, in words
        failure = error
    _final(progress, stage, failure, lambda r: f"{r.get('inserted_vectors')} vectors inserted and indexed in "
                                                f"{r.get('load_seconds', 0):.1f} s")
    return _finish(stage, meta, started, failure)


def _interim(progress: Progress | None) -> Progress:
    """The workload's messages (vectors inserted, search started) as live-line updates."""
    return (lambda message: progress(Interim(message))) if progress else (lambda message: None)


def _final(progress: Progress | None, stage: StageResult, failure: BaseException | None,
           describe: Callable[[dict[str, Any]], str]) -> None:
    """The one line a load or run ends with: its figures, or that it failed."""
    if progress:
        progress(describe(stage.figures or {}) if failure is None else f"failed: {_describe(failure)}")


def _run_line(summary: dict[str, Any]) -> str:
    return (f"{summary.get('throughput_qps', 0):.1f} QPS, p99 {summary.get('p99_latency_ms', 0):.2f} ms, "
            f"recall {summary.get('recall', 0):.3f}")


def run_once(plan: VectorDBPlan, backend: Backend, cluster: dict, run_number: int,
             progress: Progress | None = None) -> StageResult:
    """One timed search run in a fresh `.../run/<datetime>/` directory (the slot `run/<run_number>`)."""
    assert backend.endpoint is not None
    run_dir, meta = _start(plan, backend, "run", run_number, cluster, plan.run_argv)
    stage, started, failure = StageResult(plan.slots[run_number], run_dir), time.perf_counter(), None
    try:
        stage.figures = run_benchmark(
            backend.endpoint, output_dir=run_dir, collection=plan.collection, runtime_s=plan.runtime_s,
            num_query_processes=plan.num_query_processes, batch_size=plan.batch_size, search_ef=plan.search_ef,
            dimension=plan.dimension, log=_interim(progress))
    except KeyboardInterrupt:
        write_incomplete_marker(run_dir, f"interrupted by {_interrupted_by()}")
        raise RunInterrupted(f"run {run_number} interrupted by {_interrupted_by()}; {run_dir} is marked "
                             "incomplete") from None
    except Exception as error:  # noqa: BLE001
        failure = error
    _final(progress, stage, failure, _run_line)
    return _finish(stage, meta, started, failure)


def run_all(plan: VectorDBPlan, backend: Backend, loaded: StageResult, cluster: dict,
            progress: Callable[[str], Progress] | None = None) -> dict[str, StageResult]:
    """The planned runs back to back against the loaded collection; stops at the first failure."""
    done: dict[str, StageResult] = {}
    if not loaded.ok:
        return done
    for number, slot in enumerate(plan.slots):
        done[slot] = run_once(plan, backend, cluster, number, progress(slot) if progress else None)
        if not done[slot].ok:
            break
    return done
