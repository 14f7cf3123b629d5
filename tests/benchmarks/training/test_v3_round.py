"""Training rules as the v3.0 round applied them (issue #17) and the thresholds on each side (issue #16): the
dataset-size boundary, the round's 3.3.1 warning for a too-small dataset, and 3.4.2 read from fs_separation.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlps_harness.benchmarks.training.synthetic import TrainingRunSpec, write_training_run
from mlps_harness.outcomes import Division
from tests.helpers import rule_result, run_ids

V3 = "closed/acme/results/sys1"


def _run(root: Path, prefix: str = "", **kw) -> str:
    write_training_run(root, TrainingRunSpec(**kw), prefix=prefix)
    return next(r for r in run_ids(root) if "/run/" in r)


@pytest.mark.parametrize("files, division", [(28_000, Division.CLOSED), (27_999, Division.INVALID)])
def test_dataset_size_boundary_v2(tmp_path: Path, files: int, division: Division) -> None:
    """The samples bound of the default spec is 28,000 files: one less is too small."""
    run = _run(tmp_path, num_files_train=files)
    assert rule_result(tmp_path, "3.1.2", run).division is division


@pytest.mark.parametrize("files, warned", [(28_000, False), (27_999, True)])
def test_dataset_too_small_is_the_rounds_warning_in_v3(tmp_path: Path, files: int, warned: bool) -> None:
    """ApparentProblems.md: 3.3.1 trainingRunDataMatchesDatasize was a warning (14 rows published)."""
    run = _run(tmp_path, prefix=V3, accelerator="b200", num_files_train=files)
    res = rule_result(tmp_path, "3.1.2", run)
    assert res.division is Division.CLOSED
    assert bool(res.warnings()) == warned
    if warned:
        assert res.warnings()[0].actual == "27999" and "config.yaml" in res.warnings()[0].message


def _fs_separation(root: Path, run: str, same: object) -> None:
    (root / run / "fs_separation.json").write_text(json.dumps(
        {"version": 1, "method": "link_exdev", "data_or_chkpt_realpath": "/mnt/data", "results_realpath": "/res",
         "same_filesystem": same}))


@pytest.mark.parametrize("prefix, same, division, warned", [
    (V3, False, Division.CLOSED, False),
    (V3, True, Division.INVALID, False),
    (V3, None, Division.CLOSED, True),          # no evidence: the round's 3.4.2 warning
    ("", True, Division.INVALID, False),
    ("", None, None, False),                    # v2.0 trees never had the file: not applicable
    (V3, "no", Division.CLOSED, True),          # not a boolean: no evidence
])
def test_separate_filesystems_from_fs_separation(tmp_path: Path, prefix: str, same: object,
                                                  division: Division | None, warned: bool) -> None:
    run = _run(tmp_path, prefix=prefix, accelerator="b200" if prefix else "h100")
    if same is not None:
        _fs_separation(tmp_path, run, same)
    res = rule_result(tmp_path, "3.4.2", run)
    assert res.division is division
    assert bool(res.applicable and res.warnings()) == warned
    if division is Division.INVALID:
        assert res.problems()[0].file.endswith("fs_separation.json") and "/mnt/data" in res.problems()[0].actual
