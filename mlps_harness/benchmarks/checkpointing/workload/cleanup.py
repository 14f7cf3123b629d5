"""Checkpoint shards left on the storage under test after a run.

Partial checkpoints (a shard missing or shorter than planned: an interrupted or failed write) are always removed;
complete ones written by this session are removed at the end unless the user keeps them (`--keep-checkpoints`):
checkpoints of the large models are terabytes. Only our own shard files (`checkpoint_<n>/rank_<r>.model.bin`,
`.optimizer.bin`) are ever deleted, and a checkpoint directory only when that leaves it empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .options import WorkloadOptions, checkpoint_dir, shard_paths
from .sizing import CheckpointPlan

_CHECKPOINT_DIR = re.compile(r"checkpoint_(\d+)")
_SHARD_FILE = re.compile(r"rank_\d+\.(model|optimizer)\.bin")


@dataclass
class Cleanup:
    """What `clean_checkpoints` removed and kept."""

    partial: list[int] = field(default_factory=list)    #: checkpoint numbers removed as incomplete
    removed: list[int] = field(default_factory=list)    #: complete checkpoints removed
    kept: list[int] = field(default_factory=list)       #: complete checkpoints kept
    freed_bytes: int = 0


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


def is_complete(options: WorkloadOptions, plan: CheckpointPlan, index: int) -> bool:
    """Every shard of checkpoint `index` exists at its planned size (empty shards need no file)."""
    for shard in plan.shards:
        for path, size in zip(shard_paths(options.checkpoint_folder, index, shard.rank),
                              (shard.model_bytes, shard.optimizer_bytes)):
            if (_size(path) or 0) != size:
                return False
    return True


def _remove(directory: Path) -> int:
    freed = 0
    for path in directory.iterdir():
        if _SHARD_FILE.fullmatch(path.name) and path.is_file() and not path.is_symlink():
            freed += path.stat().st_size
            path.unlink(missing_ok=True)
    try:
        directory.rmdir()
    except OSError:  # something that is not ours is in it: leave it
        pass
    return freed


def _clean_objects(options: WorkloadOptions, plan: CheckpointPlan, written: int, keep: bool) -> Cleanup:
    """Object mode: the same policy for our shard objects under the run's key prefix."""
    from .object_io import open_store, relative_key

    done = Cleanup()
    store = open_store(options)
    pages = store.client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=store.key(""))
    numbers = sorted({int(m.group(1)) for page in pages for item in page.get("Contents", [])
                      if (m := re.search(r"(?:^|/)checkpoint_(\d+)/rank_\d+\.(?:model|optimizer)\.bin$", item["Key"]))})
    for index in numbers:
        keys = [store.key(relative_key(path)) for shard in plan.shards
                for path in shard_paths(options.checkpoint_folder, index, shard.rank)]
        sizes = [store.size(key) or 0 for key in keys]
        expected = [size for shard in plan.shards for size in (shard.model_bytes, shard.optimizer_bytes)]
        if sizes != expected:
            done.freed_bytes += store.delete(keys)
            done.partial.append(index)
        elif index <= written and not keep:
            done.freed_bytes += store.delete(keys)
            done.removed.append(index)
        else:
            done.kept.append(index)
    return done


def clean_checkpoints(options: WorkloadOptions, plan: CheckpointPlan, written: int, keep: bool) -> Cleanup:
    """Remove partial checkpoints in the folder, and checkpoints 1..`written` (this session's) unless `keep`."""
    if options.storage == "object":
        return _clean_objects(options, plan, written, keep)
    done = Cleanup()
    folder = options.checkpoint_folder
    try:
        numbers = sorted(int(m.group(1)) for p in folder.iterdir()
                         if (m := _CHECKPOINT_DIR.fullmatch(p.name)) and p.is_dir() and not p.is_symlink())
    except OSError:
        return done
    for index in numbers:
        directory = checkpoint_dir(folder, index)
        if not is_complete(options, plan, index):
            done.freed_bytes += _remove(directory)
            done.partial.append(index)
        elif index <= written and not keep:
            done.freed_bytes += _remove(directory)
            done.removed.append(index)
        else:
            done.kept.append(index)
    return done
