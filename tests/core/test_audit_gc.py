"""The audit's GC policy (`mlps_harness.audit_gc`): frozen while the session runs, given back at the end of the
configuration, and frozen again at interpreter exit so CPython's shutdown collections do not walk the session."""

from __future__ import annotations

import atexit
import gc
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlps_harness import audit_gc
from tests.core.test_plugin_outputs import build_mixed
from tests.helpers import COMPLIANCE

#: a plugin (`-p exitprobe`) whose exit handler, registered at import and so run after any registered later (LIFO),
#: writes how many objects are frozen when the interpreter exits
EXIT_PROBE = """
import atexit
import gc
import os

def _probe():
    with open(os.environ["PROBE_TO"], "w") as f:
        f.write(str(gc.get_freeze_count()))

atexit.register(_probe)
"""


def _audit(tree: Path, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, int]:
    (tmp_path / "exitprobe.py").write_text(EXIT_PROBE)
    probe = tmp_path / "frozen.txt"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "PROBE_TO": str(probe)}
    proc = subprocess.run([sys.executable, "-m", "pytest", str(COMPLIANCE), f"--results-dir={tree}", "-q",
                           "-p", "no:cacheprovider", "-p", "exitprobe", *extra],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    return proc, int(probe.read_text())


def test_session_is_frozen_at_interpreter_exit(tmp_path: Path) -> None:
    """A real audit process exits with its objects frozen, and its reports are complete; with the protocol plugin
    blocked nothing freezes (the probe can tell)."""
    tree = build_mixed(tmp_path / "results")
    proc, frozen = _audit(tree, tmp_path, f"--junitxml={tmp_path / 'audit.xml'}")
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, proc.stdout[-2000:] + proc.stderr[-2000:]
    cases = ET.parse(tmp_path / "audit.xml").getroot().iter("testcase")
    assert sum(1 for _ in cases) > 50   # the JUnit report was written whole before exit
    assert frozen > 10_000   # the items, reports and modules: far more objects than rule tests

    proc, frozen = _audit(tree, tmp_path, "-p", "no:mlps_audit_protocol")
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert frozen == 0


def test_exit_freeze_is_armed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """However many in-process audits release their freeze, one exit handler is registered."""
    monkeypatch.setattr(audit_gc, "_exit_freeze_armed", False)
    registered: list[object] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    audit_gc.arm_exit_freeze()
    audit_gc.arm_exit_freeze()
    assert registered == [gc.freeze]


def test_release_restores_thresholds_and_arms_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """start/again/release leave the GC as they found it and arm the exit freeze only after a freeze."""
    armed: list[bool] = []
    monkeypatch.setattr(audit_gc, "arm_exit_freeze", lambda: armed.append(True))
    cleanups: list = []
    config = type("Config", (), {"add_cleanup": staticmethod(cleanups.append)})()
    before = gc.get_threshold(), gc.get_freeze_count()
    unused = audit_gc.SessionFreeze(config)
    unused.release()
    assert armed == [] and (gc.get_threshold(), gc.get_freeze_count()) == before
    policy = audit_gc.SessionFreeze(config)
    try:
        policy.start()
        assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] >= audit_gc.YOUNG_THRESHOLD
        policy.again()
    finally:
        policy.release()
    assert armed == [True] and (gc.get_threshold(), gc.get_freeze_count()) == before
    assert cleanups == [unused.release, policy.release]
