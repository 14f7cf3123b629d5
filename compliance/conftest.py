"""`pytest compliance --results-dir=DIR`: one test per (run, rule), per (group, rule) and per layout rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlps_harness.audit import AuditModule
from mlps_harness.plugin import audit_index, order_by_target


def pytest_configure(config: pytest.Config) -> None:
    audit_index(config)  # bad --results-dir is a usage error before anything is collected
    if config.option.tbstyle == "auto":
        # Rule failures carry no useful traceback; the verdict panel lists every finding. (--tb=short restores it.)
        config.option.tbstyle = "no"


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector):
    if module_path.name == "test_audit.py" and module_path.parent == Path(__file__).parent:
        return AuditModule.from_parent(parent, path=module_path, index=audit_index(parent.config))
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    order_by_target(items)
