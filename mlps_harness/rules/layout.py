"""Layout rules for every benchmark (rules.md §6-§7): documents parse, required files, names, one metadata file.

A benchmark opts in by giving a `layout:` mapping (command -> files, config dir) in its ruleset file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from mlps_harness import rulesets
from mlps_harness.loader.discover import DATETIME_RE
from mlps_harness.loader.parse import matches
from mlps_harness.model import Run
from mlps_harness.outcomes import Finding, NotApplicable, invalid, warning
from mlps_harness.rules.registry import rule
from mlps_harness.rules.schema import LayoutValues
from mlps_harness.spec import benchmarks


class _LayoutSection(BaseModel):
    model_config = ConfigDict(extra="ignore")
    layout: dict[str, LayoutValues] = {}


def _layout(run: Run) -> LayoutValues:
    try:
        section = rulesets.section(run.rules_version, run.ref.benchmark, _LayoutSection)
    except rulesets.RulesetError:
        raise NotApplicable(f"no ruleset data for {run.ref.benchmark}") from None
    spec = section.layout.get(run.ref.command or "")
    if spec is None:
        raise NotApplicable(f"no layout requirements for {run.ref.benchmark} {run.ref.command}")
    return spec


@rule("H6.1", "documents-parse", benchmark="*", category="layout", commands=None)
def documents_parse(run: Run) -> Iterator[Finding]:
    """Every document of the run directory can be read and has the expected types."""
    yield from run.load_findings


@rule("H6.2", "known-benchmark", benchmark="*", category="layout", commands=None)
def known_benchmark(run: Run) -> Iterator[Finding]:
    """The run sits under a benchmark directory the harness knows."""
    known = benchmarks()
    if run.ref.benchmark not in known:
        yield invalid(f"unknown benchmark directory {run.ref.benchmark!r}", parameter="benchmark",
                      expected=", ".join(sorted(known)), actual=run.ref.benchmark, file=run.run_id,
                      fix="place runs under one of " + ", ".join(f"{name}/" for name in sorted(known)))


PRUNED_MARK = b"PRUNED BY STAFF"
#: the v3.0 review replaced oversized DLIO logs/outputs with 16-byte placeholders ("PRUNED BY STAFF\n")
PRUNED_MAX_BYTES = 64


def pruned(run: Run, name: str) -> bool:
    """Whether `name` in the run dir is a review placeholder: a small regular file starting `PRUNED BY STAFF`."""
    entry = next((f for f in run.files if f.name == name), None)
    if entry is None or entry.kind != "file" or entry.size > PRUNED_MAX_BYTES:
        return False
    try:
        with open(os.path.join(run.ref.path, name), "rb") as fh:
            return fh.read(PRUNED_MAX_BYTES).startswith(PRUNED_MARK)
    except OSError:
        return False


@rule("H6.3", "required-files", benchmark="*", category="layout", commands=None)
def required_files(run: Run) -> Iterator[Finding]:
    """The run directory holds every file the layout requires (logs, summary, per-rank output, dlio_config).

    A file the v3.0 review pruned (a `PRUNED BY STAFF` placeholder) is present but pruned: a warning."""
    spec = _layout(run)
    names = run.file_names()
    for pattern in spec.files:
        found = matches(names, pattern)
        if not found:
            yield invalid(f"{pattern} is missing", parameter="files", expected=pattern, actual="absent",
                          file=f"{run.run_id}/{pattern}", fix="copy the file from the benchmark's output, or re-run")
            continue
        placeholders = [n for n in found if pruned(run, n)]
        if placeholders:
            yield warning(f"{len(placeholders)} of {len(found)} {pattern} file(s) pruned by the review's staff "
                          f"(a {PRUNED_MARK.decode()} placeholder, not lost)", parameter="files",
                          expected=pattern, actual=", ".join(placeholders[:5]) + (" ..." if len(placeholders) > 5
                                                                                  else ""),
                          file=f"{run.run_id}/{placeholders[0]}",
                          fix="nothing to fix for a published run; keep the original file for a new submission")
    if spec.config_dir:
        entry = next((f for f in run.files if f.name == spec.config_dir), None)
        if entry is None or entry.kind != "dir":
            yield invalid(f"{spec.config_dir}/ is missing", parameter=spec.config_dir, expected="directory",
                          file=f"{run.run_id}/{spec.config_dir}", fix="keep DLIO's hydra output dir (dlio_config)")
        else:
            have, want = set(entry.children), set(spec.config_files)
            if have != want:
                yield invalid(f"{spec.config_dir}/ must hold exactly {', '.join(sorted(want))}",
                              parameter=spec.config_dir, expected=", ".join(sorted(want)),
                              actual=", ".join(sorted(have)) or "nothing", file=f"{run.run_id}/{spec.config_dir}",
                              fix="restore the three files DLIO wrote and remove anything else")


@rule("H6.4", "datetime-name", benchmark="*", category="layout", commands=None)
def datetime_name(run: Run) -> Iterator[Finding]:
    """The run directory is named YYYYMMDD_HHMMSS, matching the datetime in its metadata."""
    leaf = run.ref.leaf
    if not DATETIME_RE.match(leaf):
        yield invalid(f"run directory name {leaf!r} is not a YYYYMMDD_HHMMSS datetime", parameter="directory",
                      expected="YYYYMMDD_HHMMSS", actual=leaf, file=run.run_id,
                      fix="rename the directory to the run's start datetime")
    elif run.metadata and run.metadata.run_datetime and run.metadata.run_datetime != leaf:
        yield invalid("directory name and metadata run_datetime differ", parameter="run_datetime",
                      expected=leaf, actual=run.metadata.run_datetime, file=f"{run.run_id}/{run.metadata_file}",
                      fix="keep each run in the directory it was written to")


@rule("H6.5", "one-metadata", benchmark="*", category="layout", commands=None)
def one_metadata(run: Run) -> Iterator[Finding]:
    """Exactly one `<benchmark>_<datetime>_metadata.json` file."""
    names = matches(run.file_names(), "*_metadata.json")
    own = f"{run.ref.benchmark}_{run.ref.leaf}_metadata.json"
    if not names:
        yield invalid("no metadata file", parameter="metadata", expected=own, actual="absent",
                      file=f"{run.run_id}/{own}",
                      fix="copy the metadata file the benchmark wrote into the run directory")
    elif len(names) > 1:
        extra = [n for n in names if n != run.metadata_file] or names[1:]
        yield invalid(f"{len(names)} metadata files", parameter="metadata", expected="1", actual=", ".join(names),
                      file=f"{run.run_id}/{extra[0]}", fix=f"keep only {run.metadata_file or own}, the metadata"
                      " file of this run; remove the others")


@rule("H6.6", "regular-entries", benchmark="*", category="layout", commands=None)
def regular_entries(run: Run) -> Iterator[Finding]:
    """The run directory holds only regular files and directories: no links, FIFOs, sockets or devices."""
    for entry in run.files:
        if entry.kind not in ("file", "dir"):
            yield invalid(f"{entry.name} is a {entry.kind}, not a regular file or directory", parameter="files",
                          expected="regular file", actual=entry.kind, file=f"{run.run_id}/{entry.name}",
                          fix="replace it with the real file, or remove it from the results tree")
