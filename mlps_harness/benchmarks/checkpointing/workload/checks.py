"""Pre-launch checks: everything that can be refused before any rank writes a byte.

``prelaunch_checks`` is what the suite calls before mpirun; the workload calls it
again on rank 0 at start-up. Every failure is a CheckpointUsageError naming the
option to fix (the CLI turns it into exit status 2).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mlps_harness.launch.faults import human_bytes

from .options import WorkloadOptions, shard_paths
from .sizing import CheckpointPlan, CheckpointUsageError, plan_checkpoint
from .storage_io import DIRECT_IO_ALIGNMENT, direct_io_supported


def _object_checks(options: WorkloadOptions, plan: CheckpointPlan, num_ranks: int) -> CheckpointPlan:
    """Object mode: the bucket answers, O_DIRECT is not asked for, a read-only run finds its checkpoint."""
    from .object_io import open_store

    if options.odirect:
        raise CheckpointUsageError("--odirect", "O_DIRECT is a file option; drop it in object mode")
    store = open_store(options)
    if options.num_checkpoints_write == 0 and complete_checkpoints_on_disk(options, plan, store) == 0:
        raise CheckpointUsageError("--num-checkpoints-read", f"no complete checkpoint for {options.model} on "
                                   f"{num_ranks} ranks under s3://{options.s3_bucket}/{store.prefix}; write one "
                                   "first (--num-checkpoints-write > 0)")
    try:
        options.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CheckpointUsageError("--output-dir", f"cannot create {options.output_dir}: {error.strerror}") from None
    return plan


def _require_writable_folder(folder: Path) -> None:
    if not folder.exists():
        raise CheckpointUsageError(
            "--checkpoint-folder", f"{folder} does not exist; create it or point to an existing directory"
        )
    if not folder.is_dir():
        raise CheckpointUsageError("--checkpoint-folder", f"{folder} is not a directory")
    probe = folder / f".write-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
    except OSError as error:
        raise CheckpointUsageError(
            "--checkpoint-folder",
            f"{folder} is not writable ({error.strerror}); choose a writable directory",
        ) from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def _existing_bytes(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


def bytes_still_needed(options: WorkloadOptions, plan: CheckpointPlan) -> int:
    """New disk bytes the write phase needs (overwritten shards give their space back)."""
    needed = 0
    for checkpoint_index in range(1, options.num_checkpoints_write + 1):
        for shard in plan.shards:
            model_path, optimizer_path = shard_paths(options.checkpoint_folder, checkpoint_index, shard.rank)
            needed += max(0, shard.model_bytes - _existing_bytes(model_path))
            needed += max(0, shard.optimizer_bytes - _existing_bytes(optimizer_path))
    return needed


def complete_checkpoints_on_disk(options: WorkloadOptions, plan: CheckpointPlan, store=None) -> int:
    """How many checkpoints 1, 2, ... exist with every shard at its planned size (empty shards need no file);
    in object mode, as objects of `store` (opened from `options` when not given)."""
    if options.storage == "object" and store is None:
        from .object_io import open_store

        store = open_store(options)
    count = 0
    while True:
        index = count + 1
        for shard in plan.shards:
            model_path, optimizer_path = shard_paths(options.checkpoint_folder, index, shard.rank)
            if store is not None:
                from .object_io import relative_key

                sizes = [store.size(store.key(relative_key(p))) or 0 for p in (model_path, optimizer_path)]
            else:
                sizes = [_existing_bytes(model_path), _existing_bytes(optimizer_path)]
            if sizes != [shard.model_bytes, shard.optimizer_bytes]:
                return count
        count = index


def load_schedule(options: WorkloadOptions, checkpoints_available: int) -> list[int]:
    """Checkpoint index read by each load: ``((i - 1) mod available) + 1``."""
    source_count = options.num_checkpoints_write or checkpoints_available
    return [(i % source_count) + 1 for i in range(options.num_checkpoints_read)]


def prelaunch_checks(options: WorkloadOptions, num_ranks: int) -> CheckpointPlan:
    """Validate options and storage for a run on ``num_ranks`` ranks; return its sizing plan."""
    for option, value in (
        ("--num-checkpoints-write", options.num_checkpoints_write),
        ("--num-checkpoints-read", options.num_checkpoints_read),
    ):
        if value < 0:
            raise CheckpointUsageError(option, f"must be 0 or more, got {value}")
    if options.num_checkpoints_write == 0 and options.num_checkpoints_read == 0:
        raise CheckpointUsageError(
            "--num-checkpoints-write", "both checkpoint counts are 0; nothing to do"
        )
    if options.time_between_checkpoints < 0:
        raise CheckpointUsageError(
            "--time-between-checkpoints", f"must be 0 or more, got {options.time_between_checkpoints}"
        )
    if options.transfer_size <= 0:
        raise CheckpointUsageError("--transfer-size", "must be a positive byte count")
    if options.odirect and options.transfer_size % DIRECT_IO_ALIGNMENT:
        raise CheckpointUsageError(
            "--transfer-size",
            f"with --odirect it must be a multiple of {DIRECT_IO_ALIGNMENT} (got {options.transfer_size})",
        )
    plan = plan_checkpoint(options.model, num_ranks, subset=options.subset, size_scale=options.size_scale)
    if options.storage == "object":
        return _object_checks(options, plan, num_ranks)
    _require_writable_folder(options.checkpoint_folder)
    if options.odirect and not direct_io_supported(options.checkpoint_folder):
        raise CheckpointUsageError(
            "--odirect", f"the filesystem of {options.checkpoint_folder} refuses O_DIRECT; drop --odirect"
        )
    needed = bytes_still_needed(options, plan)
    free = shutil.disk_usage(options.checkpoint_folder).free
    if needed > free:
        raise CheckpointUsageError(
            "--checkpoint-folder",
            f"{options.checkpoint_folder} has {human_bytes(free)} free but "
            f"{options.num_checkpoints_write} checkpoint(s) need {human_bytes(needed)} more; "
            "free space, lower --num-checkpoints-write or --size-scale",
        )
    if options.num_checkpoints_write == 0 and complete_checkpoints_on_disk(options, plan) == 0:
        raise CheckpointUsageError(
            "--num-checkpoints-read",
            f"no complete checkpoint for {options.model} on {num_ranks} ranks in "
            f"{options.checkpoint_folder}; write one first (--num-checkpoints-write > 0)",
        )
    try:
        options.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CheckpointUsageError("--output-dir", f"cannot create {options.output_dir}: {error.strerror}") from None
    return plan
