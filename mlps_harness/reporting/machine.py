"""Machine-readable output: JUnit suite properties (`mlps_verdict`, `mlps_metric:<group>:<figure>`), the
`--mlps-json` verdict file (with the figures), and results.json/csv (`mlps_harness.reporting.results`).

Both are written on the controller in `pytest_sessionfinish`, so they also work under xdist (where
`record_testsuite_property` is a no-op).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlps_harness import properties as prop_names
from mlps_harness.metrics import lookup
from mlps_harness.reporting import results
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
    doc = results.document(config)
    if xml is not None and verdict is not None:
        xml.add_global_property(prop_names.VERDICT, verdict.value)
    if xml is not None:
        for group in doc.groups:
            for headline in group.headlines:
                value = lookup(group.metrics, headline.key)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    xml.add_global_property(f"{prop_names.METRIC_PREFIX}:{group.group}:{headline.key}", f"{value:.6g}")
    results.write_files(config)
    target = config.getoption("--mlps-json")
    if target:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        data = b.as_json()
        figures = {g.group: g for g in doc.groups}
        for row in data["groups"]:   # each verdict group gains its figures (one entry per accelerator type)
            row["metrics"] = {name: g.metrics for name, g in figures.items() if g.group_id == row["group"]}
        data["results"] = doc.model_dump(mode="json", include={"runs", "groups"})   # no time stamp or argv
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(tmp, path)
