"""The training datasize calculator: how many files a dataset needs so that it cannot be cached in host memory
and every epoch runs enough steps (rules.md §2, "Datasize formula")."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

GIB = 1024 ** 3
#: datasize suggests `dataset.num_subfolders_train` above this many files
FILES_PER_SUBFOLDER = 10_000


@dataclass(frozen=True)
class TrainingDatasize:
    """The result of the datasize maths; every number is an int of files or bytes."""

    required_files: int
    files_by_memory: int
    files_by_samples: int
    dominant: Literal["memory", "samples"]
    file_bytes: float
    total_memory_bytes: int
    dataset_bytes: int
    total_disk_bytes: int
    num_subfolders: int
    suggested_subfolders: int

    def as_dict(self) -> dict:
        return asdict(self)

    def explain(self) -> str:
        """One sentence saying which constraint dominates."""
        if self.dominant == "memory":
            return (f"{self.required_files} files are required: the dataset must be at least 5x the {self.total_memory_bytes / GIB:.1f}"
                    f" GiB of client memory ({self.files_by_samples} files would satisfy the step count)")
        return (f"{self.required_files} files are required: every epoch needs the minimum number of steps"
                f" ({self.files_by_memory} files would satisfy the 5x-memory rule)")


def cluster_memory_bytes(memory_gib_per_host: float, num_hosts: int) -> int:
    """Total client memory in bytes from a per-host figure in GiB (as `--client-host-memory-gb` gives it)."""
    if memory_gib_per_host <= 0 or num_hosts <= 0:
        raise ValueError("host memory and host count must be positive")
    return int(memory_gib_per_host * GIB * num_hosts)


def training_datasize(*, total_memory_bytes: int, num_processes: int, batch_size: int, num_samples_per_file: int,
                      record_length_bytes: float, steps_per_epoch: int = 500,
                      memory_multiplier: int = 5) -> TrainingDatasize:
    """Files required for a training dataset.

    `files_by_memory = floor(multiplier x memory / (samples_per_file x record_length))` and
    `files_by_samples = floor(steps x processes x batch / samples_per_file)`; the larger one is required.
    """
    for name, value in (("num_processes", num_processes), ("batch_size", batch_size),
                        ("num_samples_per_file", num_samples_per_file)):
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
    if total_memory_bytes < 0 or record_length_bytes < 0:
        raise ValueError("memory and record length must not be negative")
    dataset_bytes = memory_multiplier * total_memory_bytes
    file_bytes = num_samples_per_file * record_length_bytes
    files_by_memory = math.floor(dataset_bytes / file_bytes) if file_bytes > 0 else 0
    files_by_samples = math.floor(steps_per_epoch * num_processes * batch_size / num_samples_per_file)
    required = max(files_by_memory, files_by_samples)
    return TrainingDatasize(
        required_files=required, files_by_memory=files_by_memory, files_by_samples=files_by_samples,
        dominant="memory" if files_by_memory >= files_by_samples else "samples", file_bytes=file_bytes,
        total_memory_bytes=int(total_memory_bytes), dataset_bytes=int(dataset_bytes),
        total_disk_bytes=int(required * file_bytes), num_subfolders=0,
        suggested_subfolders=required // FILES_PER_SUBFOLDER if required > FILES_PER_SUBFOLDER else 0)
