"""`--html=report.html` writes one self-contained file by default: no assets/ folder beside it."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.benchmarks.training.synthetic import write_training_submission


def test_html_report_is_self_contained_by_default(tmp_path: Path, audit, pytester) -> None:
    tree = tmp_path / "tree"
    write_training_submission(tree, runs=6)
    report = pytester.path / "out" / "report.html"
    result = audit(tree, f"--html={report}")
    result.assert_clean()
    assert report.is_file()
    assert not (report.parent / "assets").exists()
    assert "<style" in report.read_text(encoding="utf-8")
