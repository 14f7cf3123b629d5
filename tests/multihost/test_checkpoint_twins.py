"""The checkpoint workload on two namespace hosts that share one hostname: its summary.json counts two hosts, each
with its own memory, because nodes are MPI's shared-memory split, not hostnames (issue #12 item 1)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from mlps_harness.dlio.rank_files import rank_file_consistency, read_rank_files

pytestmark = [pytest.mark.multihost, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def test_checkpoint_workload_counts_two_hosts_with_one_hostname(openmpi, netns_cluster_factory, tmp_path):
    twins = netns_cluster_factory(hostnames=["twin", "twin"])
    folder, out = tmp_path / "ckpt", tmp_path / "results"
    folder.mkdir()
    argv = ["mpirun", *twins.mpi_params, "-n", "2", "-H", ",".join(f"{h.address}:1" for h in twins.hosts),
            "-x", "PATH", sys.executable, "-m", "mlps_harness.benchmarks.checkpointing.workload",
            "--model", "llama3-8b", "--checkpoint-folder", str(folder), "--output-dir", str(out),
            "--size-scale", "0.0001", "--num-checkpoints-write", "1", "--num-checkpoints-read", "1",
            "--transfer-size", "256K"]
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=180, cwd=REPO)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_hosts"] == 2                       # not 1: the hostname is the same, the nodes are not
    memory = psutil.virtual_memory().total / (1 << 30)
    assert summary["host_memory_GB"] == pytest.approx([memory, memory], rel=0.01)
    assert summary["workload"]["node_per_rank"] == ["mpi-shm:0", "mpi-shm:1"]
    names = [p.name for p in out.iterdir()]
    outputs, epochs, problems = read_rank_files(str(out), names, "run")
    assert sorted(doc["hostname"] for doc in outputs.values()) == ["twin", "twin"]
    assert problems == [] and rank_file_consistency(summary, outputs, epochs, "run") == []
    deadline = time.monotonic() + 15
    while any(left := {h.name: twins.processes_left(h) for h in twins.hosts}.values()) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(left), left
