"""The v3.0 round's two training advisories: 2.1.12 (datasize/ phase dir absent) and 3.3.3 (one host simulating
fewer than 4 accelerators) are warnings in v3.0 (division unchanged) and not part of v2.0."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlps_harness.benchmarks.training.synthetic import write_training_submission
from mlps_harness.testing import division_of, rule_result


def _labels(result) -> list[str]:
    return [f.label for f in result.findings]


@pytest.mark.parametrize(("with_datasize", "expected"), [(False, "WARNING"), (True, "CLOSED")])
def test_datasize_phase_dir(tmp_path: Path, with_datasize: bool, expected: str) -> None:
    write_training_submission(tmp_path, accelerator="b200")
    if with_datasize:
        (tmp_path / "training" / "unet3d" / "datasize").mkdir()
    result = rule_result(tmp_path, "2.1.12", "training/unet3d", rules_version="v3.0")
    assert division_of(result) == "CLOSED" and _labels(result) == [expected]
    if expected == "WARNING":
        assert result.findings[0].file == "training/unet3d/datasize"
    assert not rule_result(tmp_path, "2.1.12", "training/unet3d", rules_version="v2.0").applicable


@pytest.mark.parametrize(("procs", "hosts", "expected"), [(3, 1, "WARNING"), (4, 1, "CLOSED"), (2, 2, "CLOSED")])
def test_single_host_accelerators(tmp_path: Path, procs: int, hosts: int, expected: str) -> None:
    runs = write_training_submission(tmp_path, runs=1, accelerator="b200", num_processes=procs, num_hosts=hosts)
    run_id = str(runs[0].relative_to(tmp_path))
    result = rule_result(tmp_path, "3.3.3", run_id, rules_version="v3.0")
    assert division_of(result) == "CLOSED" and _labels(result) == [expected]
    assert not rule_result(tmp_path, "3.3.3", run_id, rules_version="v2.0").applicable
