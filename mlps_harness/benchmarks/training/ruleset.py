"""The schema of the training ruleset files (`rulesets/<version>/training.yaml`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from mlps_harness import rulesets
from mlps_harness.rules.schema import LayoutValues


class WorkloadValues(BaseModel):
    """Reference workload values of one model; a mapping gives per-accelerator values."""

    batch_size: int | dict[str, int]
    num_samples_per_file: int
    record_length_bytes: float
    computation_time: dict[str, float]
    default_num_files_train: int

    def batch_for(self, accelerator: str | None) -> int | None:
        if isinstance(self.batch_size, int):
            return self.batch_size
        return self.batch_size.get(accelerator or "")


class SubmissionValues(BaseModel):
    measured_runs: int
    warmup_runs: int
    exact_run_dirs: bool
    gap_rule: str
    datagen_dirs: int
    replication_tolerance: float




class TrainingRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str]
    closed_models: list[str]
    accelerators: list[str]
    closed_accelerators: list[str]
    steps_per_epoch: int
    memory_multiplier: int
    au_minimum: dict[str, float]
    workloads: dict[str, WorkloadValues]
    closed_params: list[str]
    open_params: list[str]
    injected_params: list[str]
    ignored_param_prefixes: list[str]
    odirect_models: list[str]
    checkpoint_required_models: list[str]
    min_steps_per_epoch: int
    submission: SubmissionValues
    layout: dict[str, LayoutValues]
    #: 3.1.2: a dataset below the datasize formula is INVALID, or a reviewer's warning (the v3.0 round's 3.3.1)
    dataset_too_small: Literal["INVALID", "warning"] = "INVALID"
    #: 3.4.2: a run without filesystem-separation evidence is a warning (v3.0 round), or not applicable
    fs_evidence_missing: Literal["warning", "not_applicable"] = "not_applicable"


def training_rules(version: str) -> TrainingRules:
    """The training ruleset for a version."""
    return rulesets.section(version, "training", TrainingRules)
