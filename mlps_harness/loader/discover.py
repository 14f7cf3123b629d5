"""Discovery: find every run directory under a results dir, in a sorted, deterministic order, reading no file.

Layouts understood:
- upstream v2.0: `<rd>/training/<model>/<command>/<YYYYMMDD_HHMMSS>/`, `<rd>/checkpointing/<model>/<datetime>/`, ...
- v3.0 submission: `<rd>/closed|open/<org>/results/<system>/<benchmark>/...` (the same below the prefix).
Symbolic links are never followed (a linked run directory becomes a run with a finding), so loops cannot hang it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from mlps_harness.model import RunRef
from mlps_harness.outcomes import safe_text
from mlps_harness.spec import BenchmarkSpec, benchmarks

DATETIME_RE = re.compile(r"^\d{8}_\d{6}$")
DIVISION_DIRS = ("closed", "open")
MAX_DEPTH = 8


@dataclass
class Discovery:
    """The runs found, plus directories skipped on purpose (with the reason)."""

    root: Path
    runs: list[RunRef] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)

    def groups(self) -> dict[str, list[RunRef]]:
        """Runs by submission group, in sorted order."""
        out: dict[str, list[RunRef]] = {}
        for ref in self.runs:
            out.setdefault(ref.group_id, []).append(ref)
        return out


def _subdirs(path: str) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as it:
            entries = [e for e in it if e.is_dir(follow_symlinks=False) or e.is_symlink()]
    except OSError:
        return []
    return sorted(entries, key=lambda e: e.name)


def _looks_like_run(path: str) -> bool:
    try:
        with os.scandir(path) as it:
            return any(e.name == "summary.json" or e.name.endswith("_metadata.json") for e in it)
    except OSError:
        return False


def _bases(root: Path) -> list[tuple[str, str | None, str]]:
    """(prefix, division, absolute base dir) for each place benchmarks live."""
    names = {e.name for e in _subdirs(str(root))}
    if not names & set(DIVISION_DIRS):
        return [("", None, str(root))]
    bases = []
    for division in DIVISION_DIRS:
        for org in _subdirs(str(root / division)):
            results = os.path.join(org.path, "results")
            for system in _subdirs(results):
                prefix = f"{division}/{safe_text(org.name)}/results/{safe_text(system.name)}"
                bases.append((prefix, division, system.path))
    return bases


def discover(root: Path) -> Discovery:
    """Every run under `root`, sorted by run id."""
    found = Discovery(root=root)
    specs = benchmarks()
    for prefix, division, base in _bases(root):
        for bench_dir in _subdirs(base):
            name = safe_text(bench_dir.name)
            if bench_dir.is_symlink():
                found.ignored.append((_rel(prefix, name), "symbolic link, not followed"))
                continue
            spec = specs.get(name) or _unknown_spec(name)
            _walk(found, spec, prefix, division, bench_dir.path, [])
    found.runs.sort(key=lambda r: r.run_id)
    return found


def _unknown_spec(name: str) -> BenchmarkSpec:
    return BenchmarkSpec(name=name, path_layouts=(("model", "command"),), description="unknown benchmark")


def _walk(found: Discovery, spec: BenchmarkSpec, prefix: str, division: str | None, path: str,
          parts: list[str]) -> None:
    depths = {len(layout) for layout in spec.path_layouts}
    for entry in _subdirs(path):
        sub_parts = [*parts, safe_text(entry.name)]   # names for ids; entry.path stays the real path
        fields = len(sub_parts) - 1
        is_link = entry.is_symlink()
        leaf = fields in depths and (
            is_link or DATETIME_RE.match(entry.name) or fields == max(depths)
            or _looks_like_run(entry.path) or not _subdirs(entry.path))
        if leaf:
            _add_run(found, spec, prefix, division, entry.path, sub_parts, is_link)
        elif is_link:
            found.ignored.append((_rel(prefix, spec.name, *sub_parts), "symbolic link, not followed"))
        elif len(sub_parts) < MAX_DEPTH and fields < max(depths):
            _walk(found, spec, prefix, division, entry.path, sub_parts)
        else:
            found.ignored.append((_rel(prefix, spec.name, *sub_parts), "not at a run position of the layout"))


def _add_run(found: Discovery, spec: BenchmarkSpec, prefix: str, division: str | None, path: str,
             parts: list[str], is_link: bool) -> None:
    layout = next(lay for lay in spec.path_layouts if len(lay) == len(parts) - 1)
    values = dict(zip(layout, parts[:-1]))
    command = values.get("command", spec.default_command)
    run_id = _rel(prefix, spec.name, *parts)
    if command in spec.ignored_commands:
        found.ignored.append((run_id, f"'{command}' output is not a run"))
        return
    group = _rel(prefix, spec.name, *(values[f] for f in spec.group_fields if f in values))
    model = values.get("model") or "/".join(values[f] for f in spec.group_fields if f in values) or None
    found.runs.append(RunRef(
        run_id=run_id, path=os.path.abspath(path), prefix=prefix, division_dir=division, benchmark=spec.name,
        model=model, command=command, leaf=parts[-1], group_id=group,
        layout_version="v3.0" if prefix else "v2.0", is_symlink=is_link))


def _rel(*parts: str) -> str:
    return "/".join(p for p in parts if p)
