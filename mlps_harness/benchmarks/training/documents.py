"""Training-only facts read while parsing a run (after DLIO's own documents)."""

from __future__ import annotations

from mlps_harness.model import Run
from mlps_harness.model.run import ACCELERATOR_DOC


def parse_training(run: Run) -> None:
    """Record the accelerator of `workload=<model>_<accelerator>` in the hydra overrides (upstream's config name)."""
    for entry in run.overrides or []:
        if entry.startswith("workload="):
            name = entry.split("=", 1)[1]
            if "_" in name and not name.endswith("_datagen"):
                run.documents[ACCELERATOR_DOC] = name.rsplit("_", 1)[1]
                return
