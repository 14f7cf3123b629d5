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
    lines = result.text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("submission group"))
    assert lines[header - 1] == "training figures"
    # one row per group: the full name, then model, runs, verdict and the headline figures in aligned columns
    assert lines[header].index("model") == table[0].index(" unet3d ", len(group)) + 1 > len(group)
    verdict = next(word for word in ("CLOSED", "OPEN", "INVALID") if f" {word} " in table[0])
    assert lines[header].index("verdict") == table[0].index(f" {verdict} ") + 1
    assert "throughput" in table[0] and "MiB/s" in table[0]
    assert len(table) == 1
