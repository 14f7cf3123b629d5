"""The training datasize calculator against rules.md §2's worked examples (a), (b) and (c)."""

from __future__ import annotations

import pytest

from mlps_harness.benchmarks.training.datasize import (
    GIB,
    cluster_memory_bytes,
    training_datasize,
)


def test_example_a_unet3d_two_hosts_samples_dominate():
    memory = cluster_memory_bytes(64, 2)
    assert memory == 137_438_953_472
    size = training_datasize(total_memory_bytes=memory, num_processes=16, batch_size=7,
                             num_samples_per_file=1, record_length_bytes=146_600_628)
    assert size.dataset_bytes == 687_194_767_360
    assert size.files_by_memory == 4_687
    assert size.files_by_samples == 56_000
    assert size.required_files == 56_000
    assert size.dominant == "samples"
    assert size.total_disk_bytes == 8_209_635_168_000
    assert size.num_subfolders == 0
    assert size.suggested_subfolders == 5


def test_example_b_resnet50_floor_of_samples_per_file():
    size = training_datasize(total_memory_bytes=cluster_memory_bytes(64, 1), num_processes=16, batch_size=400,
                             num_samples_per_file=1251, record_length_bytes=114_660.07)
    assert size.file_bytes == pytest.approx(143_439_747.57)
    assert size.files_by_memory == 2_395
    assert size.files_by_samples == 2_557          # floor(3,200,000 / 1251), as upstream computes it
    assert size.required_files == 2_557
    assert isinstance(size.required_files, int) and isinstance(size.total_disk_bytes, int)


def test_example_c_cosmoflow_memory_dominates():
    size = training_datasize(total_memory_bytes=128 * GIB, num_processes=8, batch_size=1,
                             num_samples_per_file=1, record_length_bytes=2_828_486)
    assert size.files_by_memory == 242_954
    assert size.files_by_samples == 4_000
    assert size.required_files == 242_954
    assert size.dominant == "memory"
    assert "5x" in size.explain()


@pytest.mark.parametrize("kw", [{"num_processes": 0}, {"batch_size": -1}, {"num_samples_per_file": 0},
                                {"total_memory_bytes": -1}])
def test_rejects_nonsense(kw):
    args = dict(total_memory_bytes=GIB, num_processes=1, batch_size=1, num_samples_per_file=1,
                record_length_bytes=1.0)
    with pytest.raises(ValueError):
        training_datasize(**{**args, **kw})


def test_zero_record_length_gives_sample_bound_only():
    size = training_datasize(total_memory_bytes=GIB, num_processes=2, batch_size=3, num_samples_per_file=1,
                             record_length_bytes=0)
    assert (size.files_by_memory, size.required_files) == (0, 3_000)
