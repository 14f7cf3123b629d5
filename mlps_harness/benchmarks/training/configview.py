"""configview: the DLIO workload configuration a launch would use, after our overrides (upstream's
`training configview`), shown by --what-if."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from mlps_harness.dlio.entry import find_workload_yaml


def merged_workload(workload: str, overrides: Mapping[str, object]) -> dict[str, Any]:
    """The workload YAML `workload/<name>.yaml` with every `workload.<key>=<value>` override applied (values parsed
    as YAML, as Hydra does); an unreadable or missing file gives an empty base."""
    path = find_workload_yaml(workload, [])
    try:
        base = yaml.safe_load(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, yaml.YAMLError):
        base = {}
    merged: dict[str, Any] = base if isinstance(base, dict) else {}
    for dotted, raw in overrides.items():
        value = yaml.safe_load(str(raw)) if isinstance(raw, str) else raw
        node = merged
        *parents, leaf = dotted.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value
    return merged


def configview_lines(plan: Any) -> list[str]:
    """Header lines: the merged DLIO configuration of the datagen launch and of the runs (all runs share one)."""
    lines = []
    for command, workload in (("datagen", f"{plan.model}_datagen"), ("run", f"{plan.model}_{plan.accelerator}")):
        text = yaml.safe_dump(merged_workload(workload, plan.overrides(command)), sort_keys=False).rstrip()
        lines.append(f"configview: {command} (workload {workload}, after overrides):")
        lines += [f"    {line}" for line in text.splitlines()]
    return lines
