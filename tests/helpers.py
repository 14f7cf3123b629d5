"""Plain helpers shared by the harness's own tests (fixtures live in tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlps_harness.loader import ResultsIndex
from mlps_harness.testing import rule_result  # noqa: F401 - re-exported for the tests

REPO = Path(__file__).resolve().parents[1]
COMPLIANCE = REPO / "compliance"
#: real upstream trees; CI keeps ../shared beside the clone
SAMPLES = REPO.parent / "shared" / "samples"


def run_ids(root: Path) -> list[str]:
    return [ref.run_id for ref in ResultsIndex(root).refs]


def run_pytest(cwd: Path, *args: str, timeout: float = 600,
               env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
    """`python -m pytest <args>` in `cwd` in a real subprocess, capturing output.

    The suites' default data dir is `$MLPSTORAGE_DATA_DIR` (else a shared directory under the system temp dir): each
    test's suites get their own `<cwd>/data` unless the caller's environment already names one, so tests never share
    datasets, checkpoints or results locks. `env` sets variables for this run (None removes one)."""
    full = {**os.environ}
    full.setdefault("MLPSTORAGE_DATA_DIR", str(Path(cwd) / "data"))
    for name, value in (env or {}).items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=timeout)
