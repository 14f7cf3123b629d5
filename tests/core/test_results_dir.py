"""A --results-dir that holds no benchmark directory at all is a usage error, not an audit of garbage."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import COMPLIANCE, REPO


def test_tree_without_any_benchmark_dir_is_a_usage_error(pytester, tmp_path: Path) -> None:
    leaf = tmp_path / "unet3d" / "train" / "part1" / "20250101_000000"
    leaf.mkdir(parents=True)
    (leaf / "summary.json").write_text("{}")
    result = pytester.runpytest_subprocess(str(REPO / "compliance"), f"--results-dir={tmp_path}")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*no benchmark directory found (it holds unet3d)*training/<model>/run/*"])


def test_unknown_benchmark_beside_a_known_one_is_an_invalid_finding(pytester, tmp_path: Path) -> None:
    from mlps_harness.benchmarks.training.synthetic import write_training_submission

    write_training_submission(tmp_path)
    leaf = tmp_path / "storagebench" / "m" / "run" / "20250101_000000"
    leaf.mkdir(parents=True)
    (leaf / "summary.json").write_text("{}")
    result = pytester.runpytest_subprocess(str(REPO / "compliance"), f"--results-dir={tmp_path}", "-k",
                                           "known-benchmark")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*storagebench/m/run/20250101_000000*unknown benchmark directory 'storagebench'*"])


def test_unknown_rule_id_in_marker_expression_is_a_usage_error(pytester, tmp_path: Path) -> None:
    from mlps_harness.benchmarks.training.synthetic import write_training_submission

    write_training_submission(tmp_path)
    result = pytester.runpytest_subprocess(str(REPO / "compliance"), f"--results-dir={tmp_path}",
                                           "-m", "rule(id='3.3.22')")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*no rule has id '3.3.22'; did you mean 3.3.2*"])
    ok = pytester.runpytest_subprocess(str(REPO / "compliance"), f"--results-dir={tmp_path}", "-m", "rule(id='3.3.2')")
    assert ok.ret == 0
    ok.stdout.fnmatch_lines(["*6 passed*"])


def test_compliance_help_needs_no_results_dir(pytester, tmp_path: Path) -> None:
    """`pytest compliance --help` lists the options instead of asking for --results-dir."""
    result = pytester.runpytest_subprocess(str(COMPLIANCE), "--help")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == 0, out[-2000:]
    assert "--results-dir=DIR" in out and "--kv-cache-dir" in out and "--results-dir is required" not in out
