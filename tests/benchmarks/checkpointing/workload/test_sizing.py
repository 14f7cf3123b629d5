"""Sizing maths against values worked out by hand from the model table (GiB = 2**30 bytes)."""

import pytest

from mlps_harness.benchmarks.checkpointing.workload import (
    CheckpointUsageError,
    checkpoint_bytes_per_rank,
    checkpoint_size_GB,
    plan_checkpoint,
)

GIB = 2**30


def test_llama3_8b_zero3_full_closed_run_splits_model_and_optimizer_evenly():
    # (15 + 90) GiB over 8 ranks
    assert checkpoint_bytes_per_rank("llama3-8b", 8) == [14_092_861_440] * 8
    assert checkpoint_size_GB("llama3-8b", 8) == 105.0


def test_llama3_8b_open_run_on_16_ranks():
    assert checkpoint_bytes_per_rank("llama3-8b", 16) == [7_046_430_720] * 16


def test_llama3_8b_on_two_ranks_is_subset_of_the_8_rank_layout():
    plan = plan_checkpoint("llama3-8b", 2)
    assert plan.subset and plan.world_size == 8 and plan.data_parallelism == 1
    assert checkpoint_bytes_per_rank("llama3-8b", 2) == [14_092_861_440] * 2


def test_llama3_70b_subset_on_8_ranks_uses_64_rank_shards():
    plan = plan_checkpoint("llama3-70b", 8)
    assert plan.subset and plan.world_size == 64 and plan.data_parallelism == 8
    # model 130 GiB / 64 = 2_181_038_080, optimizer 781 GiB / 64 = 13_103_005_696
    assert [(s.model_bytes, s.optimizer_bytes) for s in plan.shards] == [(2_181_038_080, 13_103_005_696)] * 8


def test_llama3_70b_zero3_on_128_ranks():
    assert checkpoint_bytes_per_rank("llama3-70b", 128) == [7_642_021_888] * 128


def test_llama3_405b_subset_zero1_every_rank_holds_model_slice():
    plan = plan_checkpoint("llama3-405b", 8)
    assert plan.subset and plan.world_size == 512 and plan.data_parallelism == 2
    # model 755 GiB / 256 = 3_166_699_520; optimizer 4533 GiB / 512 = 9_506_390_016
    assert checkpoint_bytes_per_rank("llama3-405b", 8) == [12_673_089_536] * 8


def test_llama3_405b_zero1_closed_only_first_replica_writes_the_model():
    sizes = checkpoint_bytes_per_rank("llama3-405b", 512)
    assert sizes[:256] == [12_673_089_536] * 256
    assert sizes[256:] == [9_506_390_016] * 256
    assert sum(sizes) == (755 + 4533) * GIB


def test_llama3_1t_subset_and_closed():
    # model 2571 GiB / 512 = 5_391_777_792; optimizer 15426 GiB / 1024 = 16_175_333_376
    assert checkpoint_bytes_per_rank("llama3-1t", 8) == [21_567_111_168] * 8
    sizes = checkpoint_bytes_per_rank("llama3-1t", 1024)
    assert sizes[:512] == [21_567_111_168] * 512 and sizes[512:] == [16_175_333_376] * 512
    assert sum(sizes) == (2571 + 15426) * GIB


def test_zero1_and_zero3_differ_for_same_world_size():
    # ZeRO-3 (70b) puts model bytes on every rank; ZeRO-1 (405b) only on the first 256
    zero3 = plan_checkpoint("llama3-70b", 512)
    zero1 = plan_checkpoint("llama3-405b", 512)
    assert all(s.model_bytes > 0 for s in zero3.shards)
    assert [s.model_bytes > 0 for s in zero1.shards] == [True] * 256 + [False] * 256


def test_size_scale_shrinks_every_shard():
    assert checkpoint_bytes_per_rank("llama3-8b", 8, size_scale=0.5) == [7_046_430_720] * 8
    tiny = checkpoint_bytes_per_rank("llama3-8b", 2, size_scale=0.0001)
    # round(15 GiB * 1e-4) // 8 + round(90 GiB * 1e-4) // 8
    assert tiny == [201_326 + 1_207_959] * 2


@pytest.mark.parametrize("model, ranks, subset, option", [
    ("llama3-9b", 8, None, "--model"),
    ("llama3-70b", 12, False, "--num-processes"),
    ("llama3-405b", 100, False, "--num-processes"),
    ("llama3-8b", 8, True, "--subset"),
    ("llama3-8b", 0, None, "--num-processes"),
])
def test_bad_sizing_requests_name_the_option(model, ranks, subset, option):
    with pytest.raises(CheckpointUsageError) as caught:
        checkpoint_bytes_per_rank(model, ranks, subset=subset)
    assert caught.value.option == option


def test_non_positive_size_scale_is_refused():
    with pytest.raises(CheckpointUsageError, match="--size-scale"):
        checkpoint_bytes_per_rank("llama3-8b", 8, size_scale=0)
