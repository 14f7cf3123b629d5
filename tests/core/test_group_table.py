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


def test_quiet_table_stops_after_its_row_limit(tmp_path: Path, audit, monkeypatch) -> None:
    """Under -q a benchmark's table lists at most QUIET_GROUP_ROWS groups, then says how many more there are and
    their verdicts; without -q every group has its row."""
    from mlps_harness.reporting import terminal

    monkeypatch.setattr(terminal, "QUIET_GROUP_ROWS", 2)
    for system in range(5):
        write_training_submission(tmp_path, runs=6, prefix=f"closed/org/results/system{system}", accelerator="b200")
    rows = {}
    for label, extra in (("quiet", ("-q",)), ("normal", ())):
        result = audit(tmp_path, *extra)
        result.assert_clean()
        rows[label] = [line for line in result.text.splitlines() if line.startswith("closed/org/results/system")
                       and "training/unet3d" in line.split()[0]]
        rows[label + " tail"] = [line for line in result.text.splitlines() if line.startswith("... ")]
    assert len(rows["normal"]) == 5 and rows["normal tail"] == []
    assert rows["quiet"] == rows["normal"][:2]
    verdicts = [word for row in rows["normal"][2:] for word in ("CLOSED", "OPEN", "INVALID") if f" {word} " in row]
    counts = ", ".join(f"{verdicts.count(w)} {w}" for w in ("CLOSED", "OPEN", "INVALID") if w in verdicts)
    assert rows["quiet tail"] == [f"... 3 more training groups ({counts}): every row without -q, in --html and in "
                                  "--mlps-results"]
