"""Issue #15 item 4: free-space messages use a unit that shows the numbers (never "0.0 GiB but only 0.0 GiB")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlps_harness.launch.faults import human_bytes
from tests.helpers import REPO

SUITE = str(REPO / "suites" / "training")


@pytest.mark.parametrize("count, shown", [(0, "0 B"), (1023, "1023 B"), (1536, "1.50 KiB"),
                                          (45 * 2 ** 20, "45.0 MiB"), (300 * 2 ** 30, "300 GiB"),
                                          (3 * 2 ** 40, "3.00 TiB")])
def test_human_bytes_picks_the_unit_that_shows_the_number(count: int, shown: str) -> None:
    assert human_bytes(count) == shown


def test_a_small_full_data_dir_is_refused_with_readable_sizes(tmp_path: Path, tmpfs, suite_runner) -> None:
    data = tmpfs(size="3m")
    result = suite_runner(SUITE, f"--results-dir={tmp_path / 'r'}", f"--data-dir={data}", "--model=unet3d",
                          "--num-accelerators=2", "--params", "dataset.num_files_train=56", timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 4, out[-2000:]
    match = re.search(r"the dataset needs (\S+ \S+) \(56 files\) but only (\S+ \S+) are free", out)
    assert match, out[-2000:]
    assert "0.0 GiB" not in out
    needed, free = match.groups()
    assert needed.endswith(("MiB", "GiB")) and free.endswith(("KiB", "MiB")), (needed, free)
