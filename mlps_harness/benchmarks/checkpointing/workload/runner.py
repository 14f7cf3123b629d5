"""The MPI checkpoint workload: barrier-timed shard writes, cache drop, read-back, results."""

from __future__ import annotations

import resource
import sys
import time
from datetime import datetime
from pathlib import Path

from .checks import complete_checkpoints_on_disk, load_schedule, prelaunch_checks
from .object_io import open_store, relative_key
from .options import WorkloadOptions, checkpoint_dir, shard_paths
from .results import (
    GIB,
    build_summary,
    collect_host_info,
    metric_report_lines,
    rank_node,
    timestamp,
    write_dlio_config,
    write_rank_files,
    write_summary,
)
from .sizing import CheckpointPlan, CheckpointUsageError, RankShard
from .storage_io import (
    DIRECT_IO_ALIGNMENT,
    TransferBuffer,
    evict_files_from_cache,
    read_shard,
    try_drop_page_cache,
    write_shard,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class RankFailure(Exception):
    """Some rank failed; carries the first failing rank and its message."""

    def __init__(self, rank: int, message: str) -> None:
        super().__init__(f"rank {rank}: {message}")
        self.rank, self.message = rank, message


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def idle_barrier(comm, poll_seconds: float = 0.001) -> None:
    """Barrier that sleeps while waiting instead of busy-polling.

    Open MPI spins in a blocking barrier; on small machines a rank that finished its I/O
    would then steal CPU from the ranks (and kernel writeback) still doing I/O.
    """
    request = comm.Ibarrier()
    while not request.Test():
        time.sleep(poll_seconds)


def _raise_if_any_failed(comm, local_error: str | None) -> None:
    """Collective: every rank learns whether any rank failed (also acts as a barrier)."""
    idle_barrier(comm)
    errors = comm.allgather(local_error)
    for rank, message in enumerate(errors):
        if message is not None:
            raise RankFailure(rank, message)


class CheckpointWorkload:
    """State of one rank during a run."""

    def __init__(self, comm, options: WorkloadOptions, plan: CheckpointPlan, sources_available: int,
                 log=None) -> None:
        self.comm, self.options, self.plan = comm, options, plan
        self.log = log  # rank 0 only: callable taking a list of log lines
        self.rank = comm.Get_rank()
        self.shard: RankShard = plan.shards[self.rank]
        self.node_comm = comm.Split_type(_shared_split_type(), key=self.rank)
        self.schedule = load_schedule(options, sources_available)
        self.records: dict[str, dict] = {}
        self.durations: dict[str, list[float]] = {"save": [], "load": []}
        self.cache_drop_methods: list[str] = []
        self.size_GB = plan.total_bytes / GIB
        self.transfer_size = _effective_transfer_size(options.transfer_size, plan)
        self.buffer = TransferBuffer(self.transfer_size, seed=self.rank + 1)
        self.store = open_store(options)   # object mode: shards are objects (None in file mode)

    def _key(self, path: Path) -> str:
        return self.store.key(relative_key(path))

    def _my_files(self, checkpoint_index: int) -> list[tuple[Path, int]]:
        model_path, optimizer_path = shard_paths(self.options.checkpoint_folder, checkpoint_index, self.rank)
        return [(model_path, self.shard.model_bytes), (optimizer_path, self.shard.optimizer_bytes)]

    def _timed(self, phase: str, number: int, action) -> None:
        """Barrier, run ``action`` timed, then a collective error check; record the timing."""
        if self.options.time_between_checkpoints > 0:
            time.sleep(self.options.time_between_checkpoints)
        idle_barrier(self.comm)
        self.comm.Barrier()  # everyone has arrived: this one releases all ranks together
        started_at = datetime.now()
        began = time.perf_counter()
        error = None
        try:
            action()
        except Exception as exc:  # reported collectively below
            error = f"{phase} checkpoint {number} failed: {_describe(exc)}"
        duration = time.perf_counter() - began
        ended_at = datetime.now()
        _raise_if_any_failed(self.comm, error)
        self.durations[phase].append(duration)
        self.records[f"{phase}_ckpt{number}"] = {
            "start": timestamp(started_at),
            "end": timestamp(ended_at),
            "duration": round(duration, 6),
            "throughput": self.size_GB / duration if duration > 0 else 0.0,
        }
        if self.log is not None:
            verb = "saving" if phase == "save" else "loading"
            self.log([f"[OUTPUT] {timestamp(ended_at)} Finished {verb} checkpoint {number} in "
                      f"{duration:.4f} s on rank 0; Throughput: "
                      f"{self.records[f'{phase}_ckpt{number}']['throughput']:.4f} GB/s"])

    def _save(self, checkpoint_index: int) -> None:
        if self.store is not None:
            for path, size in self._my_files(checkpoint_index):
                if size:
                    self.store.write(self._key(path), size, self.buffer, self.transfer_size, checkpoint_index)
            return
        checkpoint_dir(self.options.checkpoint_folder, checkpoint_index).mkdir(exist_ok=True)
        for path, size in self._my_files(checkpoint_index):
            if size == 0:
                path.unlink(missing_ok=True)
                continue
            write_shard(path, size, self.buffer, self.transfer_size, checkpoint_index,
                        fsync=self.options.fsync, odirect=self.options.odirect)

    def _load(self, checkpoint_index: int) -> None:
        for path, size in self._my_files(checkpoint_index):
            if size and self.store is not None:
                self.store.read(self._key(path), size, self.buffer, self.transfer_size)
            elif size:
                read_shard(path, size, self.buffer, self.transfer_size, odirect=self.options.odirect)

    def _remove_partial_checkpoint(self, checkpoint_index: int) -> None:
        if self.store is not None:
            try:
                self.store.delete(self._key(path) for path, _ in self._my_files(checkpoint_index))
            except Exception:  # best effort, as for files
                pass
            self.comm.Barrier()
            return
        for path, _ in self._my_files(checkpoint_index):
            try:
                if path.is_file():
                    path.unlink()
            except OSError:
                pass
        self.comm.Barrier()
        if self.rank == 0:
            try:
                checkpoint_dir(self.options.checkpoint_folder, checkpoint_index).rmdir()
            except OSError:
                pass

    def _drop_cache(self, checkpoint_index: int) -> None:
        """Drop cached pages of the shards about to be read; remember the method used."""
        if self.store is not None:   # nothing cached on the client side of an object store
            self.cache_drop_methods.append("none_object_storage")
            return
        method = "fadvise_dontneed"
        if self.options.cache_drop in ("auto", "drop_caches"):
            dropped = try_drop_page_cache() if self.node_comm.Get_rank() == 0 else None
            dropped = self.node_comm.bcast(dropped, root=0)
            if dropped:
                method = "drop_caches"
            elif self.options.cache_drop == "drop_caches":
                raise PermissionError("--cache-drop drop_caches: /proc/sys/vm/drop_caches is not writable")
        if method == "fadvise_dontneed":
            evict_files_from_cache([p for p, size in self._my_files(checkpoint_index) if size])
        self.cache_drop_methods.append(method)

    def run_phases(self) -> None:
        """All saves, then all loads."""
        for number in range(1, self.options.num_checkpoints_write + 1):
            try:
                self._timed("save", number, lambda: self._save(number))
            except RankFailure:
                self._remove_partial_checkpoint(number)
                raise
        for number, source in enumerate(self.schedule, start=1):
            error = None
            try:
                self._drop_cache(source)
            except Exception as exc:
                error = f"cache drop before load {number} failed: {_describe(exc)}"
            _raise_if_any_failed(self.comm, error)
            self._timed("load", number, lambda: self._load(source))


def _effective_transfer_size(requested: int, plan: CheckpointPlan) -> int:
    """The requested block size, or less when no shard file is that big (saves memory)."""
    largest_file = max(max(s.model_bytes, s.optimizer_bytes) for s in plan.shards)
    if largest_file >= requested:
        return requested
    return max(DIRECT_IO_ALIGNMENT, -(-largest_file // DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT)


def _shared_split_type() -> int:
    from mpi4py import MPI
    return MPI.COMM_TYPE_SHARED


def _log(lines: list[str], log_path: Path | None) -> None:
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    sys.stdout.flush()
    if log_path is not None:
        with open(log_path, "a") as handle:
            handle.write(text)


def _workload_record(options: WorkloadOptions, plan: CheckpointPlan, workload: CheckpointWorkload,
                     methods: list[str]) -> dict:
    spec = plan.model
    distinct = sorted(set(methods))
    return {
        "model": spec.name, "workload_config": spec.name.replace("-", "_"), "dlio_model_name": spec.dlio_name,
        "num_ranks": plan.num_ranks, "subset": plan.subset, "mode": "subset" if plan.subset else "default",
        "world_size": plan.world_size, "data_parallelism": plan.data_parallelism,
        "zero_stage": spec.zero_stage, "tensor_parallelism": spec.tensor_parallelism,
        "pipeline_parallelism": spec.pipeline_parallelism, "size_scale": plan.size_scale,
        "transfer_size": options.transfer_size, "transfer_size_used": workload.transfer_size,
        "odirect": options.odirect, "fsync": options.fsync,
        "cache_drop_option": options.cache_drop,
        "cache_drop_method": distinct[0] if len(distinct) == 1 else ("none" if not distinct else "mixed"),
        "cache_drop_methods_per_load": workload.cache_drop_methods,
        "num_checkpoints_write": options.num_checkpoints_write,
        "num_checkpoints_read": options.num_checkpoints_read,
        "load_sources": workload.schedule, "checkpoint_folder": str(options.checkpoint_folder),
        "time_between_checkpoints": options.time_between_checkpoints,
        "bytes_per_rank": [s.total_bytes for s in plan.shards],
        "model_bytes_per_rank": [s.model_bytes for s in plan.shards],
        "optimizer_bytes_per_rank": [s.optimizer_bytes for s in plan.shards],
        "bytes_written_total": plan.total_bytes * options.num_checkpoints_write,
        "bytes_read_total": plan.total_bytes * options.num_checkpoints_read,
        "metric_aggregation": "per checkpoint: duration = max over ranks, throughput = "
                              "checkpoint_size_GB / duration; summary = mean and population stdev",
        "per_rank_throughput_basis": "checkpoint_size_GB (all ranks) / this rank's duration",
    }


def run_workload(options: WorkloadOptions) -> int:
    """Run on MPI.COMM_WORLD; return the process exit status (0 ok, 1 rank failure, 2 usage)."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank, num_ranks = comm.Get_rank(), comm.Get_size()
    start = timestamp()
    checked = None
    if rank == 0:
        try:
            plan = prelaunch_checks(options, num_ranks)
            checked = ("ok", plan, complete_checkpoints_on_disk(options, plan))
        except CheckpointUsageError as error:
            checked = ("usage", str(error), 0)
        except Exception as error:  # never leave the other ranks waiting in bcast
            checked = ("failed", f"pre-launch checks failed: {_describe(error)}", 0)
    status, payload, available = comm.bcast(checked, root=0)
    if status != "ok":
        if rank == 0:
            sys.stderr.write(f"error: {payload}\n")
        return EXIT_USAGE if status == "usage" else EXIT_FAILED
    plan: CheckpointPlan = payload
    log_path = options.output_dir / "dlio.log" if rank == 0 else None
    if rank == 0:
        log_path.write_text("")
        _log([f"[OUTPUT] {timestamp()} Running checkpoint workload for {plan.model.name} with "
              f"{num_ranks} process(es){' (subset mode)' if plan.subset else ''}",
              f"[OUTPUT] {timestamp()} Total checkpoint size: {plan.total_bytes / GIB:.6f} GB"], log_path)
    host = collect_host_info()
    try:
        error = None
        try:
            rank0_log = (lambda lines: _log(lines, log_path)) if rank == 0 else None
            workload = CheckpointWorkload(comm, options, plan, available, log=rank0_log)
        except Exception as exc:
            error = f"setup failed: {_describe(exc)}"
        _raise_if_any_failed(comm, error)
        run_start = timestamp()
        workload.run_phases()
        run_end = timestamp()
    except RankFailure as failure:
        if rank == 0:
            sys.stderr.write(f"error: rank {failure.rank} failed: {failure.message}\n")
            _log([f"[ERROR] {timestamp()} rank {failure.rank} failed: {failure.message}"], log_path)
        return EXIT_FAILED
    peak_rss_MB = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gathered = comm.gather((host, workload.durations, workload.cache_drop_methods, peak_rss_MB), root=0)
    methods = comm.bcast(sorted({m for g in gathered for m in g[2]}) if rank == 0 else None, root=0)
    record = _workload_record(options, plan, workload, methods)
    rank_nodes = comm.allgather(rank_node(host, workload.node_comm.allreduce(rank, op=MPI.MIN)))
    error = None
    try:
        rank_record = {**record, "rank": rank, "rank_bytes": workload.shard.total_bytes,
                       "rank_model_bytes": workload.shard.model_bytes,
                       "rank_optimizer_bytes": workload.shard.optimizer_bytes,
                       "peak_rss_MB": peak_rss_MB, "cache_drop_methods_this_rank": workload.cache_drop_methods}
        host_bytes = sum(plan.shards[r].total_bytes for r, n in enumerate(rank_nodes) if n == rank_nodes[rank])
        write_rank_files(options.output_dir, rank, host, run_start, run_end, workload.records,
                         int(host["host_memory_GB"] > host_bytes / GIB), rank_record)
        if rank == 0:
            durations = {phase: [list(per_rank) for per_rank in zip(*(g[1][phase] for g in gathered))]
                         for phase in ("save", "load")}
            record["peak_rss_MB_per_rank"] = [g[3] for g in gathered]
            record["cache_drop_method"] = methods[0] if len(methods) == 1 else ("none" if not methods else "mixed")
            record["node_per_rank"] = rank_nodes
            summary = build_summary(start, timestamp(), [g[0] for g in gathered], rank_nodes,
                                    plan.total_bytes / GIB, [s.total_bytes for s in plan.shards], durations, record)
            write_summary(options.output_dir, summary)
            write_dlio_config(options.output_dir, record)
            _log(metric_report_lines(num_ranks, summary["metric"]), log_path)
    except Exception as exc:
        error = f"writing results failed: {_describe(exc)}"
    try:
        _raise_if_any_failed(comm, error)
    except RankFailure as failure:
        if rank == 0:
            sys.stderr.write(f"error: rank {failure.rank} failed: {failure.message}\n")
        return EXIT_FAILED
    return EXIT_OK
