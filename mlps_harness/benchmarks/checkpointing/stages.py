"""The checkpointing stage: one or two invocations of the MPI checkpoint workload, each in its own run dir."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from mlps_harness.benchmarks.checkpointing.configview import location
from mlps_harness.benchmarks.checkpointing.plan import CheckpointPlan, Invocation
from mlps_harness.benchmarks.checkpointing.workload.cleanup import (
    Cleanup,
    clean_checkpoints,
)
from mlps_harness.benchmarks.checkpointing.workload.sizing import plan_checkpoint
from mlps_harness.launch import RunResult, run_process, write_incomplete_marker
from mlps_harness.launch.faults import human_bytes
from mlps_harness.suite.rundirs import (
    new_run_dir,
    settle_launch,
    update_metadata,
    write_metadata,
)
from mlps_harness.suite.stage_result import StageResult

PROGRAM = "checkpoint workload"  #: the program's name in failure messages


def invocation_result(invocation: Invocation, run_dir: Path, result: RunResult, **more: str) -> StageResult:
    """One invocation's result: the workload's own errors (e.g. 'error: rank 1 failed: ...', each once) are its
    causes, so `failure()` shows them before the launcher's explanation."""
    errors = [line for line in result.stderr_tail if line.startswith("error:")]
    return StageResult.of_process(invocation.slot, run_dir, result, PROGRAM, causes=list(dict.fromkeys(errors)),
                                  **more)


def _args(plan: CheckpointPlan, invocation: Invocation, number: int) -> dict:
    """The metadata `args` block, with upstream's key names."""
    args = {"program": "checkpointing", "command": "run", "model": plan.model, "hosts": plan.hosts,
            "num_processes": plan.num_processes, "client_host_memory_in_gb": plan.memory_gb_per_host,
            "num_client_hosts": plan.num_client_hosts, "results_dir": str(plan.results_dir),
            "checkpoint_folder": (f"s3://{plan.options.s3_bucket}/{plan.options.object_prefix}"
                                  if plan.options.storage == "object" else str(plan.folder_base)),
            "storage": plan.options.storage, "s3_endpoint": plan.options.s3_endpoint,
            "num_checkpoints_write": invocation.writes,
            "num_checkpoints_read": invocation.reads, "params": [f"{k}={v}" for k, v in plan.params.items()],
            "closed": plan.division == "closed", "open": plan.division == "open", "what_if": False,
            "size_scale": plan.options.size_scale, "transfer_size": plan.options.transfer_size,
            "odirect": plan.options.odirect, "two_phase": len(plan.invocations) > 1, "invocation": invocation.slot,
            "run_number": number, "embedded_default": plan.embedded}
    if plan.accelerator:
        args["accelerator_type"] = plan.accelerator
    return args


def launch(plan: CheckpointPlan, invocation: Invocation, cluster: dict, number: int,
           progress: Callable[[str], None] | None) -> StageResult:
    """Create a fresh run dir, write metadata and an incomplete marker, run the workload, record its bookends."""
    run_dir = new_run_dir(plan.results_dir, "checkpointing", plan.model)
    argv = plan.argv(invocation, run_dir)
    meta = write_metadata(run_dir, "checkpointing", args=_args(plan, invocation, number),
                          params=plan.params_dict(invocation), rules_version=plan.rules_version, cluster=cluster,
                          command=argv, extra={"run_number": number})
    write_incomplete_marker(run_dir, "the invocation was started but did not finish")
    started = datetime.now()
    result = run_process(argv, run_dir, "checkpointing", "run", timeout=plan.timeout, on_progress=progress,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"}, space_dirs=(plan.options.checkpoint_folder,))
    ended = datetime.now()
    update_metadata(meta, runtime=result.duration_seconds, returncode=result.returncode,
                    invocation_start=started.isoformat(), invocation_end=ended.isoformat())
    settle_launch(run_dir, result, invocation.slot, "the workload")
    return invocation_result(invocation, run_dir, result, started_at=started.isoformat(), ended_at=ended.isoformat())


def run_all(plan: CheckpointPlan, cluster: dict, progress: Callable[[str, str], None],
            keep_checkpoints: bool = False) -> dict[str, StageResult]:
    """Every planned invocation back to back (the read right after the write); stops at the first failure.

    However it ends (also when interrupted), partial checkpoints are removed, and so are the complete ones this
    session wrote unless `keep_checkpoints`."""
    done: dict[str, StageResult] = {}
    try:
        for number, invocation in enumerate(plan.invocations):
            done[invocation.slot] = launch(plan, invocation, cluster, number,
                                           lambda line, slot=invocation.slot: progress(slot, line))
            if not done[invocation.slot].ok:
                break
    finally:
        remove_checkpoints(plan, keep_checkpoints, lambda line: progress(plan.slots[-1], line))
    return done


def remove_checkpoints(plan: CheckpointPlan, keep: bool, say: Callable[[str], None]) -> Cleanup:
    """Remove partial checkpoints, and this session's complete ones unless `keep`; say what was done."""
    sizing = plan_checkpoint(plan.model, plan.num_processes, subset=plan.options.subset,
                             size_scale=plan.options.size_scale)
    written = max((inv.writes for inv in plan.invocations), default=0)
    done = clean_checkpoints(plan.options, sizing, written, keep)
    if done.partial or done.removed:
        say(f"checkpoints: removed {len(done.partial)} partial and {len(done.removed)} complete "
            f"({human_bytes(done.freed_bytes)} freed in {location(plan.options)})"
            + ("" if keep else "; --keep-checkpoints keeps complete ones"))
    if done.kept:
        say(f"checkpoints: kept {len(done.kept)} complete in {location(plan.options)}")
    return done
