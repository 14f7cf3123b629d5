"""A dataset that cannot fit in --data-dir is refused before anything runs (never fill a disk by mistake)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import REPO

SUITE = str(REPO / "suites" / "training")
HUGE = ["--model=unet3d", "--num-accelerators=2", "--params", "dataset.num_files_train=100000000"]


def test_dataset_larger_than_free_space_is_a_usage_error(tmp_path: Path, suite_runner) -> None:
    result = suite_runner(SUITE, f"--results-dir={tmp_path / 'r'}", f"--data-dir={tmp_path / 'd'}", *HUGE)
    out = result.stdout + result.stderr
    assert result.returncode == 4, out[-2000:]
    assert "the dataset needs" in out and "are free" in out and "--data-dir" in out
    assert "Traceback" not in out
    assert not any((tmp_path / "d").rglob("*.npz"))
    assert not (tmp_path / "r" / "training").exists()


def test_what_if_only_warns_about_space(tmp_path: Path, suite_runner) -> None:
    result = suite_runner(SUITE, "--what-if", f"--results-dir={tmp_path / 'r'}", f"--data-dir={tmp_path / 'd'}",
                          *HUGE)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "warning: --data-dir" in result.stdout and "the dataset needs" in result.stdout



def test_datasize_stage_alone_runs_whatever_the_size(tmp_path: Path, suite_runner) -> None:
    result = suite_runner(SUITE, "-k", "datasize", f"--results-dir={tmp_path / 'r'}", f"--data-dir={tmp_path / 'd'}",
                          *HUGE)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 passed" in result.stdout
