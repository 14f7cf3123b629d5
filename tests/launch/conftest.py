"""Shared helpers for the launcher, DLIO entry and cluster tests."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO as REPO_ROOT


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child Pythons: this checkout first on PYTHONPATH, venv bin on PATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env


@pytest.fixture
def mpirun_path() -> str:
    path = shutil.which("mpirun")
    if path is None:
        pytest.skip("mpirun not installed (run 'bash scripts/setup.sh')")
    return path
