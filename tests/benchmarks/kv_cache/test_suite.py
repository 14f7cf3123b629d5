"""The KV cache suite end to end with real mpirun: a 2-rank tiny run, the audit agreeing, bad input, a rank crash."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import REPO

SUITE = str(REPO / "suites" / "kv_cache")
COMPLIANCE = str(REPO / "compliance")
SMALL = ["--kv-options=1", "--kv-trials=1", "--kv-users=2", "--kv-model=tiny-1b", "--num-processes=2"]


def test_two_rank_run_then_audit_agree(tmp_path: Path, suite_runner) -> None:
    """Option 1 scaled down (2 ranks, 2 users, 12 s): tree, per-rank seeds, aggregation, verdict = audit's."""
    results, cache = tmp_path / "results", tmp_path / "cache"
    cache.mkdir()
    suite = suite_runner(SUITE, *SMALL, "--kv-duration=12", f"--kv-cache-dir={cache}", f"--results-dir={results}",
                         f"--mlps-json={tmp_path / 'suite.json'}")
    out = suite.stdout + suite.stderr
    assert "Traceback" not in out
    assert suite.returncode == 1, out[-3000:]        # INVALID: 12 s < 30 s, cache and results on one filesystem
    runs = sorted((results / "kv_cache" / "tiny-1b" / "run").iterdir())
    assert len(runs) == 1
    run = runs[0]
    names = {p.name for p in run.iterdir()}
    assert {f"kv_cache_{run.name}_metadata.json", "summary.json", "option_1"} <= names
    assert ".mlps-incomplete" not in names
    meta = json.loads((run / f"kv_cache_{run.name}_metadata.json").read_text())
    assert meta["benchmark_type"] == "kv_cache" and meta["cluster_information"]["source"] == "mpi"
    assert meta["args"]["kv_duration"] == 12 and meta["args"]["num_processes"] == 2
    assert meta["args"]["cache_dir"] == str(cache.resolve())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["total_ranks"] == 2 and not summary["partial_failure"]
    option = summary["options"]["1"]
    reads = []
    for rank in (0, 1):
        result = json.loads((run / "option_1" / "trial_1" / f"rank_{rank}" / "kvcache_results.json").read_text())
        assert result["seed"] == 42 + rank
        assert result["run_info"]["cache_dir"] == str(cache.resolve() / f"rank_{rank}")
        reads.append(result["summary"]["cache_stats"]["tier_storage_read_bandwidth_gbps"])
    assert option["aggregated_read_bandwidth_gbps"] == pytest.approx(sum(reads))
    assert option["aggregated_read_bandwidth_gbps"] > 0
    verdict = json.loads((tmp_path / "suite.json").read_text())
    assert verdict["verdict"] == "INVALID"
    rules = {f["rule"] for f in verdict["findings"]}
    assert {"H7.11-duration-minimum", "H7.3-closed-options", "H7.4-trials-per-option"} <= rules
    assert "H7.5-rank-seeds" not in rules and "H7.15-aggregation" not in rules
    # live progress in a CI log: exactly one line for the one trial, with its figures, no live updates
    assert "\r" not in suite.stdout
    trial_lines = re.findall(r"^    kv_cache: option_1/trial_1: .*$", suite.stdout, re.M)
    assert len(trial_lines) == 1 and "GiB/s" in trial_lines[0], suite.stdout[-3000:]
    # results.json / results.csv beside the run carry its per-Option figures and the group's
    figures = json.loads((results / "results.json").read_text())
    (record,) = figures["runs"]
    assert record["run_id"] in verdict["runs"] and record["run_id"] in (results / "results.csv").read_text()
    assert record["category"] == verdict["runs"][record["run_id"]] == "INVALID"
    ours = record["metrics"]["options"]["1"]
    assert ours["aggregated_read_bandwidth_gbps"] == pytest.approx(option["aggregated_read_bandwidth_gbps"])
    assert ours["aggregated_write_bandwidth_gbps"] == pytest.approx(option["aggregated_write_bandwidth_gbps"])
    (group,) = figures["groups"]
    assert group["runs"] == [record["run_id"]] and group["category"] == "INVALID"
    assert group["metrics"]["options"]["1"]["aggregated_read_bandwidth_gbps"] == pytest.approx(sum(reads))
    # every finding carries the v3.0 review's level, in --mlps-json and in results.json alike
    assert {f["review_level"] for f in verdict["findings"]} == {"error"}            # OPEN and INVALID
    assert all(f["review_level"] == "warning" for f in verdict["warnings"])
    levels = {(f["rule"], f["run"], f["division"], f["review_level"]) for f in figures["findings"]}
    assert levels == {(f["rule"], f["run"], f["division"], f["review_level"])
                      for f in verdict["findings"] + verdict["warnings"]}
    assert ("H7.11-duration-minimum", record["run_id"], "INVALID", "error") in levels

    audit = suite_runner(COMPLIANCE, f"--results-dir={results}", f"--mlps-json={tmp_path / 'audit.json'}")
    assert audit.returncode == 1, audit.stdout[-3000:]
    audited = json.loads((tmp_path / "audit.json").read_text())
    assert audited["runs"] == verdict["runs"]
    assert audited["verdict"] == verdict["verdict"]


def test_a_crashing_rank_is_reported_with_its_error(tmp_path: Path, suite_runner) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "rank_1").write_text("not a directory")          # only rank 1 cannot create its cache dir
    suite = suite_runner(SUITE, *SMALL, "--kv-duration=2", f"--kv-cache-dir={cache}",
                         f"--results-dir={tmp_path / 'results'}")
    out = suite.stdout + suite.stderr
    assert suite.returncode == 1
    assert "rank 1: exit 1: FileExistsError" in out, out[-3000:]
    assert "incomplete run" in out                              # the run dir is marked and the audit says so


def test_what_if_prints_commands_and_runs_nothing(tmp_path: Path, suite_runner) -> None:
    result = suite_runner(SUITE, "--what-if", "--division=closed", "--num-processes=4",
                          f"--results-dir={tmp_path / 'r'}")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "mpirun -n 4" in result.stdout and "mlps_harness.benchmarks.kv_cache.rank" in result.stdout
    assert "3 Option(s) x 3 trial(s)" in result.stdout and "90 s between Options" in result.stdout
    assert "--num-users 200" in result.stdout and "llama3.1-70b-instruct" in result.stdout
    assert not (tmp_path / "r" / "kv_cache").exists()


@pytest.mark.parametrize("args, needle", [
    (["--kv-model=gpt-9"], "--kv-model"),
    (["--kv-cpu-mem-gb=-1"], "--kv-cpu-mem-gb"),
    (["--kv-users=0"], "--kv-users"),
    (["--kv-cache-dir=/proc/nonexistent/kv"], "--kv-cache-dir"),  # cannot be created
    (["--kv-prefill-only", "--kv-decode-only"], "--kv-prefill-only/--kv-decode-only"),
    (["--kv-options=1,4"], "--kv-options"),
    (["--division=closed", "--kv-duration=10"], "--kv-duration"),
    (["-n", "2"], "parallel"),
])
def test_bad_input_is_a_usage_error(tmp_path: Path, suite_runner, args: list[str], needle: str) -> None:
    result = suite_runner(SUITE, *args, f"--results-dir={tmp_path / 'r'}", f"--data-dir={tmp_path / 'd'}")
    out = result.stdout + result.stderr
    assert result.returncode == 4, out[-2000:]
    assert needle in out and "Traceback" not in out
    assert not (tmp_path / "r" / "kv_cache").exists()
