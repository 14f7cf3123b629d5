"""Parsing one run directory into a typed `Run`. Never raises on bad content: problems become findings."""

from __future__ import annotations

import fnmatch
import os
from typing import Any

from pydantic import BaseModel, ValidationError

from mlps_harness.loader.safe_io import file_kind, read_json
from mlps_harness.model import INCOMPLETE_MARKER, FileEntry, Run, RunMetadata, RunRef
from mlps_harness.outcomes import Finding, invalid
from mlps_harness.rulesets import VERSIONS
from mlps_harness.spec import BenchmarkSpec, benchmarks


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


def _found(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_findings(exc: ValidationError, shown: str, limit: int = 10) -> list[Finding]:
    """One INVALID finding per wrong value, each naming the file and the field, what was expected and found."""
    findings = []
    errors = exc.errors()
    for err in errors[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        findings.append(invalid(f"{shown}: {loc}: {err['msg']} (found {_found(err.get('input'))})", file=shown,
                                parameter=loc, fix="restore the file the benchmark wrote; numbers must be finite "
                                "JSON numbers within range (percentages 0-100, counts >= 0), not strings or null"))
    if len(errors) > limit:
        findings.append(invalid(f"{shown}: {len(errors) - limit} more wrong values", file=shown,
                                fix="restore the file the benchmark wrote"))
    return findings


def validation_finding(exc: ValidationError, shown: str) -> Finding:
    """Turn a pydantic error into one finding naming the file, the keys, what was expected and what was found."""
    problems = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"])
        problems.append(f"{loc}: {err['msg']} (found {_found(err.get('input'))})")
    more = f" (+{len(exc.errors()) - 5} more)" if len(exc.errors()) > 5 else ""
    return invalid(f"{shown} has wrong values: " + "; ".join(problems) + more, file=shown,
                   parameter=".".join(str(p) for p in exc.errors()[0]["loc"]),
                   fix="restore the file the benchmark wrote; numbers must be finite JSON numbers within range, "
                       "not strings or null")


def typed(model: type[BaseModel], data: Any, shown: str, findings: list[Finding]) -> Any:
    """`data` validated as `model`, or None with a finding."""
    if not isinstance(data, dict):
        findings.append(invalid(f"{shown} must hold a JSON object at the top level, found {type(data).__name__}",
                                file=shown, fix="restore the file the benchmark wrote"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        findings.extend(validation_findings(exc, shown))
        return None


def parse_run(ref: RunRef, rules_version: str = "auto", spec: BenchmarkSpec | None = None) -> Run:
    """Read and type every document of one run directory; `spec`'s parse hooks add the benchmark's own documents.

    Without `spec`, the registered spec of the run's benchmark is used (none for an unknown benchmark).
    """
    if spec is None:
        spec = benchmarks().get(ref.benchmark)
    findings: list[Finding] = []
    shown = ref.run_id
    run = Run(ref=ref, rules_version=rules_version_of(None, ref.layout_version, rules_version))
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

    raw_metadata: Any = None
    name = metadata_name(names, ref.leaf)
    if name is not None:
        raw_metadata, problem = read_json(os.path.join(ref.path, name), f"{shown}/{name}")
        if problem:
            findings.append(problem)
        else:
            run.metadata = typed(RunMetadata, raw_metadata, f"{shown}/{name}", findings)
            run.metadata_file = name

    if "summary.json" in names:
        data, problem = read_json(os.path.join(ref.path, "summary.json"), f"{shown}/summary.json")
        if problem:
            findings.append(problem)
        else:
            run.summary_raw = data if isinstance(data, dict) else None
            if not isinstance(data, dict):
                findings.append(invalid(f"{shown}/summary.json must hold a JSON object at the top level, found "
                                        f"{type(data).__name__}", file=f"{shown}/summary.json",
                                        fix="restore the file the benchmark wrote"))

    if run.metadata and run.metadata.params_dict is not None:
        run.params = {str(k): str(v) for k, v in run.metadata.params_dict.items()}
        run.params_file = f"{shown}/{run.metadata_file}"

    if INCOMPLETE_MARKER in names:
        data, _ = read_json(os.path.join(ref.path, INCOMPLETE_MARKER), f"{shown}/{INCOMPLETE_MARKER}")
        run.documents["incomplete"] = data if isinstance(data, dict) else {"reason": "marker present"}

    run.rules_version = rules_version_of(raw_metadata, ref.layout_version, rules_version)
    run.load_findings = findings
    if spec is not None:
        for hook in spec.parse_hooks:
            spec.hook(hook)(run)
    return run


def metadata_name(names: "set[str] | list[str]", leaf: str) -> str | None:
    """The run's metadata file among its file names: the one naming the run's directory, else the first."""
    meta_names = sorted(n for n in names if n.endswith("_metadata.json"))
    return next((n for n in meta_names if leaf in n), meta_names[0]) if meta_names else None


def rules_version_of(metadata: Any, layout_version: str, requested: str = "auto") -> str:
    """The ruleset a run is judged under: `requested` unless "auto"; else the one its metadata document (as read,
    before validation) names, as our harness records it (`harness.rules_version`) or as a tool version
    (`mlpstorage_version`, `version`); else the one of its layout (`layout_version`)."""
    if requested != "auto":
        return requested
    meta = metadata if isinstance(metadata, dict) else {}
    harness = meta.get("harness")
    if isinstance(harness, dict) and harness.get("rules_version") in VERSIONS:
        return harness["rules_version"]
    version = str(meta.get("mlpstorage_version") or meta.get("version") or "").lstrip("v")
    major = version.split(".", 1)[0]
    if major.isdigit() and f"v{major}.0" in VERSIONS:
        return f"v{major}.0"
    return layout_version


def probe_rules_version(ref: RunRef, requested: str = "auto") -> str:
    """`rules_version_of` for a run not parsed yet: reads only its metadata document (for collection, which leaves
    out the rules of other rulesets). A missing or unreadable document gives the layout's version, as in parsing."""
    if requested != "auto" or ref.is_symlink:   # a linked run directory is never read
        return rules_version_of(None, ref.layout_version, requested)
    try:
        names = os.listdir(ref.path)
    except OSError:
        return ref.layout_version
    name = metadata_name(names, ref.leaf)
    if name is None:
        return ref.layout_version
    data, problem = read_json(os.path.join(ref.path, name), f"{ref.run_id}/{name}")
    return rules_version_of(None if problem else data, ref.layout_version)


def matches(names: set[str], pattern: str) -> list[str]:
    """File names matching a glob pattern."""
    return sorted(n for n in names if fnmatch.fnmatchcase(n, pattern))
