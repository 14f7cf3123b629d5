"""The checkpointing suite's stages, then the same rule tests as `compliance/` on the runs just written."""

from __future__ import annotations

import pytest

from mlps_harness.benchmarks.checkpointing.configview import datasize, datasize_lines
from mlps_harness.benchmarks.checkpointing.plan import CheckpointPlan
from mlps_harness.rule_tests import test_layout, test_rules, test_submission  # noqa: F401 - collected here
from mlps_harness.suite.stage_result import StageResult


@pytest.mark.stage("plan")
def test_plan(checkpoint_plan: CheckpointPlan) -> None:
    """The pre-launch checks passed (options, free space, folder, process count vs parallelism)."""
    plan = checkpoint_plan
    print(f"{plan.model}: {plan.total_bytes} bytes per checkpoint over {plan.num_processes} rank(s); "
          f"invocations {[(i.slot, i.writes, i.reads) for i in plan.invocations]}")
    assert plan.total_bytes > 0 and plan.invocations


@pytest.mark.stage("datasize")
def test_datasize(checkpoint_plan: CheckpointPlan) -> None:
    """The checkpoint's size and what the folder and each host need (upstream's `checkpointing datasize`)."""
    size = datasize(checkpoint_plan)
    for line in datasize_lines(size):
        print(line)
    assert size["checkpoint_bytes"] == checkpoint_plan.total_bytes == sum(size["bytes_per_rank"].values()) > 0


@pytest.mark.stage("run")
def test_run(checkpoint_runs: dict[str, StageResult], slot: str) -> None:
    """One invocation of the checkpoint workload under mpirun."""
    if slot not in checkpoint_runs:
        pytest.skip("not run: an earlier invocation failed")
    if not checkpoint_runs[slot].ok:
        pytest.fail(checkpoint_runs[slot].failure(), pytrace=False)
