"""Every KV cache rule on hand-built run dirs: the CLOSED reference run, and at least one deviation per rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlps_harness.benchmarks.kv_cache import rules_run as kvcache_run
from mlps_harness.benchmarks.kv_cache.ruleset import kvcache_rules
from mlps_harness.rules import all_rules

from .builders import LEAF, build_run, check, closed_options, division

KV_RULES = sorted(r.name for r in all_rules() if r.benchmark == "kv_cache")


def _options(**changes: dict) -> dict:
    options = closed_options()
    for name, values in changes.items():
        options[name.lstrip("o")].update(values)
    return options


@pytest.fixture
def closed_run(tmp_path: Path) -> tuple[Path, str]:
    return tmp_path, build_run(tmp_path)


def test_every_kv_rule_has_an_h7_id() -> None:
    assert len(KV_RULES) >= 16
    assert all(name.startswith("H7.") for name in KV_RULES)


@pytest.mark.parametrize("rule_name", KV_RULES + ["H6.3-required-files", "H6.1-documents-parse"])
def test_reference_run_is_closed(closed_run, rule_name: str) -> None:
    root, run_id = closed_run
    result = check(root, run_id, rule_name)
    expected = "N/A" if rule_name.startswith("H6.1") and not result.applicable else "CLOSED"
    assert division(result) == expected, [f.message for f in result.findings]


CASES = [
    ("H7.1-complete-run", {"incomplete": "interrupted by SIGINT"}, "INVALID", "interrupted"),
    ("H7.1-complete-run", {"drop_rank_file": "option_2/trial_3/rank_1/kvcache_results.json"}, "INVALID",
     "option_2/trial_3/rank_1"),
    ("H7.1-complete-run", {"summary_patch": {"3": {"trial_count": 2}}}, "INVALID", "2 of 3 trials"),
    ("H7.2-model-known", {"options": _options(o3={"model": "gpt-9"})}, "INVALID", "gpt-9"),
    ("H7.3-closed-options", {"options": _options(o1={"num_users": 20})}, "OPEN", "num_users 20"),
    ("H7.3-closed-options", {"options": _options(o2={"cpu_mem_gb": 0.0})}, "OPEN", "cpu_mem_gb"),
    ("H7.3-closed-options", {"options": {k: v for k, v in closed_options().items() if k != "3"}}, "OPEN",
     "Option 3 was not run"),
    ("H7.4-trials-per-option", {"trials": 1}, "OPEN", "1 trial"),
    ("H7.5-rank-seeds", {"seeds": {1: 7}}, "OPEN", "seed 7"),
    ("H7.6-closed-flags", {"args": {"kv_trials": 1}}, "OPEN", "--kv-trials"),
    ("H7.6-closed-flags", {"args": {"mpi_params": "--mca btl tcp,self", "hosts": ["a", "b"]}}, "CLOSED", ""),
    ("H7.7-no-autoscaling-no-config", {"extra_args": ["--enable-autoscaling"]}, "OPEN", "autoscaling"),
    ("H7.7-no-autoscaling-no-config", {"extra_args": ["--config", "c.yaml"]}, "OPEN", "--config"),
    ("H7.8-storage-tier-used", {"cpu_only": {"2": {(t, r) for t in (1, 2, 3) for r in (0, 1)}}}, "INVALID",
     "kept every block in RAM"),
    ("H7.8-storage-tier-used", {"cpu_only": {"2": {(2, 1)}}}, "OPEN", "trial 2 rank 1"),
    ("H7.9-option-delay", {"delay_s": 10.0}, "OPEN", "between Option 1 and Option 2"),
    ("H7.10-separate-filesystems", {"same_fs": True}, "INVALID", "share one filesystem"),
    ("H7.10-separate-filesystems", {"same_fs": None}, "N/A", ""),
    ("H7.11-duration-minimum", {"options": _options(o2={"duration_s": 45.0})}, "OPEN", "45 is below 60"),
    ("H7.11-duration-minimum", {"options": _options(o1={"duration_s": 10.0})}, "INVALID", "10 is below 30"),
    ("H7.12-users-minimum", {"options": _options(o3={"num_users": 5})}, "OPEN", "5 is below 10"),
    ("H7.12-users-minimum", {"options": _options(o3={"num_users": 0})}, "INVALID", "0 is below 1"),
    ("H7.13-generation-mode", {"options": _options(o1={"generation_mode": "turbo"})}, "INVALID", "turbo"),
    ("H7.15-aggregation", {"summary_patch": {"1": {"aggregated_read_bandwidth_gbps": 99.0}}}, "INVALID",
     "does not match"),
    ("H7.15-aggregation", {"summary_patch": {"2": {"aggregated_device_read_p95_ms": 1.0}}}, "INVALID",
     "aggregated_device_read_p95_ms"),
    ("H7.16-headline", {"summary_patch": {"1": {"aggregated_read_bandwidth_gbps": 0.0}}}, "INVALID",
     "no storage reads"),
]


@pytest.mark.parametrize("rule_name, build, expected, needle", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_deviation(tmp_path: Path, rule_name: str, build: dict, expected: str, needle: str) -> None:
    run_id = build_run(tmp_path, **build)
    result = check(tmp_path, run_id, rule_name)
    assert division(result) == expected, [f.message for f in result.findings]
    problems = result.problems()
    if expected in ("OPEN", "INVALID"):
        text = " ".join(f"{f.message} {f.parameter} {f.actual}" for f in problems)
        assert needle in text
        assert all(f.fix and f.parameter for f in problems)


def test_benchmark_absent_from_v2(closed_run) -> None:
    root, run_id = closed_run
    result = check(root, run_id, "H7.0-benchmark-in-ruleset", version="v2.0")
    assert division(result) == "INVALID"
    assert "did not exist" in result.problems()[0].message
    assert division(check(root, run_id, "H7.3-closed-options", version="v2.0")) == "N/A"


@pytest.mark.parametrize("change, rule_name", [({"preview": True}, "H7.14-preview"),
                                                ({"open_generation_modes": ["none"]}, "H7.13-generation-mode")])
def test_ruleset_switches(closed_run, monkeypatch, change: dict, rule_name: str) -> None:
    """Upstream's stale checker behaviour (always preview, 'none' OPEN) is one line of ruleset data away."""
    root, run_id = closed_run
    real = kvcache_rules
    monkeypatch.setattr(kvcache_run, "kvcache_rules", lambda v: real(v).model_copy(update=change))
    assert division(check(root, run_id, rule_name)) == "OPEN"


def test_summary_with_strings_for_numbers_is_a_parse_finding(closed_run) -> None:
    root, run_id = closed_run
    path = root / run_id / f"kvcache_run_summary_{LEAF}.json"
    doc = json.loads(path.read_text())
    doc["options"]["1"]["aggregated_read_bandwidth_gbps"] = "fast"
    path.write_text(json.dumps(doc))
    parsed = check(root, run_id, "H6.1-documents-parse")
    assert division(parsed) == "INVALID"
    assert "aggregated_read_bandwidth_gbps" in parsed.problems()[0].message
    assert division(check(root, run_id, "H7.1-complete-run")) == "INVALID"
    assert division(check(root, run_id, "H7.3-closed-options")) == "N/A"


def test_missing_summary_fails_layout_and_completeness(closed_run) -> None:
    root, run_id = closed_run
    (root / run_id / f"kvcache_run_summary_{LEAF}.json").unlink()
    assert division(check(root, run_id, "H6.3-required-files")) == "INVALID"
    assert division(check(root, run_id, "H7.1-complete-run")) == "INVALID"
