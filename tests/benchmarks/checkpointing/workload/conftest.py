"""Helpers to launch the checkpoint workload under a small mpirun."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import REPO

MPIRUN = shutil.which("mpirun")
MPIRUN_FLAGS = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
TINY_SCALE = 0.0001


@dataclass
class WorkloadRun:
    returncode: int
    stdout: str
    stderr: str
    checkpoint_folder: Path
    output_dir: Path


@pytest.fixture
def run_checkpoint_workload(tmp_path):
    """Callable running ``mpirun -n RANKS python -m mlps_harness.benchmarks.checkpointing.workload``."""
    if MPIRUN is None:
        pytest.skip("mpirun not installed")

    def launch(*extra: str, ranks: int = 2, model: str = "llama3-8b",
               checkpoint_folder: Path | None = None, output_dir: Path | None = None) -> WorkloadRun:
        folder = checkpoint_folder or tmp_path / "ckpt"
        if checkpoint_folder is None:
            folder.mkdir(parents=True, exist_ok=True)
        out = output_dir or tmp_path / "results"
        command = [MPIRUN, *MPIRUN_FLAGS, "-n", str(ranks), sys.executable, "-m",
                   "mlps_harness.benchmarks.checkpointing.workload", "--model", model,
                   "--checkpoint-folder", str(folder), "--output-dir", str(out), *extra]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                              cwd=REPO)
        return WorkloadRun(done.returncode, done.stdout, done.stderr, folder, out)

    return launch
