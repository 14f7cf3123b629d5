"""MPI checkpoint workload for MLPerf Storage llama3 checkpointing (DLIO-compatible output).

Public API (importable without MPI):

* ``checkpoint_bytes_per_rank(model, num_ranks, subset=None, size_scale=1.0) -> list[int]``
* ``checkpoint_size_GB(model, num_ranks, subset=None, size_scale=1.0) -> float``
* ``plan_checkpoint(...) -> CheckpointPlan`` with per-rank model/optimizer bytes
* ``prelaunch_checks(options, num_ranks) -> CheckpointPlan`` raising ``CheckpointUsageError``
* ``WorkloadOptions``, ``options_from_argv``, ``options_to_argv`` (argv for mpirun),
  ``load_model_table``, ``model_names``

Run: ``mpirun -n N python -m mlps_harness.benchmarks.checkpointing.workload --model llama3-8b
--checkpoint-folder DIR --output-dir DIR [...]``.
"""

from .checks import prelaunch_checks
from .options import (
                     WorkloadOptions,
                     options_from_argv,
                     options_to_argv,
                     parse_size,
                     shard_paths,
)
from .sizing import (
                     CheckpointPlan,
                     CheckpointUsageError,
                     ModelSpec,
                     RankShard,
                     checkpoint_bytes_per_rank,
                     checkpoint_size_GB,
                     get_model,
                     load_model_table,
                     model_names,
                     plan_checkpoint,
)

__all__ = [
    "CheckpointPlan", "CheckpointUsageError", "ModelSpec", "RankShard", "WorkloadOptions",
    "checkpoint_bytes_per_rank", "checkpoint_size_GB", "get_model", "load_model_table",
    "model_names", "options_from_argv", "options_to_argv", "parse_size", "plan_checkpoint",
    "prelaunch_checks", "shard_paths",
]
