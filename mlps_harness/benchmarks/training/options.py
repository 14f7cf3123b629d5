"""The training suite's own options."""

from __future__ import annotations

from mlps_harness.argtypes import positive_int


def add_options(group) -> None:
    """Training-only suite options."""
    group.addoption("--accelerator-type", default=None, help="training: simulated accelerator (h100, a100, b200, "
                                                             "mi355); default h100")
    group.addoption("--num-accelerators", type=positive_int, default=None,
                    help="training: simulated accelerators = MPI ranks (default 2 in the embedded run)")
    group.addoption("--max-accelerators", type=positive_int, default=None,
                    help="training: size the dataset for up to this many accelerators in total (as upstream's "
                         "datasize); runs with fewer accelerators reuse it (default: --num-accelerators)")
