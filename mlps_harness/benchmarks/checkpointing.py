"""Registration of the checkpointing benchmark (our MPI checkpoint workload, or upstream's DLIO branch)."""

from __future__ import annotations

from mlps_harness.benchmarks.registry import BenchmarkSpec
from mlps_harness.rules.checkpoint_ruleset import parse_checkpoint


def add_options(group) -> None:
    """Checkpointing-only suite options (the rest, e.g. --model and --num-processes, are common)."""
    group.addoption("--checkpoint-folder", default=None,
                    help="checkpointing: directory on the storage under test for the checkpoint shards "
                         "(default ./data/checkpoints)")
    group.addoption("--num-checkpoints-write", type=int, default=None,
                    help="checkpointing: checkpoints to write (default 10)")
    group.addoption("--num-checkpoints-read", type=int, default=None,
                    help="checkpointing: checkpoints to read back (default 10)")
    group.addoption("--size-scale", type=float, default=None,
                    help="checkpointing: multiply the checkpoint size by this (< 1 makes the run OPEN); the embedded "
                         "default uses a small scale")
    group.addoption("--transfer-size", default=None,
                    help="checkpointing: I/O block size, e.g. 16M (default 16M)")
    group.addoption("--odirect", action="store_true", default=False,
                    help="checkpointing: open shards with O_DIRECT")
    group.addoption("--two-phase", action="store_true", default=False,
                    help="checkpointing: one write-only invocation, then a read-only one started right after "
                         "(<= 30 s apart), with the page cache dropped in between")


SPEC = BenchmarkSpec(
    name="checkpointing",
    path_layouts=(("model",), ("model", "command")),
    rule_modules=("mlps_harness.rules.checkpoint_run", "mlps_harness.rules.checkpoint_group"),
    parse_extra=parse_checkpoint,
    add_options=add_options,
    description="LLM checkpoint write and read-back (llama3-8b, 70b, 405b, 1t)",
)
