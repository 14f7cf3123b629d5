"""Issue #15 item 2: a rank that hits a full disk ends the whole MPI job within seconds, with the real cause."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from mlps_harness.launch import MpiLaunchSpec, build_mpirun_argv, explain_failure, read_incomplete_marker, \
    run_process, write_incomplete_marker
from mlps_harness.suite.rundirs import settle_launch
from tests.launch.conftest import subprocess_env

# Rank 0 writes into the (small) directory until the disk is full, logs the error as DLIO does, and then waits in
# a collective the other rank never joins: without the fault watch this job never ends.
RANK = textwrap.dedent("""
    import sys, time, traceback
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    target = sys.argv[1]
    if comm.rank == 0:
        try:
            with open(target + "/filler.bin", "wb") as out:
                while True:
                    out.write(b"x" * 65536)
                    out.flush()
        except OSError:
            traceback.print_exc()
            sys.stderr.flush()
        comm.Barrier()
    else:
        time.sleep(600)
""")


@pytest.fixture
def mpirun() -> str:
    if shutil.which("mpirun") is None:
        pytest.skip("mpirun not installed (run 'bash scripts/setup.sh')")
    pytest.importorskip("mpi4py")
    return "mpirun"


def test_a_rank_that_fills_the_disk_ends_the_job_within_seconds(tmp_path: Path, tmpfs, mpirun: str) -> None:
    data = tmpfs(size="1m")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    argv = build_mpirun_argv(MpiLaunchSpec(num_ranks=2), [sys.executable, "-c", RANK, str(data)])
    write_incomplete_marker(run_dir, "the run was started but did not finish")
    # The other rank sleeps 600 s: only the fault watch can end this job before the timeout.
    result = run_process(argv, run_dir, "training", "run", timeout=120, env=subprocess_env(),
                         kill_grace_seconds=2, fault_grace_seconds=2, space_dirs=[tmp_path / "elsewhere", data])
    assert not result.timed_out, explain_failure(result, "job")
    assert result.fault is not None and not result.ok
    assert result.cause == f"no space left on {data}"
    message = explain_failure(result, "DLIO")
    assert f"no space left on {data}" in message and "free space" in message, message
    settle_launch(run_dir, result, "run", "DLIO")
    marker = read_incomplete_marker(run_dir)
    assert marker["reason"] == f"no space left on {data}", marker
    assert "interrupted" not in marker["reason"]
