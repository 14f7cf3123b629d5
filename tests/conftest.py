"""Fixtures for the harness's own tests: pytester, audits through pytester, suites in real subprocesses."""

from __future__ import annotations

import concurrent.futures.process  # noqa: F401
import json
import multiprocessing.connection  # noqa: F401
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.backends.backend_svg  # noqa: F401
import matplotlib.figure  # noqa: F401
import pytest

from tests.helpers import COMPLIANCE, run_pytest

# pytester's in-process runs put sys.modules back as they found it; numpy (under matplotlib) cannot be imported
# twice in one process, so an HTML report's charts would fail in the second in-process audit of a test session if
# the first one imported the chart stack. Importing it here keeps it loaded for the whole session. The same holds
# for multiprocessing: an in-process audit with -n imports its connection module, and a copy imported again after
# pytester dropped it no longer pickles as the original (milvus-lite's and the vector DB workload's pools then fail).

pytest_plugins = ["pytester"]


class Audit:
    """The outcome of one `pytest compliance` run: the pytester result plus the parsed `--mlps-json`."""

    def __init__(self, result: pytest.RunResult, json_path: Path) -> None:
        self.result = result
        self.text = result.stdout.str() + "\n" + result.stderr.str()
        self.data: dict[str, Any] = json.loads(json_path.read_text()) if json_path.exists() else {}

    @property
    def runs(self) -> dict[str, str]:
        return self.data.get("runs", {})

    @property
    def groups(self) -> dict[str, str]:
        return {g["group"]: g["verdict"] for g in self.data.get("groups", [])}

    def findings(self, run: str | None = None, rule: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.data.get("findings", [])
                if (run is None or f.get("run") == run or f.get("group") == run)
                and (rule is None or (f.get("rule") or "").startswith(rule))]

    def assert_clean(self) -> None:
        """No crash of pytest itself and no traceback shown to the user."""
        assert "INTERNALERROR" not in self.text, self.text
        assert "Traceback" not in self.text, self.text


@pytest.fixture
def audit(pytester: pytest.Pytester) -> Callable[..., Audit]:
    """Run `pytest compliance --results-dir=DIR ...` (in-process, or in a subprocess) and parse its JSON verdict."""
    counter = iter(range(1000))

    def run(results_dir: Path | str, *args: str, subprocess: bool = False) -> Audit:
        json_path = pytester.path / f"verdict-{next(counter)}.json"
        argv = [str(COMPLIANCE), f"--results-dir={results_dir}", "-p", "no:cacheprovider",
                f"--mlps-json={json_path}", *args]
        result = pytester.runpytest_subprocess(*argv) if subprocess else pytester.runpytest(*argv)
        return Audit(result, json_path)

    return run


@pytest.fixture
def suite_runner(tmp_path: Path):
    """Run a suite (or the audit) in a real subprocess with results and data under tmp_path."""
    def run(*args: str, timeout: float = 600, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
        return run_pytest(tmp_path, *args, timeout=timeout, env=env)
    return run
