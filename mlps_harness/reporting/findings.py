"""Findings de-duplicated across runs: one entry per (label, rule, message shape, fix) with the runs it hit.

Messages often name the run or carry its own number ("AU 42.7 % is below 90 %"); both are masked to form the key,
so the same defect in five runs is printed once as "5 runs: ...". Shared by the terminal and the HTML report.
"""

from __future__ import annotations

import os
import re
from typing import Any

from mlps_harness.verdict import finding_label, finding_rank

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _shape(text: str | None, where: str | None) -> str:
    text = str(text or "")
    if where:
        text = text.replace(where, "<run>")
    return _NUMBER.sub("#", text)


def clustered(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings grouped by what they say; each has `runs` (where it was found), `actuals` and `count`."""
    clusters: dict[tuple, dict[str, Any]] = {}
    for p in problems:
        where = p.get("run") or p.get("group") or ""
        key = (finding_label(p), p.get("rule"), _shape(p.get("message"), where), _shape(p.get("fix"), where))
        entry = clusters.get(key)
        if entry is None:
            entry = clusters[key] = {**p, "label": finding_label(p), "runs": [], "actuals": [], "groups": []}
        if where not in entry["runs"]:
            entry["runs"].append(where)
        if p.get("group") and p["group"] not in entry["groups"]:
            entry["groups"].append(p["group"])
        if p.get("actual") is not None:
            entry["actuals"].append(str(p["actual"]))
    out = list(clusters.values())
    for entry in out:
        entry["count"] = len(entry["runs"])
        entry["same_message"] = len({a for a in entry["actuals"]}) <= 1
    return sorted(out, key=lambda e: (finding_rank(e), -e["count"], e.get("rule") or "", e.get("message") or ""))


def where_text(entry: dict[str, Any], limit: int = 4) -> str:
    """"training/unet3d/run/X", or the runs' common directory and their names: "training/unet3d/run: 5 runs: X,
    Y, Z, W, +1" (so a repeated finding still says which group it is about)."""
    runs = entry["runs"]
    if len(runs) == 1:
        return runs[0]
    parents = [r.rsplit("/", 1)[0] if "/" in r else "" for r in runs]
    common = os.path.commonpath(parents) if all(parents) else ""
    shown = ", ".join(r[len(common) + 1:] if common else r for r in runs[:limit])
    text = f"{len(runs)} runs: {shown}" + (f", +{len(runs) - limit}" if len(runs) > limit else "")
    return f"{common}: {text}" if common else text


def checklist(problems: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    """What to change for `group` to reach CLOSED: the de-duplicated fixes of its OPEN and INVALID findings."""
    items: dict[tuple, dict[str, Any]] = {}
    for entry in clustered([p for p in problems if p.get("group") == group and finding_label(p) != "WARNING"]):
        fix = entry.get("fix") or f"resolve: {entry.get('message')}"
        key = (_shape(fix, None), entry.get("rule"))
        item = items.setdefault(key, {"fix": fix, "rule": entry.get("rule"), "label": entry["label"],
                                      "division": entry.get("division"), "level": entry.get("level"), "runs": []})
        item["runs"] += [r for r in entry["runs"] if r not in item["runs"]]
    return sorted(items.values(), key=lambda i: (finding_rank(i), i["rule"] or ""))
