"""The schema of the checkpointing ruleset files (`rulesets/<version>/checkpointing.yaml`), the checkpoint sizing
maths the rules use, and the typed `workload` block our checkpoint workload adds to `summary.json` (parse hook)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from mlps_harness import rulesets
from mlps_harness.rules.schema import LayoutValues


class ModelValues(BaseModel):
    """One row of the LLM table (upstream LLM_ALLOWED_VALUES + LLM_SIZE_BY_RANK)."""

    model_config = ConfigDict(extra="forbid")

    min_procs: int
    zero_stage: Literal[1, 3]
    tensor_parallelism: int
    pipeline_parallelism: int
    gpus_per_data_parallel: int
    closed_num_processes: int
    model_GB: float
    optimizer_GB: float

    @property
    def tp_pp(self) -> int:
        return self.tensor_parallelism * self.pipeline_parallelism

    @property
    def full_GB(self) -> float:
        """One full checkpoint (model + optimizer state), GiB."""
        return self.model_GB + self.optimizer_GB

    def rank_GB(self, num_processes: int, subset: bool) -> list[float]:
        """GiB each rank writes: ZeRO-3 splits everything over the world; ZeRO-1 splits the optimizer and the
        first `gpus_per_data_parallel` ranks also hold a slice of the model. Subset keeps the CLOSED world size."""
        world = self.closed_num_processes if subset else num_processes
        out = []
        for rank in range(num_processes):
            if self.zero_stage == 3:
                out.append(self.full_GB / world)
            else:
                model = self.model_GB / self.gpus_per_data_parallel if rank < self.gpus_per_data_parallel else 0.0
                out.append(self.optimizer_GB / world + model)
        return out

    def expected_GB(self, num_processes: int, subset: bool) -> float:
        """checkpoint_size_GB of an unscaled run on `num_processes` ranks."""
        return sum(self.rank_GB(num_processes, subset))


class CheckpointRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: dict[str, ModelValues]
    subset_num_processes: int
    subset_models: list[str]
    open_process_unit: Literal["gpus_per_data_parallel", "tp_pp"]
    closed_params: list[str]
    injected_params: list[str]
    num_checkpoints_write: int
    num_checkpoints_read: int
    counts_mismatch: Literal["OPEN", "INVALID"]
    size_tolerance: float
    clear_cache_factor: float
    #: 4.3.1 direction: "memory_over_data" (review-era v2.0 checker: clear when a host's memory > factor x its
    #: data) or "data_over_memory" (Rules.md v3.0: clear unless data per node > factor x memory per node)
    clear_cache_rule: Literal["memory_over_data", "data_over_memory"] = "memory_over_data"
    cache_drop_methods: list[str]
    #: 4.7.1: most invocations of a group (None = any split of the writes and reads, v2.0)
    max_invocations: int | None
    #: 4.7.1: what more invocations than `max_invocations` make the group
    invocation_overflow: Literal["OPEN", "INVALID"] = "INVALID"
    max_phase_gap_seconds: float | None
    #: 4.7.1 / 2.1.24 timing (gap too long, negative gap): INVALID, or a reviewer's warning (the v3.0 round)
    gap_outcome: Literal["warning", "INVALID"] = "INVALID"
    #: 3.4.2/4.4.2-style evidence: a run without filesystem-separation evidence is a warning, or not applicable
    fs_evidence_missing: Literal["warning", "not_applicable"] = "not_applicable"
    #: 4.6.3: the reference workload YAML's fixed keys per model (dotted key -> value)
    reference_config: dict[str, dict[str, Any]] = {}
    #: 4.6.3: keys of the resolved config that may differ from the reference (free, or judged by another rule)
    reference_free_keys: list[str] = []
    accelerator_memory_GB: dict[str, float]
    default_accelerator: str
    min_accelerators_per_host: int | None
    #: 2.1.23: most timestamp dirs (invocations) a checkpointing group may hold (None = no such rule)
    max_timestamp_dirs: int | None = None
    #: 4.7.3: the observed remap gap must be at least this fraction of the declared remap time (None = no rule)
    remap_min_fraction: float | None = None
    layout: dict[str, LayoutValues]

    def open_unit(self, model: ModelValues) -> int:
        """The number OPEN process counts must be a positive multiple of."""
        return model.tp_pp if self.open_process_unit == "tp_pp" else model.gpus_per_data_parallel


def checkpoint_rules(version: str) -> CheckpointRules:
    """The checkpointing ruleset for a version."""
    return rulesets.section(version, "checkpointing", CheckpointRules)
