"""Every KV cache rule on hand-built run dirs: the CLOSED reference run, and at least one deviation per rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlps_harness.benchmarks.kv_cache import rules_run as kvcache_run
from mlps_harness.benchmarks.kv_cache.ruleset import kvcache_rules
from mlps_harness.rules import all_rules

from .builders import LEAF, build_run, check, closed_options, division, warnings_of

KV_RULES = sorted(r.name for r in all_rules() if r.benchmark == "kv_cache")


def _options(**changes: dict) -> dict:
    options = closed_options()
    for name, values in changes.items():
        options[name.lstrip("o")].update(values)
    return options


@pytest.fixture
def closed_run(tmp_path: Path) -> tuple[Path, str]:
    return tmp_path, build_run(tmp_path)


def test_every_kv_rule_has_an_h7_or_rules_md_id() -> None:
    assert len(KV_RULES) >= 18
    assert all(name.startswith(("H7.", "6.")) for name in KV_RULES)


@pytest.mark.parametrize("rule_name", KV_RULES + ["H6.3-required-files", "H6.1-documents-parse"])
def test_reference_run_is_closed(closed_run, rule_name: str) -> None:
    root, run_id = closed_run
    result = check(root, run_id, rule_name)
    expected = "N/A" if rule_name.startswith("H6.1") and not result.applicable else "CLOSED"
    assert division(result) == expected, [f.message for f in result.findings]
    if rule_name != "H7.17-summary-name":  # our suite's file name is the older one: a warning, checked below
        assert not warnings_of(result), warnings_of(result)


CASES = [
    ("H7.1-complete-run", {"incomplete": "interrupted by SIGINT"}, "INVALID", "interrupted"),
    ("H7.1-complete-run", {"drop_rank_file": "option_2/trial_3/rank_1/kvcache_results.json"}, "INVALID",
     "option_2/trial_3/rank_1"),
    ("H7.1-complete-run", {"summary_patch": {"3": {"trial_count": 2}}}, "INVALID", "2 of 3 trials"),
    ("H7.2-model-known", {"options": _options(o3={"model": "gpt-9"})}, "INVALID", "gpt-9"),
    # every locked Option value, on each side
    ("H7.3-closed-options", {"options": _options(o1={"num_users": 199})}, "OPEN", "num_users 199"),
    ("H7.3-closed-options", {"options": _options(o1={"num_users": 201})}, "OPEN", "num_users 201"),
    ("H7.3-closed-options", {"options": _options(o2={"cpu_mem_gb": 4.5})}, "OPEN", "cpu_mem_gb 4.5"),
    ("H7.3-closed-options", {"options": _options(o2={"cpu_mem_gb": 0.0})}, "OPEN", "cpu_mem_gb"),
    ("H7.3-closed-options", {"options": _options(o1={"duration_s": 299.0})}, "OPEN", "duration_s 299"),
    ("H7.3-closed-options", {"options": _options(o3={"max_concurrent_allocs": 16})}, "OPEN", "max_concurrent_allocs"),
    ("H7.3-closed-options", {"options": {k: v for k, v in closed_options().items() if k != "3"}}, "OPEN",
     "Option 3 was not run"),
    ("H7.4-trials-per-option", {"trials": 2}, "OPEN", "2 trial"),
    ("H7.4-trials-per-option", {"trials": 4}, "OPEN", "4 trial"),
    ("H7.5-rank-seeds", {"seeds": {1: 42}}, "OPEN", "seed 42"),
    ("H7.5-rank-seeds", {"seeds": {1: 43}}, "CLOSED", ""),
    # 6.6.1 is an allow-list: the topology may vary, anything else set is OPEN
    ("H7.6-closed-flags", {"args": {"kv_trials": 1}}, "OPEN", "--kv-trials"),
    ("H7.6-closed-flags", {"args": {"foo": 1}}, "OPEN", "foo=1"),
    ("H7.6-closed-flags", {"extra_args": ["--performance-profile", "latency"]}, "OPEN", "--performance-profile"),
    ("H7.6-closed-flags", {"args": {"mpi_params": "--bind-to none", "hosts": ["a", "b"], "npernode": 4,
                                    "mpi_bin": "mpiexec"}}, "CLOSED", ""),
    ("H7.7-no-autoscaling-no-config", {"extra_args": ["--enable-autoscaling"]}, "OPEN", "autoscaling"),
    ("H7.7-no-autoscaling-no-config", {"extra_args": ["--config", "c.yaml"]}, "OPEN", "--config"),
    ("H7.8-storage-tier-used", {"cpu_only": {"2": {(t, r) for t in (1, 2, 3) for r in (0, 1)}}}, "INVALID",
     "kept every block in RAM"),
    ("H7.8-storage-tier-used", {"cpu_only": {"2": {(2, 1)}}}, "OPEN", "trial 2 rank 1"),
    # 90 s with a 1 s tolerance: 89 s passes, 88.9 s does not
    ("H7.9-option-delay", {"delay_s": 89.0}, "CLOSED", ""),
    ("H7.9-option-delay", {"delay_s": 88.9}, "OPEN", "88.9 s between Option 1 and Option 2"),
    ("H7.10-separate-filesystems", {"same_fs": True}, "INVALID", "share one filesystem"),
    ("H7.10-separate-filesystems", {"args": {"cache_dir": ...}}, "INVALID", "--cache-dir is not recorded"),
    ("H7.10-separate-filesystems", {"args": {"cache_dir": "/r/kv", "results_dir": "/r"}}, "INVALID", "overlap"),
    ("H7.10-separate-filesystems", {"args": {"cache_dir": "/r", "results_dir": "/r/out"}}, "INVALID", "overlap"),
    ("H7.10-separate-filesystems", {"args": {"cache_dir": "/r-kv", "results_dir": "/r"}}, "CLOSED", ""),
    # thresholds of the stale run checker, each side
    ("H7.11-duration-minimum", {"options": _options(o2={"duration_s": 60.0})}, "CLOSED", ""),
    ("H7.11-duration-minimum", {"options": _options(o2={"duration_s": 59.9})}, "OPEN", "59.9 is below 60"),
    ("H7.11-duration-minimum", {"options": _options(o1={"duration_s": 30.0})}, "OPEN", "30 is below 60"),
    ("H7.11-duration-minimum", {"options": _options(o1={"duration_s": 29.9})}, "INVALID", "29.9 is below 30"),
    ("H7.12-users-minimum", {"options": _options(o3={"num_users": 10})}, "CLOSED", ""),
    ("H7.12-users-minimum", {"options": _options(o3={"num_users": 9})}, "OPEN", "9 is below 10"),
    ("H7.12-users-minimum", {"options": _options(o3={"num_users": 1})}, "OPEN", "1 is below 10"),
    ("H7.12-users-minimum", {"options": _options(o3={"num_users": 0})}, "INVALID", "0 is below 1"),
    ("H7.13-generation-mode", {"options": _options(o1={"generation_mode": "turbo"})}, "INVALID", "turbo"),
    ("H7.15-aggregation", {"summary_patch": {"1": {"aggregated_read_bandwidth_gbps": 2.61}}}, "INVALID",
     "does not match the rank figures (2.6)"),
    ("H7.15-aggregation", {"summary_patch": {"2": {"aggregated_device_read_p95_ms": 121.0}}}, "INVALID",
     "aggregated_device_read_p95_ms"),
    ("H7.15-aggregation", {"rank_patch": {("3", 2, 1): {"write_bandwidth_gbps": 0.8}}}, "INVALID",
     "aggregated_write_bandwidth_gbps 0.75 does not match the rank figures (0.85)"),
    ("H7.16-headline", {"summary_patch": {"1": {"aggregated_read_bandwidth_gbps": 0.0}}}, "INVALID",
     "no storage reads"),
    # 6.3.3.3: each client its own rank, file and cache dir
    ("6.3.3.3-per-client-isolation", {"rank_patch": {("1", 2, 1): {"rank": 0}}}, "INVALID",
     "rank 0 is shared by 2 clients"),
    ("6.3.3.3-per-client-isolation", {"rank_patch": {("1", 1, 1): {"file": "option_1/trial_1/rank_0/x.json"}}},
     "INVALID", "outside its own option_1/trial_1/rank_1/"),
    ("6.3.3.3-per-client-isolation", {"rank_patch": {("2", 3, 1): {"rank": 2}}}, "INVALID", "outside 0..1"),
    ("6.3.3.3-per-client-isolation", {"rank_patch": {("1", 1, 0): {"cache_dir": "/c/rank_0"},
                                                     ("1", 1, 1): {"cache_dir": "/c/rank_0"}}}, "INVALID",
     "cache dir /c/rank_0 is shared"),
    ("6.3.3.3-per-client-isolation", {"rank_patch": {("1", 1, 0): {"cache_dir": "/c/rank_0"},
                                                     ("1", 1, 1): {"cache_dir": "/c/rank_1"}}}, "CLOSED", ""),
    ("6.3.3.3-per-client-isolation", {"ranks": 1}, "N/A", ""),
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


def test_missing_summary_fails_completeness_naming_both_names(closed_run) -> None:
    root, run_id = closed_run
    (root / run_id / f"kvcache_run_summary_{LEAF}.json").unlink()
    result = check(root, run_id, "H7.1-complete-run")
    assert division(result) == "INVALID"
    assert "summary.json" in result.problems()[0].expected and "kvcache_run_summary_" in result.problems()[0].expected
    assert division(check(root, run_id, "H7.17-summary-name")) == "N/A"
