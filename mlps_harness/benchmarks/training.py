"""Registration of the training benchmark (DLIO under mpirun)."""

from __future__ import annotations

from mlps_harness.benchmarks.registry import BenchmarkSpec
from mlps_harness.suite.options import positive_int


def add_options(group) -> None:
    """Training-only suite options."""
    group.addoption("--accelerator-type", default=None, help="training: simulated accelerator (h100, a100, b200, "
                                                             "mi355); default h100")
    group.addoption("--num-accelerators", type=positive_int, default=None,
                    help="training: simulated accelerators = MPI ranks (default 2 in the embedded run)")


SPEC = BenchmarkSpec(
    name="training",
    path_layouts=(("model", "command"),),
    rule_modules=("mlps_harness.rules.training_run", "mlps_harness.rules.training_group"),
    add_options=add_options,
    description="DLIO training workloads (unet3d, resnet50, cosmoflow, retinanet)",
)
