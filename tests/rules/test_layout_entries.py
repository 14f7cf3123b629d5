"""H6.6: links, FIFOs and other special files anywhere in a run directory are INVALID (never read or followed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlps_harness.benchmarks.training.synthetic import write_training_submission
from tests.helpers import REPO


def _audit(pytester, root: Path) -> dict:
    out = pytester.path / "v.json"
    pytester.runpytest_subprocess(str(REPO / "compliance"), f"--results-dir={root}", f"--mlps-json={out}",
                                  "-k", "regular-entries", "-p", "no:cacheprovider")
    return json.loads(out.read_text())


def test_special_entries_are_invalid(pytester, tmp_path: Path) -> None:
    runs = write_training_submission(tmp_path)
    os.mkfifo(runs[1] / "stray.fifo")
    (runs[2] / "link.txt").symlink_to("/etc/passwd")
    verdict = _audit(pytester, tmp_path)
    bad = {f["file"]: f["actual"] for f in verdict["findings"]}
    assert bad == {f"training/unet3d/run/{runs[1].name}/stray.fifo": "fifo",
                   f"training/unet3d/run/{runs[2].name}/link.txt": "symlink"}
    assert [r for r, v in verdict["runs"].items() if v == "INVALID"] == \
        [f"training/unet3d/run/{runs[1].name}", f"training/unet3d/run/{runs[2].name}"]


def test_regular_tree_is_closed(pytester, tmp_path: Path) -> None:
    write_training_submission(tmp_path)
    assert _audit(pytester, tmp_path)["verdict"] == "CLOSED"
