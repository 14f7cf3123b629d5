"""Issue #15 item 6: no checkpoint disk left behind. Partial shards are always removed (also after SIGTERM);
complete checkpoints are removed at the end of the run unless --keep-checkpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlps_harness.benchmarks.checkpointing.workload import WorkloadOptions, plan_checkpoint, shard_paths
from mlps_harness.benchmarks.checkpointing.workload.cleanup import clean_checkpoints
from tests.helpers import REPO

SUITE = str(REPO / "suites" / "checkpointing")
SMALL = ["--checkpoint-size-scale=0.0001", "--num-checkpoints-write=2", "--num-checkpoints-read=1"]


def _shards(folder: Path) -> list[Path]:
    return sorted(folder.rglob("rank_*.bin")) if folder.is_dir() else []


def _write_checkpoint(options: WorkloadOptions, plan, index: int, short_by: int = 0) -> None:
    for shard in plan.shards:
        for path, size in zip(shard_paths(options.checkpoint_folder, index, shard.rank),
                              (shard.model_bytes, shard.optimizer_bytes)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\0" * max(size - short_by, 0))


def test_clean_checkpoints_removes_partial_and_this_sessions_complete_ones_only(tmp_path: Path) -> None:
    options = WorkloadOptions(model="llama3-8b", checkpoint_folder=tmp_path, output_dir=tmp_path / "out",
                              size_scale=0.00001)
    plan = plan_checkpoint("llama3-8b", 2, size_scale=0.00001)
    for index in (1, 2, 3):
        _write_checkpoint(options, plan, index)
    _write_checkpoint(options, plan, 4, short_by=1)           # an interrupted write
    (tmp_path / "checkpoint_3" / "notes.txt").write_text("not ours")
    done = clean_checkpoints(options, plan, written=2, keep=False)
    assert done.partial == [4] and done.removed == [1, 2] and done.kept == [3]
    assert not (tmp_path / "checkpoint_1").exists() and not (tmp_path / "checkpoint_4").exists()
    assert (tmp_path / "checkpoint_3" / "notes.txt").exists() and _shards(tmp_path / "checkpoint_3")
    kept = clean_checkpoints(options, plan, written=3, keep=True)
    assert kept.kept == [3] and kept.removed == []


@pytest.mark.parametrize("keep", [False, True], ids=["default", "keep"])
def test_a_completed_run_removes_its_checkpoints_unless_kept(tmp_path: Path, suite_runner, keep: bool) -> None:
    result = suite_runner(SUITE, *SMALL, f"--data-dir={tmp_path / 'data'}", f"--results-dir={tmp_path / 'results'}",
                          *(["--keep-checkpoints"] if keep else []), "-v")
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stdout[-3000:]
    assert "test_run[run/0] PASSED" in result.stdout, result.stdout[-3000:]
    folder = tmp_path / "data" / "checkpoints" / "llama3-8b"
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    assert names == (["checkpoint_1", "checkpoint_2"] if keep else []), names
    assert bool(_shards(folder)) == keep


@pytest.mark.slow
def test_sigterm_during_the_write_leaves_no_partial_shard(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "checkpoints" / "llama3-8b"
    suite = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", SUITE,
                              "--num-checkpoints-write=10", "--num-checkpoints-read=10", "--keep-checkpoints",
                              f"--data-dir={tmp_path / 'data'}", f"--results-dir={tmp_path / 'results'}"],
                             cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while not _shards(folder) and time.monotonic() < deadline and suite.poll() is None:
            time.sleep(0.05)
        assert _shards(folder), "the write never started"
        suite.send_signal(signal.SIGTERM)
        out, _ = suite.communicate(timeout=120)
    finally:
        if suite.poll() is None:
            suite.kill()
    assert suite.returncode != 0, out[-3000:]
    assert "interrupted by SIGTERM" in out, out[-3000:]
    leftovers = _shards(folder)
    # Kept (--keep-checkpoints) complete checkpoints may remain; the one being written when SIGTERM came may not.
    complete_dirs = {p.parent for p in leftovers}
    sizes = {d: sorted(p.stat().st_size for p in d.iterdir()) for d in complete_dirs}
    first = next(iter(sizes.values()), None)
    assert all(s == first for s in sizes.values()), sizes
    assert len(complete_dirs) < 10
