"""The verdict panel's submission-group table shows every name in full (no "milvus-lite/HN"-style truncation)."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.benchmarks.training.synthetic import write_training_submission

PREFIX = "closed/a-rather-long-organisation-name/results/an-even-longer-system-under-test-name"


def test_long_group_names_are_not_cut(tmp_path: Path, audit) -> None:
    write_training_submission(tmp_path, runs=6, prefix=PREFIX, accelerator="b200")
    result = audit(tmp_path)
    result.assert_clean()
    group = f"{PREFIX}/training/unet3d"
    assert len(group) > 48
    table = [line for line in result.text.splitlines() if line.startswith(group)]
    assert table, result.text[-3000:]
    header = next(line for line in result.text.splitlines() if line.startswith("submission group"))
    assert header.index("benchmark") == table[0].index("training ") > len(group)
