"""Registration of the training benchmark (DLIO under mpirun)."""

from mlps_harness.benchmarks.registry import BenchmarkSpec

SPEC = BenchmarkSpec(
    name="training",
    path_layouts=(("model", "command"),),
    rule_modules=("mlps_harness.rules.training_run", "mlps_harness.rules.training_group"),
    description="DLIO training workloads (unet3d, resnet50, cosmoflow, retinanet)",
)
