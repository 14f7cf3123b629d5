"""Issue #15 item 3 for every suite: SIGINT, SIGTERM and SIGHUP stop a suite at any stage, not only while a launch
runs. A real signal reaches the checkpointing suite (two phases) between its write and read launches, or right after
collection; the suite ends with Ctrl-C's status (130), no process of ours is left, partial and session checkpoints
are removed, the finished run stays complete and nothing else was launched. The mechanism itself
(mlps_harness.suite.signals) is checked in-process with pytester."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from mlps_harness.launch import INCOMPLETE_MARKER
from tests.helpers import REPO

SUITE = str(REPO / "suites" / "checkpointing")
SMALL = ["--checkpoint-two-phase", "--checkpoint-size-scale=0.0001", "--num-checkpoints-write=2",
         "--num-checkpoints-read=2"]


def _ours(tmp_path: Path, suite_pid: int) -> list[str]:
    """Processes still alive that belong to this test's suite: in its process group or naming its directories."""
    left = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if process.pid == os.getpid() or process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(process.info["cmdline"] or [])
            if os.getpgid(process.pid) == suite_pid or str(tmp_path) in cmdline:
                left.append(f"{process.pid}: {cmdline[:200]}")
        except (psutil.NoSuchProcess, ProcessLookupError, psutil.AccessDenied):
            pass
    return left


def _run_and_signal(tmp_path: Path, stage: str, stop: signal.Signals) -> tuple[subprocess.Popen, str]:
    held = tmp_path / "held"
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLPS_TEST_PAUSE": stage, "MLPS_TEST_PAUSE_FILE": str(held)}
    suite = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p",
                              "tests.faults.pause_plugin", SUITE, *SMALL, f"--results-dir={tmp_path / 'results'}",
                              f"--data-dir={tmp_path / 'data'}"],
                             cwd=tmp_path, env=env, start_new_session=True, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while not held.exists() and suite.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert held.exists(), (suite.poll(), suite.communicate()[0][-3000:] if suite.poll() is not None else "")
        suite.send_signal(stop)   # to pytest only, as `kill`, a closing terminal or Ctrl-C's SIGINT would
        out, _ = suite.communicate(timeout=120)
    finally:
        if suite.poll() is None:
            os.killpg(suite.pid, signal.SIGKILL)
            suite.wait()
    return suite, out


def _run_dirs(tmp_path: Path) -> list[Path]:
    base = tmp_path / "results" / "checkpointing" / "llama3-8b"
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_between_two_launches_stops_the_suite_cleanly(tmp_path: Path, stop: signal.Signals) -> None:
    suite, out = _run_and_signal(tmp_path, "between", stop)
    assert suite.returncode == 130, out[-3000:]
    assert "Traceback" not in out or "KeyboardInterrupt" in out, out[-3000:]
    if stop is not signal.SIGINT:
        assert stop.name in out, out[-3000:]
    time.sleep(0.5)
    assert _ours(tmp_path, suite.pid) == []
    (write,) = _run_dirs(tmp_path)            # the read launch never started
    assert not (write / INCOMPLETE_MARKER).exists() and (write / "summary.json").is_file()
    checkpoints = tmp_path / "data" / "checkpoints"
    assert not any(p.is_file() for p in checkpoints.rglob("*")), sorted(checkpoints.rglob("*"))[:5]
    assert "checkpoints: removed" in out, out[-3000:]


@pytest.mark.slow
def test_a_signal_after_collection_launches_nothing(tmp_path: Path) -> None:
    suite, out = _run_and_signal(tmp_path, "collection", signal.SIGTERM)
    assert suite.returncode == 130, out[-3000:]
    assert "SIGTERM" in out, out[-3000:]
    assert _run_dirs(tmp_path) == []
    assert _ours(tmp_path, suite.pid) == []


CONFTEST = """
import os, signal, time
import pytest
from mlps_harness.suite.signals import install_stop_signals, interrupt_exits

def pytest_configure(config):
    install_stop_signals(config)
    if os.environ.get("STAGE") == "configure":
        with interrupt_exits(config, "set-up"):
            os.kill(os.getpid(), getattr(signal, os.environ["SIG"]))
            time.sleep(5)

@pytest.fixture(scope="session")
def resource():
    yield "r"
    print("TEARDOWN-RAN")
"""

TEST = """
import os, signal, time

def test_one(resource):
    if os.environ.get("STAGE") == "test":
        os.kill(os.getpid(), getattr(signal, os.environ["SIG"]))
        time.sleep(5)

def test_two(resource):
    pass
"""


@pytest.mark.parametrize("stage", ["configure", "test"])
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_stop_signals_end_the_session_like_ctrl_c(pytester: pytest.Pytester, monkeypatch, stage: str,
                                                  sig: str) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(TEST)
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("SIG", sig)
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", timeout=60)
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == 130, out
    assert "test_two" not in out.split("short test summary")[0] or "PASSED" not in out
    if stage == "test":
        assert "TEARDOWN-RAN" in out, out          # session fixtures are torn down
    else:
        assert f"set-up interrupted by {'Ctrl-C' if sig == 'SIGINT' else sig}" in out, out


def test_without_a_stop_signal_the_status_is_unchanged(pytester: pytest.Pytester, monkeypatch) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(TEST)
    monkeypatch.setenv("STAGE", "none")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    assert result.ret == 0
    result.assert_outcomes(passed=2)
