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
from typing import Any

from mlps_harness import __version__


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
