"""The training stages: dataset generation (once, reused while its parameters match) and the DLIO runs."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from mlps_harness.benchmarks.training.plan import TrainingPlan, existing_ancestor
from mlps_harness.launch import run_process, write_incomplete_marker
from mlps_harness.launch.faults import human_bytes
from mlps_harness.suite.rundirs import (
    new_run_dir,
    settle_launch,
    update_metadata,
    write_metadata,
)
from mlps_harness.suite.stage_result import StageResult

MANIFEST = ".mlps-dataset.json"
GENERATED_SUBDIRS = ("train", "valid", "test")
PROGRAM = "DLIO"  #: the program's name in failure messages


def _args(plan: TrainingPlan, command: str, run_number: int) -> dict:
    return {"program": "training", "command": command, "model": plan.model, "hosts": plan.hosts,
            "num_processes": plan.num_processes, "num_accelerators": plan.num_processes,
            "accelerator_type": plan.accelerator, "client_host_memory_in_gb": plan.memory_gb_per_host,
            "num_client_hosts": plan.num_client_hosts, "data_dir": str(plan.data_dir),
            "results_dir": str(plan.results_dir), "params": [f"{k}={v}" for k, v in plan.params.items()],
            "closed": plan.division == "closed", "open": plan.division == "open", "loops": plan.loops,
            "run_number": run_number, "embedded_default": plan.embedded,
            "harness_injected_params": sorted(plan.harness_params)}


def launch(plan: TrainingPlan, command: str, cluster: dict, run_number: int,
           progress: Callable[[str], None] | None) -> StageResult:
    """Create a fresh run dir, write its metadata and an incomplete marker, run DLIO, then clear the marker.

    The result answers the slot `datagen`, or `run/<run_number>` (run/0 is the warm-up)."""
    run_dir = new_run_dir(plan.results_dir, "training", plan.model, command)
    argv = plan.argv(command, run_dir)
    params = {**plan.harness_params, **plan.overrides(command), **plan.params}
    meta = write_metadata(run_dir, "training", args=_args(plan, command, run_number), params=params,
                          rules_version=plan.rules_version, cluster=cluster, command=argv,
                          extra={"run_number": run_number, "datasize": plan.datasize.as_dict()})
    write_incomplete_marker(run_dir, "the run was started but did not finish")
    result = run_process(argv, run_dir, "training", command, timeout=plan.timeout, on_progress=progress,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"}, space_dirs=(plan.data_dir,))
    update_metadata(meta, runtime=result.duration_seconds, returncode=result.returncode)
    settle_launch(run_dir, result, command, PROGRAM)
    slot = command if command == "datagen" else plan.run_slots[run_number]
    return StageResult.of_process(slot, run_dir, result, PROGRAM)


def _manifest_path(plan: TrainingPlan) -> Path:
    return plan.data_folder / MANIFEST


def existing_dataset(plan: TrainingPlan) -> Path | None:
    """The datagen run dir of a dataset generated with identical parameters, if it is still complete."""
    try:
        manifest = json.loads(_manifest_path(plan).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("signature") != plan.dataset_signature():
        return None
    train = plan.data_folder / "train"
    wanted = int(plan.overrides("datagen").get("dataset.num_files_train", "0"))
    have = sum(1 for _ in train.rglob("*") if _.is_file()) if train.is_dir() else 0
    run_dir = Path(manifest.get("datagen_run", ""))
    return run_dir if have >= wanted and run_dir.is_dir() else None


def generate_dataset(plan: TrainingPlan, cluster: dict, progress: Callable[[str], None] | None) -> StageResult:
    """Reuse the dataset when its manifest matches; otherwise (re)generate it and write the manifest."""
    reused = existing_dataset(plan)
    if reused is not None:
        return StageResult("datagen", reused, program=PROGRAM, reused=True)
    if _manifest_path(plan).exists():  # ours, generated with other parameters: regenerate from scratch
        for sub in GENERATED_SUBDIRS:
            shutil.rmtree(plan.data_folder / sub, ignore_errors=True)
    plan.data_folder.mkdir(parents=True, exist_ok=True)
    done = launch(plan, "datagen", cluster, 0, progress)
    if done.ok:
        tmp = _manifest_path(plan).with_suffix(".tmp")
        tmp.write_text(json.dumps({"signature": plan.dataset_signature(), "datagen_run": str(done.run_dir)},
                                  indent=2), encoding="utf-8")
        os.replace(tmp, _manifest_path(plan))
    return done


def dataset_space_problem(plan: TrainingPlan) -> str | None:
    """Why the dataset cannot be generated in --data-dir for lack of space (None when it fits or is reused).

    Checked before anything runs, so a mistaken option never fills a disk with a multi-terabyte dataset.
    """
    if existing_dataset(plan) is not None:
        return None
    values = plan.overrides("datagen")
    files = int(values.get("dataset.num_files_train") or 0)
    record = values.get("dataset.record_length")
    samples = values.get("dataset.num_samples_per_file")
    per_file = int(samples) * float(record) if record and samples else float(record) if record \
        else plan.datasize.file_bytes
    needed = files * per_file
    free = shutil.disk_usage(existing_ancestor(plan.data_dir)).free
    if needed <= free:
        return None
    return (f"--data-dir {plan.data_dir}: the dataset needs {human_bytes(needed)} ({files} files) but only "
            f"{human_bytes(free)} are free there; point --data-dir at the storage under test, or lower "
            "dataset.num_files_train (see the datasize stage: pytest suites/training -k datasize --what-if)")
