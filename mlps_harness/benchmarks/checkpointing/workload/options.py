"""Command-line options of the checkpoint workload and the on-disk shard layout."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from pathlib import Path

from mlps_harness.argtypes import byte_size, non_negative_float

from ..options import DEFAULT_TRANSFER_SIZE, FLAGS  # declared once, with the suite
from .sizing import model_names

CACHE_DROP_CHOICES = ("auto", "drop_caches", "fadvise")


@dataclass
class WorkloadOptions:
    """Validated-at-launch settings of one checkpoint workload run."""

    model: str
    checkpoint_folder: Path
    output_dir: Path
    num_checkpoints_write: int = 10
    num_checkpoints_read: int = 10
    transfer_size: int = DEFAULT_TRANSFER_SIZE
    odirect: bool = False
    fsync: bool = True
    time_between_checkpoints: float = 0.0
    size_scale: float = 1.0
    subset: bool | None = None
    cache_drop: str = "auto"
    storage: str = "file"                 #: file (shards in checkpoint_folder) or object (S3 API)
    s3_bucket: str | None = None
    s3_endpoint: str | None = None
    s3_prefix: str | None = None          #: key prefix in the bucket (default: the model name)

    @property
    def object_prefix(self) -> str:
        """The key prefix of this run's checkpoints in object mode."""
        return (self.s3_prefix if self.s3_prefix is not None else self.model).strip("/")

    def as_record(self) -> dict:
        """JSON-friendly copy for result files."""
        record = asdict(self)
        record["checkpoint_folder"] = str(self.checkpoint_folder)
        record["output_dir"] = str(self.output_dir)
        return record


def parse_size(text: str | int) -> int:
    """Parse ``4096``, ``64k``, ``16M``, ``1GiB`` (binary units) into bytes; a ValueError says what was expected."""
    try:
        return byte_size(str(text))
    except argparse.ArgumentTypeError as error:
        raise ValueError(str(error)) from None


def checkpoint_dir(folder: Path, checkpoint_index: int) -> Path:
    """Directory holding every rank's shard of checkpoint ``checkpoint_index`` (1-based)."""
    return folder / f"checkpoint_{checkpoint_index}"


def shard_paths(folder: Path, checkpoint_index: int, rank: int) -> tuple[Path, Path]:
    """(model state file, optimizer state file) of ``rank`` in one checkpoint."""
    directory = checkpoint_dir(folder, checkpoint_index)
    return (
        directory / f"rank_{rank}.model.bin",
        directory / f"rank_{rank}.optimizer.bin",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m mlps_harness.benchmarks.checkpointing.workload`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m mlps_harness.benchmarks.checkpointing.workload",
        description="MLPerf Storage llama3 checkpoint write/read workload (run under mpirun).",
    )
    add = parser.add_argument                        # FLAGS: declared once with the suite (spelled as shown last)
    add("--model", required=True, help=f"one of {', '.join(model_names())}")
    FLAGS.add_to_workload(add, "checkpoint-folder")
    add("--output-dir", required=True, type=Path,
                        help="where summary.json and per-rank files go (created if missing)")
    for name in ("num-checkpoints-write", "num-checkpoints-read", "transfer-size", "odirect", "size-scale"):
        FLAGS.add_to_workload(add, name)
    add("--no-fsync", dest="fsync", action="store_false",
                        help="skip fsync after each shard (not allowed for CLOSED results)")
    add("--time-between-checkpoints", type=non_negative_float, default=0.0,
                        help="seconds to sleep before each checkpoint, as upstream does (default 0)")
    add("--subset", action=argparse.BooleanOptionalAction, default=None,
                        help="force subset mode on/off (default: on when ranks < CLOSED count)")
    add("--cache-drop", choices=CACHE_DROP_CHOICES, default="auto",
                        help="page-cache drop before reads: auto = drop_caches if permitted, "
                             "else posix_fadvise per file")
    for name in ("storage", "s3-bucket", "s3-endpoint", "s3-prefix"):
        FLAGS.add_to_workload(add, name)
    return parser


def options_from_argv(argv: list[str] | None = None) -> WorkloadOptions:
    """Parse argv into WorkloadOptions (argparse refuses bad values with the option named, status 2)."""
    args = build_parser().parse_args(argv)
    return WorkloadOptions(
        model=args.model,
        checkpoint_folder=args.checkpoint_folder,
        output_dir=args.output_dir,
        num_checkpoints_write=args.num_checkpoints_write,
        num_checkpoints_read=args.num_checkpoints_read,
        transfer_size=args.transfer_size,
        odirect=args.odirect,
        fsync=args.fsync,
        time_between_checkpoints=args.time_between_checkpoints,
        size_scale=args.size_scale,
        subset=args.subset,
        cache_drop=args.cache_drop,
        storage=args.storage,
        s3_bucket=args.s3_bucket,
        s3_endpoint=args.s3_endpoint,
        s3_prefix=args.s3_prefix,
    )


def options_to_argv(options: WorkloadOptions) -> list[str]:
    """Command-line arguments that reproduce ``options`` (for building the mpirun command)."""
    argv = [
        "--model", options.model,
        "--checkpoint-folder", str(options.checkpoint_folder),
        "--output-dir", str(options.output_dir),
        "--num-checkpoints-write", str(options.num_checkpoints_write),
        "--num-checkpoints-read", str(options.num_checkpoints_read),
        "--transfer-size", str(options.transfer_size),
        "--time-between-checkpoints", repr(options.time_between_checkpoints),
        "--size-scale", repr(options.size_scale),
        "--cache-drop", options.cache_drop,
    ]
    if options.odirect:
        argv.append("--odirect")
    if not options.fsync:
        argv.append("--no-fsync")
    if options.subset is not None:
        argv.append("--subset" if options.subset else "--no-subset")
    if options.storage == "object":
        argv += ["--storage", "object", "--s3-bucket", str(options.s3_bucket)]
        argv += ["--s3-endpoint", options.s3_endpoint] if options.s3_endpoint else []
        argv += ["--s3-prefix", options.s3_prefix] if options.s3_prefix is not None else []
    return argv
