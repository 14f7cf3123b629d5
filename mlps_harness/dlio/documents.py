"""DLIO's own documents in a run directory (training, and upstream's DLIO-based checkpointing).

The parse hook `parse_dlio_documents` types `summary.json` as a DLIO summary and reads the hydra output in
`dlio_config/` (config.yaml's `workload:` mapping and overrides.yaml); overrides become `run.params` when the
metadata did not record them.
"""

from __future__ import annotations

import os

from pydantic import ValidationError

from mlps_harness.loader.parse import typed, validation_finding
from mlps_harness.loader.safe_io import read_yaml
from mlps_harness.model import DlioSummary, Run, WorkloadConfig
from mlps_harness.outcomes import Finding, invalid

CONFIG_DIR = "dlio_config"


def parse_dlio_documents(run: Run) -> None:
    """Type summary.json (DLIO's schema) and dlio_config/ into `run`; problems become load findings."""
    shown = run.run_id
    findings: list[Finding] = []
    if run.summary_raw is not None:
        run.summary = typed(DlioSummary, run.summary_raw, f"{shown}/summary.json", findings)
    if CONFIG_DIR in run.file_names():
        _parse_config(run, os.path.join(run.ref.path, CONFIG_DIR), f"{shown}/{CONFIG_DIR}", findings)
    if run.params_file is None and run.overrides is not None:
        run.params = _params_from_overrides(run.overrides)
        run.params_file = f"{shown}/{CONFIG_DIR}/overrides.yaml"
    run.load_findings.extend(findings)


def _params_from_overrides(overrides: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for entry in overrides:
        entry = str(entry).lstrip("+")
        if entry.startswith("workload.") and "=" in entry:
            key, value = entry[len("workload."):].split("=", 1)
            params[key] = value
    return params



def _parse_config(run: Run, config_dir: str, shown: str, findings: list[Finding]) -> None:
    data, problem = read_yaml(os.path.join(config_dir, "config.yaml"), f"{shown}/config.yaml")
    if problem:
        findings.append(problem)
    elif isinstance(data, dict) and isinstance(data.get("workload"), dict):
        run.workload_raw = data["workload"]
        try:
            run.workload = WorkloadConfig.from_workload(data["workload"])
        except ValidationError as exc:
            findings.append(validation_finding(exc, f"{shown}/config.yaml"))
    else:
        findings.append(invalid(f"{shown}/config.yaml has no 'workload:' mapping", file=f"{shown}/config.yaml",
                                fix="restore the config DLIO wrote (hydra output_subdir dlio_config)"))
    overrides_path = os.path.join(config_dir, "overrides.yaml")
    if os.path.lexists(overrides_path):
        data, problem = read_yaml(overrides_path, f"{shown}/overrides.yaml")
        if problem:
            findings.append(problem)
        elif isinstance(data, list):
            run.overrides = [str(x) for x in data]
        elif data is not None:
            findings.append(invalid(f"{shown}/overrides.yaml must be a list of overrides",
                                    file=f"{shown}/overrides.yaml", fix="restore the file DLIO wrote"))
