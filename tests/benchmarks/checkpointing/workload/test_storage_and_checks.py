"""Shard I/O and pre-launch checks, without MPI."""

import os
from pathlib import Path

import pytest

from mlps_harness.benchmarks.checkpointing.workload import (
    CheckpointUsageError,
    WorkloadOptions,
    options_from_argv,
    options_to_argv,
    prelaunch_checks,
)
from mlps_harness.benchmarks.checkpointing.workload.storage_io import (
    TransferBuffer,
    direct_io_supported,
    read_shard,
    write_shard,
)


@pytest.mark.parametrize("size, odirect", [(1, False), (300_001, False), (300_001, True), (65_536 * 3, True)])
def test_write_shard_writes_exact_size_and_reads_back(tmp_path, size, odirect):
    if odirect and not direct_io_supported(tmp_path):
        pytest.skip("filesystem without O_DIRECT")
    buffer = TransferBuffer(65_536, seed=7)
    path = tmp_path / "shard.bin"
    write_shard(path, size, buffer, 65_536, checkpoint_index=1, odirect=odirect)
    assert path.stat().st_size == size
    assert read_shard(path, size, buffer, 65_536, odirect=odirect) == size
    with pytest.raises(OSError, match="expected"):
        read_shard(path, size + 1, buffer, 65_536)


def test_blocks_are_distinct_and_reproducible(tmp_path):
    block = 8192
    for name in ("a", "b"):
        write_shard(tmp_path / name, block * 4, TransferBuffer(block, seed=3), block, checkpoint_index=2)
    data = (tmp_path / "a").read_bytes()
    blocks = {data[i:i + block] for i in range(0, len(data), block)}
    assert len(blocks) == 4
    assert data == (tmp_path / "b").read_bytes()


def _options(tmp_path: Path, **overrides) -> WorkloadOptions:
    (tmp_path / "ckpt").mkdir(exist_ok=True)
    fields = {"model": "llama3-8b", "checkpoint_folder": tmp_path / "ckpt",
              "output_dir": tmp_path / "out", "size_scale": 0.0001, **overrides}
    return WorkloadOptions(**fields)


def test_prelaunch_checks_return_the_plan_and_create_the_output_dir(tmp_path):
    plan = prelaunch_checks(_options(tmp_path), 2)
    assert plan.num_ranks == 2 and plan.subset
    assert (tmp_path / "out").is_dir()


@pytest.mark.parametrize("overrides, option", [
    ({"num_checkpoints_write": -1}, "--num-checkpoints-write"),
    ({"num_checkpoints_read": -1}, "--num-checkpoints-read"),
    ({"time_between_checkpoints": -1.0}, "--time-between-checkpoints"),
    ({"transfer_size": 0}, "--transfer-size"),
    ({"odirect": True, "transfer_size": 1000}, "--transfer-size"),
    ({"model": "gpt-5"}, "--model"),
    ({"size_scale": 100.0}, "--checkpoint-folder"),
    ({"checkpoint_folder": Path("/proc")}, "--checkpoint-folder"),
    ({"checkpoint_folder": Path("/nonexistent-ckpt-folder")}, "--checkpoint-folder"),
])
def test_prelaunch_checks_name_the_option(tmp_path, overrides, option):
    with pytest.raises(CheckpointUsageError) as caught:
        prelaunch_checks(_options(tmp_path, **overrides), 2)
    assert caught.value.option == option
    assert not any((tmp_path / "ckpt").iterdir())


def test_free_space_check_counts_only_bytes_not_yet_on_disk(tmp_path, monkeypatch):
    options = _options(tmp_path, num_checkpoints_write=1, num_checkpoints_read=0)
    needed = sum(shard.total_bytes for shard in prelaunch_checks(options, 2).shards)
    from mlps_harness.benchmarks.checkpointing.workload import checks

    class FakeUsage:
        free = needed - 1
    monkeypatch.setattr(checks.shutil, "disk_usage", lambda path: FakeUsage)
    with pytest.raises(CheckpointUsageError, match="free"):
        prelaunch_checks(options, 2)
    FakeUsage.free = needed
    prelaunch_checks(options, 2)
    assert os.listdir(options.checkpoint_folder) == []


@pytest.mark.parametrize("overrides", [
    {},
    {"odirect": True, "fsync": False, "subset": True, "transfer_size": 1 << 20,
     "time_between_checkpoints": 0.5, "num_checkpoints_write": 0, "cache_drop": "fadvise"},
    {"subset": False, "size_scale": 1e-7},
])
def test_options_round_trip_through_argv(tmp_path, overrides):
    options = _options(tmp_path, **overrides)
    assert options_from_argv(options_to_argv(options)) == options
