"""Training-only facts read while parsing a run (after DLIO's own documents), each from the first file that
records it: the v3.0 tool does not always keep every file (metadata or config.yaml may be absent)."""

from __future__ import annotations

import os

from mlps_harness.argtypes import ascii_whole
from mlps_harness.model import Run
from mlps_harness.model.run import ACCELERATOR_DOC

ACCELERATOR_SOURCE_DOC = "accelerator_source"   #: run.documents key: the file the accelerator came from


def _accelerator_of(config_name: object) -> str | None:
    """`unet3d_b200` -> `b200` (upstream's workload config name); None for a datagen config or no suffix."""
    name = str(config_name or "")
    if "_" in name and not name.endswith("_datagen"):
        return name.rsplit("_", 1)[1]
    return None


def _hydra_workload(run: Run) -> str | None:
    """`hydra.runtime.choices.workload` of dlio_config/hydra.yaml, else its `workload=` task override."""
    from mlps_harness.loader.safe_io import read_yaml

    path = os.path.join(run.ref.path, "dlio_config", "hydra.yaml")
    if not os.path.isfile(path):
        return None
    data, problem = read_yaml(path, f"{run.run_id}/dlio_config/hydra.yaml")
    hydra = data.get("hydra") if problem is None and isinstance(data, dict) else None
    if not isinstance(hydra, dict):
        return None
    choices = (hydra.get("runtime") or {}).get("choices") if isinstance(hydra.get("runtime"), dict) else None
    if isinstance(choices, dict) and choices.get("workload"):
        return str(choices["workload"])
    task = (hydra.get("overrides") or {}).get("task") if isinstance(hydra.get("overrides"), dict) else None
    for entry in task if isinstance(task, list) else []:
        if str(entry).startswith("workload="):
            return str(entry).split("=", 1)[1]
    return None


def parse_training(run: Run) -> None:
    """Record the accelerator when the metadata args lack it: the v3.0 metadata's top-level `accelerator`, the
    `workload=<model>_<accelerator>` override (overrides.yaml), or hydra.yaml's workload choice."""
    if run.metadata and run.metadata.args and run.metadata.args.accelerator_type:
        return   # `Run.accelerator` reads the metadata first: nothing here would be used
    extra = (run.metadata.model_extra or {}) if run.metadata else {}
    workloads = [e.split("=", 1)[1] for e in run.overrides or [] if e.startswith("workload=")]
    candidates = [(extra.get("accelerator"), f"{run.metadata_file} accelerator")]
    candidates += [(_accelerator_of(w), "dlio_config/overrides.yaml") for w in workloads]
    for value, source in candidates:
        if value:
            run.documents[ACCELERATOR_DOC] = str(value)
            run.documents[ACCELERATOR_SOURCE_DOC] = source
            return
    if workloads:
        return   # hydra.yaml's workload choice is the `workload=` override itself (a datagen run names none)
    accel = _accelerator_of(_hydra_workload(run))
    if accel:
        run.documents[ACCELERATOR_DOC] = accel
        run.documents[ACCELERATOR_SOURCE_DOC] = "dlio_config/hydra.yaml"


def recorded_num_files(run: Run) -> tuple[int | None, str]:
    """`dataset.num_files_train` and the file it came from: config.yaml, the overrides, then summary.json."""
    if run.workload and run.workload.num_files_train is not None:
        return run.workload.num_files_train, "dlio_config/config.yaml"
    value = ascii_whole(str(run.params.get("dataset.num_files_train")))
    if value is not None:
        shown = run.params_file or "dlio_config/overrides.yaml"
        return value, shown.removeprefix(f"{run.run_id}/")
    if run.summary and run.summary.num_files_train is not None:
        return run.summary.num_files_train, "summary.json"
    return None, "not recorded"
