"""The checkpointing suite's logic: the plan built from options and the workload invocations under mpirun."""
