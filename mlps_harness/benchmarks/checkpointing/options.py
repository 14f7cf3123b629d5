"""The checkpointing options, declared once: `FLAGS` are shared by the suite (`--checkpoint-*`, this module's
`add_options`) and the workload CLI (`python -m mlps_harness.benchmarks.checkpointing.workload`, bare names).

Kept light (no pytest, no workload import): pytest imports it at every start, the workload inside every rank.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlps_harness.argtypes import byte_size, non_negative_int, positive_float
from mlps_harness.flags import Flag, FlagSet

DEFAULT_TRANSFER_SIZE = 16 << 20
STORAGE_CHOICES = ("file", "object")

FLAGS = FlagSet(prefix="checkpoint-", label="checkpointing", flags=(
    Flag("checkpoint-folder", metavar="DIR", type=Path, required=True,
         help="directory on the storage under test for the checkpoint shards (object mode: unused); the workload "
              "needs it to exist and be writable, a suite creates it if missing",
         suite_default="$MLPSTORAGE_CHECKPOINT_FOLDER, else <data-dir>/checkpoints"),
    Flag("num-checkpoints-write", metavar="N", type=non_negative_int, default=10,
         suite_name="--num-checkpoints-write",
         help="checkpoints to write"),
    Flag("num-checkpoints-read", metavar="N", type=non_negative_int, default=10, suite_name="--num-checkpoints-read",
         help="checkpoints to read back"),
    Flag("size-scale", metavar="FACTOR", type=positive_float, default=1.0,
         help="multiply every checkpoint size by this (< 1 makes the run OPEN; e.g. 0.0001 on small machines)",
         suite_default="1; the embedded run uses a small scale"),
    Flag("transfer-size", metavar="SIZE", type=byte_size, default=DEFAULT_TRANSFER_SIZE, default_text="16M",
         help="I/O block size, bytes or with a K/M/G suffix"),
    Flag("odirect", action="store_true", help="open shards with O_DIRECT"),
    Flag("storage", choices=STORAGE_CHOICES, default="file",
         help="file: shards in the checkpoint folder; object: objects in the s3 bucket over the S3 API "
              "(credentials from AWS_* variables)"),
    Flag("s3-bucket", metavar="BUCKET", help="object mode: the bucket (must exist)"),
    Flag("s3-endpoint", metavar="URL", default_text="AWS",
         help="object mode: the S3 endpoint URL, e.g. http://10.0.0.5:9000"),
    Flag("s3-prefix", metavar="PREFIX", default_text="the model name", help="object mode: key prefix"),
))


def add_options(group: Any) -> None:
    """The checkpointing suite's options: the shared `FLAGS`, then those of the suite alone (the rest, e.g.
    --model and --num-processes, are common)."""
    FLAGS.add_to_suite(group.addoption)
    group.addoption("--keep-checkpoints", action="store_true", default=False,
                    help="checkpointing: keep the complete checkpoints written by this session (default: removed at "
                         "the end; partial ones are always removed)")
    group.addoption("--checkpoint-two-phase", action="store_true", default=False,
                    help="checkpointing: one write-only invocation, then a read-only one started right after "
                         "(<= 30 s apart), with the page cache dropped in between")
