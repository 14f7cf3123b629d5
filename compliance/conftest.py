"""`pytest compliance --results-dir=DIR`: one test per (run, rule), per (group, rule) and per layout rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlps_harness.audit import AuditModule, register_protocol
from mlps_harness.plugin import audit_index, order_by_target


def _only_help(config: pytest.Config) -> bool:
    """`pytest compliance --help` / `--version` read no results tree."""
    return bool(getattr(config.option, "help", False) or getattr(config.option, "version", False))


def pytest_configure(config: pytest.Config) -> None:
    if _only_help(config):
        return
    audit_index(config)  # bad --results-dir is a usage error before anything is collected
    register_protocol(config)  # rule items without pytest's per-phase wrappers (-p no:mlps_audit_protocol: off)
    if config.option.tbstyle == "auto":
        # Rule failures carry no useful traceback; the verdict panel lists every finding. (--tb=short restores it.)
        config.option.tbstyle = "no"


def pytest_report_header(config: pytest.Config) -> list[str]:
    """A tree that a suite is still writing is audited as it is now: say so."""
    from mlps_harness.suite.rundirs import writers_of

    if _only_help(config):
        return []
    return [f"warning: a suite is still writing into this results dir ({line}); runs may be missing or incomplete"
            for line in writers_of(audit_index(config).root)]


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector):
    if module_path.name == "test_audit.py" and module_path.parent == Path(__file__).parent:
        return AuditModule.from_parent(parent, path=module_path, index=audit_index(parent.config))
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    order_by_target(items)
