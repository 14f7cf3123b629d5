"""Tier accounting, LRU order, demotion and eviction of MultiTierCache."""
from __future__ import annotations

import os

import numpy as np
import pytest
from kv_cache.errors import StorageUnavailableError
from kv_cache.tiers import FAULT_ENV_ENOSPC_AFTER_BYTES, NvmeTier

from .helpers import SMALL_CHUNK

KIB = 1024
BLOCK = 100 * KIB


def test_blocks_go_to_fastest_tier_and_usage_is_accounted(make_cache):
    cache = make_cache(gpu=1000 * KIB, cpu=1000 * KIB, storage=10_000 * KIB)
    for n in range(3):
        cache.allocate(f"user_a_req_{n}", 10, BLOCK)
    assert cache.entry_count("gpu") == 3
    assert cache.used_bytes("gpu") == 3 * BLOCK
    assert cache.used_bytes("cpu") == cache.used_bytes("storage") == 0
    assert cache.counters.bytes[("gpu", "write")] == 3 * BLOCK


def test_allocating_an_existing_key_is_a_noop(make_cache):
    cache = make_cache(gpu=0, cpu=0, storage=10_000 * KIB)
    cache.allocate("user_a_req_0", 10, BLOCK)
    cache.allocate("user_a_req_0", 10, BLOCK)
    assert cache.counters.ops[("storage", "write")] == 1
    assert cache.used_bytes("storage") == BLOCK


def test_zero_capacity_tiers_are_skipped_and_files_hold_the_block(make_cache, tmp_path):
    cache = make_cache(gpu=0, cpu=0, storage=10_000 * KIB)
    cache.allocate("user_a_req_0", 10, BLOCK + 3)
    assert cache.tier_of("user_a_req_0") == "storage"
    path = tmp_path / "user_a_req_0.npy"
    loaded = np.load(path)          # a valid .npy file: header + payload
    expected = cache.data.block_bytes(cache._entries["user_a_req_0"].block_hash, BLOCK + 3)
    assert np.array_equal(loaded, expected)


def test_block_above_95_percent_of_a_ram_tier_goes_lower(make_cache):
    cache = make_cache(gpu=100 * KIB, cpu=1000 * KIB, storage=10_000 * KIB)
    cache.allocate("user_a_req_0", 10, 96 * KIB)
    assert cache.tier_of("user_a_req_0") == "cpu"


def test_lru_order_follows_access_and_hits_do_not_promote(make_cache):
    cache = make_cache(gpu=0, cpu=0, storage=10_000 * KIB)
    for key in ("user_a_req_0", "user_a_req_1", "user_a_req_2"):
        cache.allocate(key, 10, BLOCK)
    hit, seconds = cache.access("user_a_req_0")
    assert hit and seconds > 0
    assert cache.keys_in_lru_order("storage") == ["user_a_req_1", "user_a_req_2", "user_a_req_0"]
    assert cache.tier_of("user_a_req_0") == "storage"
    assert cache.access("user_missing")[0] is False
    assert cache.counters.counts["cache_hits"] == 1
    assert cache.counters.counts["cache_misses"] == 1


def test_gpu_overflow_demotes_lru_blocks_to_cpu_down_to_80_percent(make_cache):
    cache = make_cache(gpu=500 * KIB, cpu=2000 * KIB, storage=10_000 * KIB)
    keys = [f"user_a_req_{n}" for n in range(5)]
    for key in keys:
        cache.allocate(key, 10, BLOCK)
    cache.access(keys[0])                       # keys[0] becomes most recent
    cache.allocate("user_a_req_5", 10, BLOCK)   # needs space: usage+new <= 400 KiB
    assert cache.used_bytes("gpu") <= 0.8 * 500 * KIB
    assert cache.keys_in_lru_order("cpu") == [keys[1], keys[2]]
    assert cache.tier_of(keys[0]) == "gpu"
    assert cache.counters.counts["demotions"] == 2
    assert cache.used_bytes("cpu") == 2 * BLOCK
    assert cache.used_bytes("gpu") + cache.used_bytes("cpu") == 6 * BLOCK


