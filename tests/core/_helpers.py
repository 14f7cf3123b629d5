"""Helpers for the core tests that are plain functions (imported relatively by the test modules)."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.loader import ResultsIndex
from mlps_harness.rules import REGISTRY, RuleResult, all_rules, evaluate

REPO = Path(__file__).resolve().parents[2]
COMPLIANCE = REPO / "compliance"
#: real upstream trees; CI keeps ../shared beside the clone
SAMPLES = REPO.parent / "shared" / "samples"


def rule_result(root: Path, rule_name: str, target: str, rules_version: str = "auto") -> RuleResult:
    """Evaluate one registered rule (by `<id>-<slug>` name or bare id) on a run id or group id of `root`."""
    all_rules()
    entry = REGISTRY.get(rule_name) or next(r for r in REGISTRY.values() if r.id == rule_name)
    index = ResultsIndex(root, rules_version)
    obj = index.group(target) if entry.scope == "group" else index.run(target)
    return evaluate(entry, obj, obj.rules_version)


def run_ids(root: Path) -> list[str]:
    return [ref.run_id for ref in ResultsIndex(root).refs]
