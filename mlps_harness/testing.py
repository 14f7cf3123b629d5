"""Helpers for tests of rules, the harness's own and a third-party benchmark's: evaluate one rule on a tree.

Everything goes through the audit's own loader (`ResultsIndex`) and registry, exactly as `pytest compliance` does.
"""

from __future__ import annotations

from pathlib import Path

from mlps_harness.loader import ResultsIndex
from mlps_harness.rules import REGISTRY, Rule, RuleResult, all_rules, evaluate


def find_rule(name: str, benchmark: str | None = None) -> Rule:
    """A registered rule by `<id>-<slug>` name or bare id (a bare id shared by benchmarks needs `benchmark`)."""
    all_rules()
    if name in REGISTRY:
        return REGISTRY[name]
    found = [r for r in REGISTRY.values() if r.id == name and (benchmark is None or r.benchmark in (benchmark, "*"))]
    if len(found) != 1:
        raise LookupError(f"rule {name!r}{f' of {benchmark}' if benchmark else ''}: "
                          f"{'ambiguous' if found else 'not registered'} ({', '.join(r.name for r in found)})")
    return found[0]


def rule_result(root: Path, rule_name: str, target: str | None = None, rules_version: str = "auto",
                benchmark: str | None = None) -> RuleResult:
    """Evaluate one rule on a run id or group id of `root` (default: the tree's first run or group)."""
    entry = find_rule(rule_name, benchmark)
    index = ResultsIndex(Path(root), rules_version)
    if entry.scope == "group":
        obj = index.group(target or index.group_ids()[0])
    else:
        obj = index.run(target or index.refs[0].run_id)
    return evaluate(entry, obj, obj.rules_version)


def division_of(result: RuleResult) -> str:
    """CLOSED / OPEN / INVALID, or N/A when the rule does not apply."""
    return result.division.value if result.applicable else "N/A"
