"""Benchmarks must not run in parallel: a suite refuses pytest-xdist with a clear message."""

from __future__ import annotations

import pytest


def refuse_xdist(config: pytest.Config, suite: str) -> None:
    """Raise a usage error when `-n`/`--dist` would run benchmark stages in parallel workers."""
    numprocesses = getattr(config.option, "numprocesses", None)
    if hasattr(config, "workerinput") or (numprocesses not in (None, 0) and config.option.dist != "no"):
        raise pytest.UsageError(f"{suite}: benchmarks must not run in parallel workers (they would compete for "
                                "the storage under test); drop -n/--numprocesses. Audits may use -n: "
                                "pytest compliance --results-dir=... -n 2")
