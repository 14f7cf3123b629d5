"""The training suite's options, declared as `FLAGS` (one option group; no prefix: upstream's
`--accelerator-type` / `--num-accelerators` / `--max-accelerators` spellings)."""

from __future__ import annotations

from typing import Any

from mlps_harness.argtypes import positive_int
from mlps_harness.flags import Flag, FlagSet

FLAGS = FlagSet(prefix="", label="training", flags=(
    Flag("accelerator-type", metavar="TYPE", default="h100", help="simulated accelerator (h100, a100, b200, mi355)"),
    Flag("num-accelerators", type=positive_int, metavar="N", help="simulated accelerators = MPI ranks",
         suite_default="2 in the embedded run"),
    Flag("max-accelerators", type=positive_int, metavar="N",
         help="size the dataset for up to this many accelerators in total (as upstream's datasize); runs with "
              "fewer accelerators reuse it", suite_default="--num-accelerators"),
))


def add_options(group: Any) -> None:
    """The training suite's options (`FLAGS`) into its option group."""
    FLAGS.add_to_suite(group.addoption)
