"""v3.0 submission trees must describe each system under test (H8.1)."""

from __future__ import annotations

import json
from pathlib import Path

from mlps_harness.benchmarks.training.synthetic import write_training_submission
from tests.helpers import REPO

PREFIX = "closed/acme/results/sys1"


def _audit(pytester, root: Path, *extra: str) -> dict:
    out = pytester.path / "v.json"
    pytester.runpytest_subprocess(str(REPO / "compliance"), f"--results-dir={root}", f"--mlps-json={out}",
                                  "-k", "system-description", "-p", "no:cacheprovider", *extra)
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
    """Judged under v3.0 (forced), a tree without the submission prefix has no systems/ to check: not applicable."""
    write_training_submission(tmp_path)
    verdict = _audit(pytester, tmp_path, "--rules-version=v3.0")
    assert verdict["verdict"] is None and verdict["counts"]["na"] == 1


def test_no_test_outside_its_ruleset(pytester, tmp_path: Path) -> None:
    """A v2.0 tree is not asked for a system description at all: the v3.0-only rule makes no test."""
    write_training_submission(tmp_path)
    verdict = _audit(pytester, tmp_path)
    assert verdict["verdict"] is None and sum(verdict["counts"].values()) == 0
