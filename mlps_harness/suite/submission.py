"""The submission layout from the suites: `--org=ORG --system=NAME` put runs under
`<results-dir>/<closed|open>/<ORG>/results/<NAME>/...` (the v3.0 tree the audit reads) and write a
`<results-dir>/<closed|open>/<ORG>/systems/<NAME>.yaml` skeleton filled from the collected cluster information.

A suite's "run root" is where its run directories go: the results dir, or that submission prefix below it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

DIVISIONS = ("closed", "open")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SKELETON_NOTE = "skeleton written by mlps-harness from the collected cluster information; complete every TODO"


def submission_prefix(config: pytest.Config) -> tuple[str, str, str] | None:
    """(division, org, system) from --org/--system (division: --division, else closed), or None without them."""
    opt = config.getoption
    org, system = opt("--org"), opt("--system")
    if org is None and system is None:
        return None
    if org is None or system is None:
        missing = "--org" if org is None else "--system"
        raise pytest.UsageError(f"{missing}: --org and --system go together; give both, e.g. --org=Acme "
                                "--system=cluster-a (or neither for the plain layout)")
    for option, value in (("--org", org), ("--system", system)):
        if not _NAME.match(value):
            raise pytest.UsageError(f"{option}: {value!r} cannot be a directory name in the submission tree; use "
                                    "letters, digits, '.', '-' and '_' (starting with a letter or digit)")
    return (opt("--division") or "closed"), org, system


def run_root(config: pytest.Config, results_dir: Path) -> Path:
    """Where the suite's run directories go: `results_dir`, or its `<division>/<org>/results/<system>` prefix."""
    prefix = submission_prefix(config)
    if prefix is None:
        return results_dir
    division, org, system = prefix
    return results_dir / division / org / "results" / system


def split_run_root(path: Path) -> tuple[Path, tuple[str, str, str] | None]:
    """(the results dir, (division, org, system)) for a run root inside a submission tree, else (path, None)."""
    parts = path.parts
    if len(parts) >= 5 and parts[-4] in DIVISIONS and parts[-2] == "results":
        return Path(*parts[:-4]), (parts[-4], parts[-3], parts[-1])
    return path, None


def results_root(path: Path) -> Path:
    """The results dir a run root belongs to (the audit's `--results-dir`)."""
    return split_run_root(path)[0]


def system_skeleton(cluster: dict, system: str) -> dict:
    """A systems/<NAME>.yaml mapping: the clients as collected, the storage left for the submitter to describe."""
    hosts = [h for h in cluster.get("hosts") or [] if isinstance(h, dict)]
    memory = sorted({round(int(h.get("memory_total_bytes") or 0) / 1024 ** 3, 1) for h in hosts})
    return {
        "system_under_test": {
            "name": system,
            "note": SKELETON_NOTE,
            "cluster_information_source": cluster.get("source"),
            "clients": {
                "count": len(hosts),
                "hostnames": [str(h.get("hostname")) for h in hosts],
                "memory_per_client_GiB": memory[0] if len(memory) == 1 else memory,
                "cpu_model": sorted({str(h.get("cpu_model") or "") for h in hosts}),
                "cpus_per_client": sorted({h.get("cpu_count") for h in hosts if h.get("cpu_count")}),
                "operating_system": "TODO",
                "network": "TODO: client network (type, speed, links per client)",
            },
            "storage": {
                "product": "TODO",
                "filesystem": sorted({str(fs.get("fstype")) for h in hosts
                                      for fs in (h.get("filesystems") or {}).values()
                                      if isinstance(fs, dict) and fs.get("fstype")}),
                "capacity": "TODO",
                "nodes": "TODO",
                "network": "TODO",
            },
        }
    }


def write_system_skeleton(run_dir_root: Path, cluster: dict) -> Path | None:
    """Write `<division>/<org>/systems/<system>.yaml` next to a submission run root, unless it already exists
    (a submitter's own description is never overwritten). None when `run_dir_root` is not a submission root."""
    results_dir, prefix = split_run_root(run_dir_root)
    if prefix is None:
        return None
    division, org, system = prefix
    path = results_dir / division / org / "systems" / f"{system}.yaml"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(f"# {SKELETON_NOTE}\n" + yaml.safe_dump(system_skeleton(cluster, system), sort_keys=False),
                   encoding="utf-8")
    try:
        os.link(tmp, path)  # never replaces a file that appeared meanwhile
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path
