"""The checkpointing suite's own options."""

from __future__ import annotations

from mlps_harness.argtypes import non_negative_int, positive_float


def add_options(group) -> None:
    """Checkpointing-only suite options (the rest, e.g. --model and --num-processes, are common)."""
    group.addoption("--checkpoint-folder", default=None,
                    help="checkpointing: directory on the storage under test for the checkpoint shards, created "
                         "if missing (default $MLPSTORAGE_CHECKPOINT_FOLDER, else <data-dir>/checkpoints)")
    group.addoption("--num-checkpoints-write", type=non_negative_int, default=None,
                    help="checkpointing: checkpoints to write (default 10)")
    group.addoption("--num-checkpoints-read", type=non_negative_int, default=None,
                    help="checkpointing: checkpoints to read back (default 10)")
    group.addoption("--checkpoint-size-scale", type=positive_float, default=None,
                    help="checkpointing: multiply the checkpoint size by this (< 1 makes the run OPEN); the embedded "
                         "default uses a small scale")
    group.addoption("--checkpoint-transfer-size", default=None,
                    help="checkpointing: I/O block size, e.g. 16M (default 16M)")
    group.addoption("--checkpoint-odirect", action="store_true", default=False,
                    help="checkpointing: open shards with O_DIRECT")
    group.addoption("--keep-checkpoints", action="store_true", default=False,
                    help="checkpointing: keep the complete checkpoints written by this session (default: removed at "
                         "the end; partial ones are always removed)")
    group.addoption("--checkpoint-storage", choices=("file", "object"), default=None,
                    help="checkpointing: file (shards in --checkpoint-folder, default) or object (S3 API: "
                         "--checkpoint-s3-bucket at --checkpoint-s3-endpoint; credentials from AWS_* variables)")
    group.addoption("--checkpoint-s3-bucket", default=None, help="checkpointing: object mode's bucket (must exist)")
    group.addoption("--checkpoint-s3-endpoint", default=None,
                    help="checkpointing: object mode's S3 endpoint URL, e.g. http://10.0.0.5:9000 (default AWS)")
    group.addoption("--checkpoint-s3-prefix", default=None,
                    help="checkpointing: object mode's key prefix (default the model name)")
    group.addoption("--checkpoint-two-phase", action="store_true", default=False,
                    help="checkpointing: one write-only invocation, then a read-only one started right after "
                         "(<= 30 s apart), with the page cache dropped in between")
