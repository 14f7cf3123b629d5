"""v3.0 submission trees must describe each system under test (H8.1)."""

from __future__ import annotations

import json
from pathlib import Path

from mlps_harness.benchmarks.training.synthetic import write_training_submission
from tests.helpers import REPO

PREFIX = "closed/acme/results/sys1"


def _audit(pytester, root: Path) -> dict:
    out = pytester.path / "v.json"
    pytester.runpytest_subprocess(str(REPO / "compliance"), f"--results-dir={root}", f"--mlps-json={out}",
                                  "-k", "system-description", "-p", "no:cacheprovider")
    return json.loads(out.read_text())


def test_missing_system_description_is_invalid(pytester, tmp_path: Path) -> None:
    write_training_submission(tmp_path, prefix=PREFIX, accelerator="b200")
    verdict = _audit(pytester, tmp_path)
    assert verdict["verdict"] == "INVALID"
    files = {f.get("file") for f in verdict["findings"] if f["rule"] == "H8.1-system-description"}
    assert "closed/acme/systems/sys1.yaml" in files and "closed/acme/systems" in files


def test_present_system_description_is_closed(pytester, tmp_path: Path) -> None:
    write_training_submission(tmp_path, prefix=PREFIX, accelerator="b200")
    systems = tmp_path / "closed" / "acme" / "systems"
    systems.mkdir(parents=True)
    (systems / "sys1.yaml").write_text("system_under_test:\n  solution:\n    architecture:\n      benchmark_API: file\n")
    (systems / "sys1.pdf").write_bytes(b"%PDF-1.4\n")
    verdict = _audit(pytester, tmp_path)
    assert verdict["verdict"] == "CLOSED", verdict["findings"]


def test_not_applicable_without_submission_prefix(pytester, tmp_path: Path) -> None:
    write_training_submission(tmp_path)
    verdict = _audit(pytester, tmp_path)
    assert verdict["verdict"] is None and verdict["counts"]["na"] == 1
