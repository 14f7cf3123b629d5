"""DLIO's own documents in a run directory (training, and upstream's DLIO-based checkpointing).

The parse hook `parse_dlio_documents` types `summary.json` as a DLIO summary and reads the hydra output in
`dlio_config/` (config.yaml's `workload:` mapping and overrides.yaml); overrides become `run.params` when the
metadata did not record them. The summary must agree with itself and with the per-rank files
(:mod:`mlps_harness.dlio.rank_files`).
"""

from __future__ import annotations

import math
import os
from typing import Any

from pydantic import ValidationError

from mlps_harness.dlio.rank_files import (
    RANK_FILE,
    rank_file_consistency,
    read_rank_files,
)
from mlps_harness.loader.parse import typed, validation_finding
from mlps_harness.loader.safe_io import read_yaml
from mlps_harness.model import DlioSummary, Run, WorkloadConfig
from mlps_harness.model.dlio import DlioMetric
from mlps_harness.outcomes import Finding, invalid

CONFIG_DIR = "dlio_config"


def parse_dlio_documents(run: Run) -> None:
    """Type summary.json (DLIO's schema) and dlio_config/ into `run`; problems become load findings."""
    shown = run.run_id
    findings: list[Finding] = []
    if run.summary_raw is not None:
        run.summary = typed(DlioSummary, run.summary_raw, f"{shown}/summary.json", findings)
        if run.summary is not None:
            findings.extend(summary_consistency(run.summary, run.summary_raw, f"{shown}/summary.json"))
            findings.extend(per_rank_consistency(run))
        # the v3.0 tool writes no run_number (every published v3.0 run lacks it): only our metadata and v2.0 have it
        upstream_v3 = run.rules_version == "v3.0" and run.metadata is not None and run.metadata.harness is None
        if run.metadata is not None and not upstream_v3 and "run_number" not in (run.metadata.model_fields_set or ()):
            name = f"{shown}/{run.metadata_file}"
            findings.append(invalid(f"{name}: run_number is missing; every measured run records it", file=name,
                                    parameter="run_number", fix="restore the metadata file the benchmark wrote"))
    if CONFIG_DIR in run.file_names():
        _parse_config(run, os.path.join(run.ref.path, CONFIG_DIR), f"{shown}/{CONFIG_DIR}", findings)
    if run.params_file is None and run.overrides is not None:
        run.params = _params_from_overrides(run.overrides)
        run.params_file = f"{shown}/{CONFIG_DIR}/overrides.yaml"
    run.load_findings.extend(findings)


#: Keys every DLIO summary of a measured run has (both DLIO schemas, training and checkpointing alike).
REQUIRED_SUMMARY_KEYS = ("num_accelerators", "num_hosts", "host_memory_GB", "epochs")
#: Per-epoch lists and the mean reported beside each.
EPOCH_LISTS = (("train_au_percentage", "train_au_mean_percentage"),
               ("train_throughput_samples_per_second", "train_throughput_mean_samples_per_second"))
#: Relative tolerance between a reported mean and the mean of its per-epoch list (DLIO rounds nothing).
MEAN_TOLERANCE = 1e-6


def summary_consistency(summary: DlioSummary, raw: dict[str, Any], shown: str) -> list[Finding]:
    """A summary that contradicts itself: required keys missing, `end` before `start`, per-epoch lists empty or
    not as long as `epochs`, or a reported mean that is not the mean of its list. One finding per problem."""
    found: list[Finding] = []

    def bad(parameter: str, message: str) -> None:
        found.append(invalid(f"{shown}: {message}", file=shown, parameter=parameter,
                             fix="restore the summary.json the benchmark wrote; a summary must agree with itself"))

    for key in REQUIRED_SUMMARY_KEYS:
        if raw.get(key) is None:
            bad(key, f"{key} is missing")
    if summary.start is not None and summary.end is not None:
        try:
            backwards = summary.end < summary.start
        except TypeError:  # one time has a zone and the other has none
            backwards = False
            bad("end", "start and end mix a time zone with none")
        if backwards:
            bad("end", f"end {summary.end.isoformat()} is earlier than start {summary.start.isoformat()}")
    metric: DlioMetric = summary.metric
    for list_key, mean_key in EPOCH_LISTS:
        values = getattr(metric, list_key)
        reported = getattr(metric, mean_key)
        if values is None:
            if reported is not None:
                bad(f"metric.{list_key}", f"metric.{list_key} is missing beside metric.{mean_key}")
            continue
        if not values:
            bad(f"metric.{list_key}", f"metric.{list_key} is empty")
            continue
        if summary.epochs is not None and len(values) != summary.epochs:
            bad(f"metric.{list_key}", f"metric.{list_key} has {len(values)} values but epochs is {summary.epochs}")
        if reported is None:
            bad(f"metric.{mean_key}", f"metric.{mean_key} is missing beside metric.{list_key}")
            continue
        mean = math.fsum(values) / len(values)
        if not math.isclose(reported, mean, rel_tol=MEAN_TOLERANCE, abs_tol=1e-9):
            bad(f"metric.{mean_key}", f"metric.{mean_key} = {reported!r} but the mean of metric.{list_key} "
                                      f"is {mean!r}")
    return found


def per_rank_consistency(run: Run) -> list[Finding]:
    """`<rank>_output.json` / `<rank>_per_epoch_stats.json` that disagree with summary.json (see
    :mod:`mlps_harness.dlio.rank_files`); unreadable rank files are findings too."""
    if not isinstance(run.summary_raw, dict):
        return []
    names = [f.name for f in run.files if f.kind == "file" and RANK_FILE.match(f.name)]
    if not names:
        return []
    outputs, epochs, problems = read_rank_files(run.ref.path, names, run.run_id)
    return problems + rank_file_consistency(run.summary_raw, outputs, epochs, run.run_id)


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
