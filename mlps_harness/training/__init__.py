"""The training suite's logic: the plan built from options, dataset generation, and the DLIO runs."""
