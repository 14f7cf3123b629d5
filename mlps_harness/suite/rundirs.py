"""Run directories and their metadata, in the upstream layout `<rd>/<benchmark>/<model>/<command>/<datetime>/`.

A new run directory never reuses an existing one: when the current second is taken, the next free second is used,
so nothing already written is overwritten.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlps_harness import __version__

if TYPE_CHECKING:
    from mlps_harness.launch import RunResult


def new_run_dir(results_dir: Path, *parts: str) -> Path:
    """Create and return `<results_dir>/<parts...>/<YYYYMMDD_HHMMSS>` for the first free datetime from now."""
    parent = results_dir.joinpath(*parts)
    parent.mkdir(parents=True, exist_ok=True)
    moment = datetime.now().replace(microsecond=0)
    while True:
        candidate = parent / moment.strftime("%Y%m%d_%H%M%S")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            moment += timedelta(seconds=1)


def write_metadata(run_dir: Path, benchmark: str, *, args: dict[str, Any], params: dict[str, str],
                   rules_version: str, cluster: dict | None, command: list[str] | None,
                   extra: dict[str, Any] | None = None) -> Path:
    """Write `<benchmark>_<datetime>_metadata.json` with upstream's keys plus our `harness` block (atomically)."""
    leaf = run_dir.name
    doc: dict[str, Any] = {
        "benchmark_type": benchmark,
        "run_datetime": leaf,
        "args": args,
        "params_dict": params,
        "cluster_information": cluster,
        "executed_command": " ".join(command) if command else None,
        "command_argv": command,
        "harness": {"name": "mlps-harness", "version": __version__, "rules_version": rules_version,
                    "written_at": time.strftime("%Y-%m-%dT%H:%M:%S")},
        **(extra or {}),
    }
    path = run_dir / f"{benchmark}_{leaf}_metadata.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return path


def update_metadata(path: Path, **fields: Any) -> None:
    """Merge fields into an existing metadata file (atomically)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.update(fields)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


class RunInterrupted(Exception):
    """A launch was stopped by Ctrl-C or SIGTERM; its run directory is marked incomplete."""


def settle_launch(run_dir: Path, result: "RunResult", what: str, program: str) -> None:
    """After a launch into `run_dir` (which carries an incomplete marker from its start): an interrupt re-marks it
    and raises `RunInterrupted`; a failure re-marks it with the reason; success removes the marker."""
    from mlps_harness.launch import INCOMPLETE_MARKER, write_incomplete_marker

    if result.interrupted_by:
        write_incomplete_marker(run_dir, f"interrupted by {result.interrupted_by}")
        raise RunInterrupted(f"{what} interrupted by {result.interrupted_by}; {run_dir} is marked incomplete")
    if result.ok:
        (run_dir / INCOMPLETE_MARKER).unlink(missing_ok=True)
    else:
        reason = "timed out" if result.timed_out else result.cause or f"{program} exited with code {result.returncode}"
        details = {"hint": result.fault.hint, "line": result.fault.line} if result.fault is not None else None
        write_incomplete_marker(run_dir, reason, details)
