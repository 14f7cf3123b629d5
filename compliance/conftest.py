"""`pytest compliance --results-dir=DIR`: one test per (run, rule), per (group, rule) and per layout rule."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlps_harness.audit import AuditModule
from mlps_harness.audit_pool import claim_workers
from mlps_harness.audit_protocol import register_protocol
from mlps_harness.plugin import audit_index, order_by_target


def _only_help(config: pytest.Config) -> bool:
    """`pytest compliance --help` / `--version` read no results tree."""
    return bool(getattr(config.option, "help", False) or getattr(config.option, "version", False))


def pytest_configure(config: pytest.Config) -> None:
    if _only_help(config):
        return
    audit_index(config)  # bad --results-dir is a usage error before anything is collected
    if "hypothesis" not in sys.modules and config.pluginmanager.has_plugin("hypothesispytest"):
        # An audit runs no Hypothesis test; the plugin's terminal summary would import all of Hypothesis (~0.3 s)
        # and walk every kept report.
        config.pluginmanager.unregister(name="hypothesispytest")
    claim_workers(config)  # -n N: N processes evaluate the rules ahead of the tests (-p no:mlps_audit_pool: xdist)
    register_protocol(config)  # rule items without pytest's per-phase wrappers (-p no:mlps_audit_protocol: off)
    if config.option.tbstyle == "auto":
        # Rule failures carry no useful traceback; the verdict panel lists every finding. (--tb=short restores it.)
        config.option.tbstyle = "no"


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Without an explicit -r, the audit's short summary lists only rule crashes (E): the verdict panel already lists
    every finding once, with the runs it hit; `-r fE` (or -rA) restores pytest's line per failed rule test."""
    from _pytest.terminal import _REPORTCHARS_DEFAULT

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    given = any(arg.startswith(("-r", "--report-chars")) and not arg.startswith("--results-dir")
                for arg in session.config.invocation_params.args)
    if reporter is not None and session.config.option.reportchars == _REPORTCHARS_DEFAULT and not given:
        reporter.reportchars = "E"


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