def test_cpu_overflow_demotes_real_bytes_to_nvme(make_cache, tmp_path):
    cache = make_cache(gpu=0, cpu=250 * KIB, storage=10_000 * KIB)
    for n in range(3):
        cache.allocate(f"user_a_req_{n}", 10, BLOCK)
    assert cache.tier_of("user_a_req_0") == "storage"
    assert cache.entry_count("cpu") == 2
    on_disk = np.load(tmp_path / "user_a_req_0.npy")
    expected = cache.data.block_bytes(cache._entries["user_a_req_0"].block_hash, BLOCK)
    assert np.array_equal(on_disk, expected)
    assert cache.counters.counts["offloads_storage"] == 1
    assert cache.access("user_a_req_0")[0]
    assert cache.tiers[-1].integrity_errors == 0


def test_nvme_evicts_lru_files_up_to_its_limit(make_cache, tmp_path):
    cache = make_cache(gpu=0, cpu=0, storage=3 * BLOCK)
    for n in range(3):
        cache.allocate(f"user_a_req_{n}", 10, BLOCK)
    cache.access("user_a_req_0")
    cache.allocate("user_a_req_3", 10, BLOCK)
    assert not (tmp_path / "user_a_req_1.npy").exists()
    assert cache.keys_in_lru_order("storage") == ["user_a_req_2", "user_a_req_0", "user_a_req_3"]
    assert cache.used_bytes("storage") == 3 * BLOCK
    assert cache.access("user_a_req_1")[0] is False
    assert cache.counters.counts["evictions"] == 1


def test_block_larger_than_every_tier_is_forced_onto_nvme(make_cache):
    cache = make_cache(gpu=10 * KIB, cpu=10 * KIB, storage=BLOCK // 2)
    cache.allocate("user_a_req_0", 10, BLOCK)
    assert cache.tier_of("user_a_req_0") == "storage"


def test_corrupted_file_is_reported_as_integrity_error(make_cache, tmp_path):
    cache = make_cache(gpu=0, cpu=0, storage=10_000 * KIB)
    cache.allocate("user_a_req_0", 10, 2 * SMALL_CHUNK)
    with open(tmp_path / "user_a_req_0.npy", "r+b") as handle:
        handle.seek(128 + SMALL_CHUNK)
        handle.write(b"\xff" * 8)
    cache.access("user_a_req_0")
    assert cache.tiers[-1].integrity_errors == 1


def test_no_space_raises_clean_error_and_removes_partial_file(make_cache, tmp_path, monkeypatch):
    monkeypatch.setenv(FAULT_ENV_ENOSPC_AFTER_BYTES, str(BLOCK + BLOCK // 2))
    cache = make_cache(gpu=0, cpu=0, storage=10_000 * KIB)
    cache.allocate("user_a_req_0", 10, BLOCK)
    with pytest.raises(StorageUnavailableError, match="full"):
        cache.allocate("user_a_req_1", 10, BLOCK)
    assert sorted(os.listdir(tmp_path)) == ["user_a_req_0.npy"]
    assert cache.used_bytes("storage") == BLOCK
    assert not cache.contains("user_a_req_1")
    cache.tiers[-1].remove_created_files()
    assert os.listdir(tmp_path) == []


def test_stale_files_of_our_naming_only_are_removed(tmp_path):
    (tmp_path / "conv_user_0001_5_turn_1.npy").write_bytes(b"x")
    (tmp_path / "precond_00000001.npy").write_bytes(b"x")
    (tmp_path / "my_dataset.npy").write_bytes(b"keep")
    tier = NvmeTier(1 << 20, None, tmp_path)
    assert tier.remove_stale_files() == 2
    assert os.listdir(tmp_path) == ["my_dataset.npy"]


def test_abort_cuts_a_transfer_short_and_removes_the_partial_file(tmp_path):
    import threading

    from kv_cache.blockdata import BlockDataSource
    from kv_cache.tiers import OperationAborted
    data = BlockDataSource(3, pool_bytes=4 * SMALL_CHUNK, chunk_bytes=SMALL_CHUNK)
    tier = NvmeTier(1 << 30, data, tmp_path)
    tier.abort = threading.Event()
    tier.abort.set()
    with pytest.raises(OperationAborted):
        tier.write("user_a_req_0", 1, 4 * SMALL_CHUNK)
    assert os.listdir(tmp_path) == []
