"""Collection makes no test for a rule outside the ruleset its run or group is judged under (issue #14): such a
test could only be skipped. The version is the one parsing then uses, read from each run's metadata."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from mlps_harness.benchmarks.training.synthetic import write_training_submission
from mlps_harness.cases import build_cases, planned_cases
from mlps_harness.loader import ResultsIndex
from mlps_harness.rules import REGISTRY, all_rules
from tests.helpers import REPO, run_pytest

V2_RUNS = "closed/acme/results/old"     # v3.0 layout, metadata naming v2.0
V3_RUNS = "closed/acme/results/new"


def _mixed_tree(root: Path) -> None:
    write_training_submission(root, runs=2, prefix=V2_RUNS, accelerator="b200",
                              extra_metadata={"harness": {"rules_version": "v2.0"}})
    write_training_submission(root, runs=2, prefix=V3_RUNS, accelerator="b200")


def _only_in(version: str, category: str) -> set[str]:
    return {r.name for r in all_rules() if r.category == category and r.versions == (version,)}


def test_cases_follow_each_runs_ruleset(tmp_path: Path) -> None:
    _mixed_tree(tmp_path)
    index = ResultsIndex(tmp_path)
    v2_only, v3_only = _only_in("v2.0", "run"), _only_in("v3.0", "submission")
    assert v2_only and v3_only, "the registry no longer has version-specific rules to test this with"
    by_target: dict[str, set[str]] = {}
    for category in ("layout", "run", "submission"):
        for case in build_cases(index, category):
            by_target.setdefault(case.target, set()).add(case.rule)
    old = [t for t in by_target if t.startswith(f"{V2_RUNS}/") and "/run/" in t]
    new = [t for t in by_target if t.startswith(f"{V3_RUNS}/") and "/run/" in t]
    assert len(old) == len(new) == 2
    for target in old:
        assert by_target[target] & v2_only, target              # v2.0's run rules are tested on v2.0 runs...
    for target in new:
        assert not by_target[target] & v2_only, target          # ...and make no test on v3.0 runs
    assert by_target[f"{V3_RUNS}/training/unet3d"] & v3_only
    assert not by_target[f"{V2_RUNS}/training/unet3d"] & v3_only
    for target, rules in by_target.items():       # every case left is one the evaluation will not skip for version
        run_or_group = index.group(target) if target in index.group_ids() else index.run(target)
        assert all(run_or_group.rules_version in REGISTRY[r].versions for r in rules), target


def test_forced_version_decides_collection(tmp_path: Path) -> None:
    _mixed_tree(tmp_path)
    for version in ("v2.0", "v3.0"):
        cases = build_cases(ResultsIndex(tmp_path, version), "run")
        assert cases and all(version in REGISTRY[c.rule].versions for c in cases)


def test_planned_cases_follow_the_plans_ruleset() -> None:
    slots = {"datagen": "datagen", "run/0": "run"}
    every = {c.rule for c in planned_cases("training", "unet3d", slots, "run")}
    v3 = {c.rule for c in planned_cases("training", "unet3d", slots, "run", "v3.0")}
    assert v3 == {r for r in every if "v3.0" in REGISTRY[r].versions} and v3 < every


def test_audit_skips_nothing_for_its_version(tmp_path: Path) -> None:
    """Through the real audit: no "not part of ruleset" skip, and the v2.0 runs still get v2.0's rules."""
    _mixed_tree(tmp_path / "tree")
    xml = tmp_path / "junit.xml"
    proc = run_pytest(REPO, "compliance", f"--results-dir={tmp_path / 'tree'}", "-rs", f"--junitxml={xml}")
    assert xml.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "is not part of ruleset" not in proc.stdout
    ran: dict[str, set[str]] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        if props.get("mlps_run"):
            ran.setdefault(props["mlps_rules_version"], set()).add(props["mlps_rule_name"])
    assert ran["v2.0"] & _only_in("v2.0", "run") and not ran["v3.0"] & _only_in("v2.0", "run")
