"""Helpers for the suite tests: run pytest on a suite in a real subprocess from a scratch directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_pytest(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m pytest <args>` in `cwd`, capturing output."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def suite_runner(tmp_path: Path):
    """Run a suite (or the audit) with results and data under tmp_path."""
    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return run_pytest(tmp_path, *args, timeout=timeout)
    return run
