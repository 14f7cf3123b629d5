"""`-n N` on an audit (`mlps_harness.audit_pool`): forked processes evaluate the rules, this process reports; every
report, the JUnit file and the verdict are the ones a serial audit makes, crashing rules included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.core.test_audit_protocol import REPORT_DUMPER, _junit
from tests.core.test_plugin_outputs import AU_FAIL_RUN, build_mixed
from tests.helpers import COMPLIANCE


#: 3.3.2 crashes on the run whose AU is low (a rule crash is a test error, counted INVALID)
CRASHER = f"""
from mlps_harness.rules import all_rules

def pytest_configure(config):
    entry = next(rule for rule in all_rules() if rule.name == "3.3.2-au-minimum")
    original = entry.fn

    def crashing(run):
        if run.run_id == {AU_FAIL_RUN!r}:
            raise ZeroDivisionError("injected by the test")
        return original(run)

    object.__setattr__(entry, "fn", crashing)
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    return build_mixed(tmp_path_factory.mktemp("pool") / "results")


def _audit(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mixed: Path, label: str,
           *extra: str) -> tuple[list[dict], bytes, dict, str]:
    dump, junit, verdict = (pytester.path / f"{label}.{ext}" for ext in ("jsonl", "xml", "json"))
    monkeypatch.setenv("DUMP_TO", str(dump))
    result = pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                           "-p", "dumper", "-p", "crasher", "-rA", "--tb=short",
                                           f"--junitxml={junit}", f"--mlps-json={verdict}", *extra)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data = json.loads(verdict.read_text())
    data.pop("run_info", None)
    reports = [json.loads(line) for line in dump.read_text().splitlines()]
    return reports, _junit(junit), data, result.stdout.str()


def test_pool_reports_equal_serial_reports(mixed: Path, pytester: pytest.Pytester,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(dumper=REPORT_DUMPER, crasher=CRASHER)
    pytester.syspathinsert()
    serial = _audit(pytester, monkeypatch, mixed, "serial")
    pooled = _audit(pytester, monkeypatch, mixed, "pool", "-n", "2")
    assert "2 processes parse the runs and evaluate the rules" in pooled[3]
    assert "bringing up nodes" not in pooled[3] and "[gw0]" not in pooled[3]
    crashed = [r for r in serial[0] if r["when"] == "setup" and r["outcome"] == "failed"]
    assert len(crashed) == 1 and AU_FAIL_RUN in crashed[0]["nodeid"]
    assert "ZeroDivisionError: injected by the test" in json.dumps(crashed[0]["longrepr"])
    assert len(serial[0]) > 300 and pooled[0] == serial[0]
    assert pooled[1] == serial[1]
    assert json.dumps(pooled[2], sort_keys=True) == json.dumps(serial[2], sort_keys=True)
    assert serial[2]["verdict"] == "INVALID"


def test_pool_processes_are_gone_after_the_audit(mixed: Path, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                           "-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "2 processes parse the runs" in result.stdout.str()
    left = [p for p in psutil.process_iter(["cmdline"]) if f"--results-dir={mixed}" in (p.info["cmdline"] or [])]
    assert left == []


def test_no_pool_in_a_process_that_runs_other_threads(mixed: Path, pytester: pytest.Pytester) -> None:
    """pytest run inside another program with threads (here: in-process, beside a live thread): forking is not
    safe there, so -n goes to pytest-xdist as without the pool."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        result = pytester.runpytest_inprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                              "-n", "2")
    finally:
        stop.set()
        thread.join()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "processes parse the runs" not in result.stdout.str()


@pytest.mark.parametrize("extra", [("--dist", "load"), ("-p", "no:mlps_audit_pool")], ids=["explicit-dist", "opt-out"])
def test_xdist_when_asked_for(mixed: Path, pytester: pytest.Pytester, extra: tuple[str, ...]) -> None:
    result = pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                           "-q", "-n", "2", *extra)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "bringing up nodes" in out and "processes parse the runs" not in out


def test_ctrl_c_stops_the_audit_and_its_pool(mixed: Path, pytester: pytest.Pytester) -> None:
    """Ctrl-C during a `-n 2` audit: pytest's interrupted exit, no traceback from a pool process, no process left."""
    pytester.makepyfile(slow="import time\n\ndef pytest_runtest_logreport(report):\n    time.sleep(0.01)\n")
    proc = subprocess.Popen([sys.executable, "-m", "pytest", str(COMPLIANCE), f"--results-dir={mixed}", "-q",
                             "-p", "no:cacheprovider", "-p", "slow", "-n", "2"], cwd=pytester.path,
                            env={**os.environ, "PYTHONPATH": str(pytester.path)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(psutil.Process(proc.pid).children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) == 2, "the pool never started"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out[-2000:] + err[-2000:]
    assert "KeyboardInterrupt" in out and "Traceback" not in err
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


#: a pool process dies (as if killed or out of memory) when it evaluates 3.3.2 on the low-AU run
KILLER = f"""
import os

from mlps_harness.rules import all_rules

def pytest_configure(config):
    parent = os.getpid()
    entry = next(rule for rule in all_rules() if rule.name == "3.3.2-au-minimum")
    original = entry.fn

    def dying(run):
        if os.getpid() != parent and run.run_id == {AU_FAIL_RUN!r}:
            os._exit(9)
        return original(run)

    object.__setattr__(entry, "fn", dying)
"""


def test_a_dead_pool_process_costs_speed_only(mixed: Path, pytester: pytest.Pytester,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool process that dies mid-audit: the audit finishes in the pytest process with the serial reports, JUnit
    and verdict, says so, and leaves no process behind."""
    pytester.makepyfile(dumper=REPORT_DUMPER, crasher="", killer=KILLER)
    pytester.syspathinsert()
    serial = _audit(pytester, monkeypatch, mixed, "serial", "-p", "killer")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    pooled = _audit(pytester, monkeypatch, mixed, "pool", "-p", "killer", "-n", "2")
    assert "audit pool: a pool process stopped unexpectedly; the remaining rule tests were evaluated" in pooled[3]
    assert pooled[0] == serial[0] and pooled[1] == serial[1]
    assert json.dumps(pooled[2], sort_keys=True) == json.dumps(serial[2], sort_keys=True)
    assert {p.pid for p in psutil.Process().children(recursive=True)} - before == set()
