"""Parsing one run directory into a typed `Run`. Never raises on bad content: problems become findings."""

from __future__ import annotations

import fnmatch
import os
from typing import Any

from pydantic import BaseModel, ValidationError

from mlps_harness.benchmarks.registry import benchmarks
from mlps_harness.loader.safe_io import file_kind, read_json, read_yaml
from mlps_harness.model import DlioSummary, FileEntry, Run, RunMetadata, RunRef, WorkloadConfig
from mlps_harness.outcomes import Finding, invalid

INCOMPLETE_MARKER = ".mlps-incomplete"
CONFIG_DIR = "dlio_config"


def list_dir(path: str) -> list[FileEntry]:
    """The entries of a run directory (one level, plus the names inside sub-directories), never following links."""
    entries: list[FileEntry] = []
    try:
        with os.scandir(path) as it:
            raw = sorted(it, key=lambda e: e.name)
    except OSError:
        return entries
    for e in raw:
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        kind = file_kind(st.st_mode)
        children: tuple[str, ...] = ()
        if kind == "dir":
            try:
                children = tuple(sorted(os.listdir(e.path)))
            except OSError:
                children = ()
        entries.append(FileEntry(name=e.name, kind=kind, size=st.st_size if kind == "file" else 0,
                                 children=children))
    return entries


def validation_finding(exc: ValidationError, shown: str) -> Finding:
    """Turn a pydantic error into one finding naming the file, the keys, what was expected and what was found."""
    problems = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"])
        problems.append(f"{loc}: {err['msg']} (found {err.get('input')!r:.60})")
    more = f" (+{len(exc.errors()) - 5} more)" if len(exc.errors()) > 5 else ""
    return invalid(f"{shown} has values of the wrong type: " + "; ".join(problems) + more, file=shown,
                   parameter=".".join(str(p) for p in exc.errors()[0]["loc"]),
                   fix="restore the file the benchmark wrote; numbers must be finite JSON numbers, not strings or null")


def typed(model: type[BaseModel], data: Any, shown: str, findings: list[Finding]) -> Any:
    """`data` validated as `model`, or None with a finding."""
    if not isinstance(data, dict):
        findings.append(invalid(f"{shown} must hold a JSON object at the top level, found {type(data).__name__}",
                                file=shown, fix="restore the file the benchmark wrote"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        findings.append(validation_finding(exc, shown))
        return None


def _params_from_overrides(overrides: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for entry in overrides:
        entry = str(entry).lstrip("+")
        if entry.startswith("workload.") and "=" in entry:
            key, value = entry[len("workload."):].split("=", 1)
            params[key] = value
    return params


def parse_run(ref: RunRef, rules_version: str = "auto") -> Run:
    """Read and type every document of one run directory."""
    findings: list[Finding] = []
    shown = ref.run_id
    run = Run(ref=ref, rules_version=ref.layout_version)
    if ref.is_symlink:
        findings.append(invalid(f"{shown} is a symbolic link; run directories are never followed",
                                file=shown, fix="replace the link with the real run directory"))
        run.load_findings = findings
        return run
    run.files = list_dir(ref.path)
    names = run.file_names()
    if not run.files:
        findings.append(invalid(f"{shown} is empty", file=shown,
                                fix="remove the empty directory or re-run the benchmark into it"))

    meta_names = sorted(n for n in names if n.endswith("_metadata.json"))
    if meta_names:
        name = next((n for n in meta_names if ref.leaf in n), meta_names[0])
        data, problem = read_json(os.path.join(ref.path, name), f"{shown}/{name}")
        if problem:
            findings.append(problem)
        else:
            run.metadata = typed(RunMetadata, data, f"{shown}/{name}", findings)
            run.metadata_file = name

    if "summary.json" in names:
        data, problem = read_json(os.path.join(ref.path, "summary.json"), f"{shown}/summary.json")
        if problem:
            findings.append(problem)
        else:
            run.summary_raw = data if isinstance(data, dict) else None
            if ref.benchmark in ("training", "checkpointing"):
                run.summary = typed(DlioSummary, data, f"{shown}/summary.json", findings)

    config_dir = os.path.join(ref.path, CONFIG_DIR)
    if CONFIG_DIR in names:
        _parse_config(run, config_dir, f"{shown}/{CONFIG_DIR}", findings)
    if run.metadata and run.metadata.params_dict is not None:
        run.params = {str(k): str(v) for k, v in run.metadata.params_dict.items()}
        run.params_file = f"{shown}/{run.metadata_file}"
    elif run.overrides is not None:
        run.params = _params_from_overrides(run.overrides)
        run.params_file = f"{shown}/{CONFIG_DIR}/overrides.yaml"

    if INCOMPLETE_MARKER in names:
        data, _ = read_json(os.path.join(ref.path, INCOMPLETE_MARKER), f"{shown}/{INCOMPLETE_MARKER}")
        run.documents["incomplete"] = data if isinstance(data, dict) else {"reason": "marker present"}

    run.rules_version = _rules_version(run, rules_version)
    spec = benchmarks().get(ref.benchmark)
    if spec is not None and spec.parse_extra is not None:
        spec.parse_extra(run)
    run.load_findings = findings + run.load_findings
    return run


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


def _rules_version(run: Run, requested: str) -> str:
    if requested != "auto":
        return requested
    harness = run.metadata.harness if run.metadata else None
    if harness and harness.get("rules_version") in ("v2.0", "v3.0"):
        return harness["rules_version"]
    extra = run.metadata.model_extra if run.metadata else None
    version = str((extra or {}).get("mlpstorage_version") or (extra or {}).get("version") or "")
    if version.startswith(("3.", "v3")):
        return "v3.0"
    if version.startswith(("2.", "v2")):
        return "v2.0"
    return run.ref.layout_version


def matches(names: set[str], pattern: str) -> list[str]:
    """File names matching a glob pattern."""
    return sorted(n for n in names if fnmatch.fnmatchcase(n, pattern))
