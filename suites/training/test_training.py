"""The training suite's stages, then the same rule tests as `compliance/` on the runs just written."""

from __future__ import annotations

import pytest

from mlps_harness.benchmarks.training.plan import TrainingPlan
from mlps_harness.rule_tests import test_layout, test_rules, test_submission  # noqa: F401 - collected here
from mlps_harness.suite.stage_result import StageResult


@pytest.mark.stage("datasize")
def test_datasize(training_plan: TrainingPlan) -> None:
    """The dataset size the rules require for this cluster, and which constraint dominates."""
    plan = training_plan
    size = plan.datasize
    print(f"inputs: {plan.model} on {plan.accelerator}, {plan.num_processes} accelerator(s), client memory "
          f"{size.total_memory_bytes} bytes ({plan.memory_source}), {size.file_bytes:g} bytes per file")
    print(f"required files: {size.required_files} ({size.dominant} dominates); by memory {size.files_by_memory}, "
          f"by samples {size.files_by_samples}; {size.total_disk_bytes} bytes")
    if size.suggested_subfolders:
        print(f"more than 10,000 files: split them into subfolders with --params "
              f"dataset.num_subfolders_train={size.suggested_subfolders}")
    print("datagen: " + " ".join(plan.argv("datagen", plan.results_dir / "training" / plan.model / "datagen"
                                           / "<YYYYMMDD_HHMMSS>")))
    assert size.required_files == max(size.files_by_memory, size.files_by_samples)


@pytest.mark.stage("datagen")
def test_datagen(training_dataset: StageResult) -> None:
    """The dataset was generated (or a dataset with identical parameters reused)."""
    if not training_dataset.ok:
        pytest.fail(training_dataset.failure(), pytrace=False)


@pytest.mark.stage("run")
def test_run(training_runs: dict[str, StageResult], slot: str) -> None:
    """One DLIO launch (run/0 is the warm-up)."""
    if slot not in training_runs:
        pytest.skip("not run: an earlier launch failed")
    if not training_runs[slot].ok:
        pytest.fail(training_runs[slot].failure(), pytrace=False)
