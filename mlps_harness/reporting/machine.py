"""Machine-readable output: the JUnit suite property `mlps_verdict` and the `--mlps-json` verdict file.

Both are written on the controller in `pytest_sessionfinish`, so they also work under xdist (where
`record_testsuite_property` is a no-op).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlps_harness.verdict import book


def check_mlps_json(config: pytest.Config) -> None:
    """Refuse an unusable `--mlps-json` path before anything runs (not with a traceback after a long suite)."""
    target = config.getoption("--mlps-json")
    if not target or hasattr(config, "workerinput"):
        return
    path = Path(target).expanduser()
    fix = "give a file path, e.g. --mlps-json=verdict.json"
    if path.is_dir():
        raise pytest.UsageError(f"--mlps-json {target}: is a directory; {fix}")
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise pytest.UsageError(f"--mlps-json {target}: {parent} is not a directory; {fix}")
    if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
        raise pytest.UsageError(f"--mlps-json {target}: {parent} is not writable; {fix} in a writable directory")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:  # noqa: ARG001
    config = session.config
    if hasattr(config, "workerinput"):
        return
    b = book(config)
    verdict = b.verdict()
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - private API moved
        xml_key = None
    xml = config.stash.get(xml_key, None) if xml_key is not None else None
    if xml is not None and verdict is not None:
        xml.add_global_property("mlps_verdict", verdict.value)
    target = config.getoption("--mlps-json")
    if target:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(b.as_json(), indent=2), encoding="utf-8")
        os.replace(tmp, path)
