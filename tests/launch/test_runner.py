"""The process runner with real subprocesses: logs, progress, timeouts, signals, markers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from mlps_harness.launch import (
    INCOMPLETE_MARKER,
    RunResult,
    explain_failure,
    read_incomplete_marker,
    run_process,
    write_incomplete_marker,
)

from .conftest import subprocess_env

# A process tree: the parent starts a child that starts a grandchild; one of them
# ignores SIGTERM so stopping needs the KILL escalation. All pids go to a file.
TREE_SCRIPT = textwrap.dedent("""
    import os, subprocess, sys, time
    pid_file = sys.argv[1]
    child = subprocess.Popen(["bash", "-c", "trap '' TERM; sleep 300 & echo $! >> " + pid_file + "; wait"])
    with open(pid_file, "a") as handle:
        handle.write(f"{os.getpid()}\\n{child.pid}\\n")
    print("tree ready", flush=True)
    time.sleep(300)
""")


def _read_pids(pid_file: Path, expected: int, timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid_file.exists():
            pids = [int(line) for line in pid_file.read_text().split()]
            if len(pids) >= expected:
                return pids
        time.sleep(0.05)
    raise AssertionError(f"process tree did not start: {pid_file.read_text() if pid_file.exists() else 'no file'}")


def _survivors(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_output_streams_to_named_log_files(tmp_path):
    script = "import sys\nprint('hello out')\nprint('bad thing', file=sys.stderr)\nsys.exit(3)"
    result = run_process([sys.executable, "-c", script], tmp_path / "run", "training", "datagen")
    assert result.stdout_log == tmp_path / "run" / "training_datagen.stdout.log"
    assert result.stderr_log == tmp_path / "run" / "training_datagen.stderr.log"
    assert result.stdout_log.read_text() == "hello out\n"
    assert result.stderr_log.read_text() == "bad thing\n"
    assert result.returncode == 3 and not result.ok
    assert result.stderr_tail == ["bad thing"]
    assert result.duration_seconds > 0
    message = explain_failure(result, "training datagen")
    assert "exit code 3" in message and "bad thing" in message and str(result.stderr_log) in message


def test_successful_run_and_stderr_tail_keeps_last_lines(tmp_path):
    script = "import sys\nfor i in range(100): print(f'line {i}', file=sys.stderr)"
    result = run_process([sys.executable, "-c", script], tmp_path, "x", "run", tail_lines=5)
    assert result.ok and explain_failure(result) == ""
    assert result.stderr_tail == [f"line {i}" for i in range(95, 100)]
    assert len(result.stderr_log.read_text().splitlines()) == 100


def test_progress_callback_gets_one_compact_line_per_event(tmp_path):
    lines = [
        "[INFO] 2026-01-01T00:00:00 Starting epoch 1: 4 steps expected [x.py:1]",
        "[INFO] 2026-01-01T00:00:00 Starting epoch 1: 4 steps expected [x.py:1]",  # rank 1
        "[INFO] 2026-01-01T00:00:01 Epoch 1 - Block 1 [Training] Accelerator Utilization [AU] (%): 81.2345 [x]",
        "[INFO] 2026-01-01T00:00:02 Ending epoch 1 - 4 steps completed in 2.34 s [x.py:2]",
        "unrelated noise",
    ]
    script = "import sys\n" + "".join(f"print({line!r}, file=sys.stderr, flush=True)\n" for line in lines)
    received: list[str] = []
    result = run_process([sys.executable, "-c", script], tmp_path, "training", "run",
                         on_progress=received.append)
    assert result.ok
    assert received == ["epoch 1: running (4 steps)", "epoch 1: AU 81.2%", "epoch 1: 4 steps in 2.3 s, AU 81.2%"]
    assert [type(line).__name__ for line in received] == ["Interim", "Interim", "str"]   # one final line


def test_timeout_stops_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "pids"
    started = time.monotonic()
    result = run_process([sys.executable, "-c", TREE_SCRIPT, str(pid_file)], tmp_path, "training", "run",
                         timeout=2.0, kill_grace_seconds=0.5)
    pids = _read_pids(pid_file, 3)
    assert result.timed_out and not result.ok
    assert time.monotonic() - started < 15
    assert _survivors(pids) == [], "a process of the tree survived the timeout"
    assert "timed out" in explain_failure(result, "training run")
    assert "tree ready" in result.stdout_log.read_text()


@pytest.mark.parametrize("signal_to_send", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_to_the_caller_stops_the_tree_and_is_reported(tmp_path, signal_to_send):
    pid_file = tmp_path / "pids"
    outcome_file = tmp_path / "outcome.json"
    caller = textwrap.dedent(f"""
        import json, sys
        from mlps_harness.launch import run_process, write_incomplete_marker
        result = run_process([sys.executable, "-c", {TREE_SCRIPT!r}, {str(pid_file)!r}], {str(tmp_path)!r},
                             "training", "run", timeout=120, kill_grace_seconds=0.5)
        if result.interrupted_by:
            write_incomplete_marker({str(tmp_path)!r}, "interrupted by " + result.interrupted_by)
        json.dump({{"interrupted_by": result.interrupted_by, "returncode": result.returncode}},
                  open({str(outcome_file)!r}, "w"))
    """)
    process = subprocess.Popen([sys.executable, "-c", caller], env=subprocess_env())
    try:
        pids = _read_pids(pid_file, 3)
        assert _survivors(pids) == pids
        os.kill(process.pid, signal_to_send)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    outcome = json.loads(outcome_file.read_text())
    assert outcome["interrupted_by"] == signal_to_send.name
    assert _survivors(pids) == []
    marker = read_incomplete_marker(tmp_path)
    assert marker is not None and signal_to_send.name in marker["reason"]


def test_missing_program_gives_exit_127_and_a_hint(tmp_path):
    result = run_process(["/nonexistent/dlio_benchmark"], tmp_path, "training", "run")
    assert result.returncode == 127
    assert "not found" in explain_failure(result)
    assert result.stderr_log.exists()


@pytest.mark.parametrize("stderr_line, expected_hint", [
    ("There are not enough slots available in the system to satisfy the 4 slots", "slots"),
    ("mpirun has detected an attempt to run as root.", "--allow-run-as-root"),
    ("ssh: Could not resolve hostname node7: Name or service not known", "ssh"),
    ("ORTE was unable to reliably start one or more daemons.", "unreachable"),
    ("ModuleNotFoundError: No module named 'tensorflow'", "--with-tensorflow"),
    ("Error executing job with overrides: ['++workload.x=1']", "HYDRA_FULL_ERROR"),
])
def test_failure_hints(tmp_path, stderr_line, expected_hint):
    log = tmp_path / "out.log"
    log.write_text("")
    result = RunResult(["mpirun"], 1, 1.5, log, tmp_path / "err.log", [stderr_line])
    message = explain_failure(result, "training run")
    assert "exit code 1" in message
    assert any(expected_hint in line for line in message.splitlines() if line.startswith("hint:")), message


def test_incomplete_marker_is_json_and_touches_nothing_else(tmp_path):
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "training_run.stdout.log").write_text("partial")
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    path = write_incomplete_marker(tmp_path, "timeout after 10 s", {"returncode": -15})
    assert path == tmp_path / INCOMPLETE_MARKER
    content = json.loads(path.read_text())
    assert content["reason"] == "timeout after 10 s" and content["details"] == {"returncode": -15}
    assert datetime.fromisoformat(content["time"]).tzinfo is not None
    after = {p.name: p.read_text() for p in tmp_path.iterdir() if p.name != INCOMPLETE_MARKER}
    assert after == before
    assert read_incomplete_marker(tmp_path)["reason"] == "timeout after 10 s"
    assert read_incomplete_marker(tmp_path / "missing") is None


def test_checkpoint_workload_lines_become_progress() -> None:
    from mlps_harness.launch.runner import progress_line_from_output

    line = ("[OUTPUT] 2026-11-29T19:00:00.000000 Finished loading checkpoint 7 in 0.2500 s on rank 0; "
            "Throughput: 1.0 GB/s")
    assert progress_line_from_output(line) == "checkpoint 7: loading took 0.25 s"
    assert progress_line_from_output("[OUTPUT] Running checkpoint workload") is None


def test_sigkill_is_reported_as_such_and_not_blamed_on_memory_without_evidence(tmp_path):
    result = run_process([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"],
                         tmp_path, "training", "run")
    assert result.returncode == -signal.SIGKILL
    message = explain_failure(result, "DLIO")
    assert "killed by signal 9 (SIGKILL)" in message, message
    if result.oom_evidence is None:  # nothing in this cgroup's memory.events says the OOM killer acted
        assert "out of memory" not in message and "out-of-memory killer acted" not in message, message
        assert result.cause == "killed by signal 9"


def test_mpirun_reporting_a_rank_killed_by_signal_9_does_not_claim_oom(tmp_path):
    log = tmp_path / "out.log"
    log.write_text("")
    line = "mpirun noticed that process rank 1 with PID 4242 on node vm exited on signal 9 (Killed)."
    message = explain_failure(RunResult(["mpirun"], 137, 3.0, log, tmp_path / "err.log", [line]), "DLIO")
    assert "signal 9" in message and "ran out of memory" not in message, message
    with_evidence = RunResult(["mpirun"], 137, 3.0, log, tmp_path / "err.log", [line],
                              oom_evidence="the kernel's out-of-memory killer acted during the run (x)")
    assert "out-of-memory killer acted" in explain_failure(with_evidence, "DLIO")


@pytest.mark.parametrize("line, cause", [
    ("OSError: [Errno 28] No space left on device: '/mnt/data/train/img_1.npz'", "no space left on /mnt/data/train"),
    ("OSError: [Errno 28] No space left on device", "no space left on the device"),
    ("PermissionError: [Errno 30] Read-only file system: '/srv/out/x.json'", "read-only file system at /srv/out"),
    ("OSError: [Errno 122] Disk quota exceeded: '/home/u/f'", "disk quota exceeded on /home/u"),
])
def test_fatal_output_lines_name_the_cause_and_directory(line, cause):
    from mlps_harness.launch.faults import watch_line

    fault = watch_line(line)
    assert fault is not None and fault.cause == cause
    assert watch_line("epoch 1: AU 95.0%") is None
