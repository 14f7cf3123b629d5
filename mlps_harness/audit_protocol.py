"""The audit's runtest protocol: rule items without pytest's per-phase wrappers.

`AuditProtocol` runs `RuleItem`s without pytest's per-phase capture, logging and warnings wrappers (pure rule
evaluation never prints, logs or warns; `tests/core/test_audit_protocol.py` proves it), while still emitting the
setup, call and teardown reports that the terminal, JUnit, pytest-html and xdist rely on. `-p no:mlps_audit_protocol`
switches it off (pytest's own protocol then runs the same items, with the same reports).
"""

from __future__ import annotations

from typing import Any

import pytest
from _pytest.outcomes import Exit
from _pytest.reports import TestReport
from _pytest.runner import CallInfo
from _pytest.terminal import TerminalReporter

from mlps_harness.audit import KeywordsSnapshot, ReportHooks, RuleItem
from mlps_harness.audit_gc import SessionFreeze

PROTOCOL_PLUGIN = "mlps_audit_protocol"
#: plugins whose `pytest_runtest_protocol` the audit's loop may bypass for rule items (pytest's own: the runner, and
#: wrappers that only matter for code that warns, asserts, is a unittest case or needs a faulthandler timeout)
_BYPASSABLE_PROTOCOL = frozenset({"runner", PROTOCOL_PLUGIN, "faulthandler", "unittest", "assertion", "warnings"})
#: `pytest_runtest_makereport` implementations whose effect on a rule item's report is known, so the audit may build
#: the report itself when no other is registered: pytest's runner builds it; unittest, skipping, tmpdir and Hypothesis
#: act only on unittest cases, xfail marks or exceptions, tmp_path users and Hypothesis tests (a rule item is none
#: of them); pytest-html gives every call report its `extras` list, empty for an item without fixtures
_KNOWN_MAKEREPORT = frozenset({"runner", "unittest", "skipping", "tmpdir", "hypothesispytest", "html"})
#: marks that need pytest's skipping plugin in setup/call: an item carrying one runs through pytest's protocol
_PROTOCOL_MARKS = frozenset({"skip", "skipif", "xfail", "usefixtures", "filterwarnings"})


class AuditProtocol:
    """`pytest_runtest_protocol` for `RuleItem`s: the three phase reports, without the per-phase wrappers.

    Per item: logstart, setup (collector chain + rule evaluation), call (the outcome mapping), teardown, each
    through `pytest_runtest_makereport` and `pytest_runtest_logreport`, then logfinish, exactly as pytest's own
    protocol reports them (logstart, logreport and logfinish reach their implementations directly when nothing wraps
    them: `DirectHook`). Skipped: the setup/call/teardown hook calls and their capture, logging, warnings,
    skip-mark and `PYTEST_CURRENT_TEST` wrappers. Options that need those (`--pdb`, `--trace`, `--setup-only`,
    `--setup-show`, `--setup-plan`) and items with skip/xfail marks get pytest's protocol.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.enabled = not any(config.getoption(name, False)
                               for name in ("usepdb", "trace", "setuponly", "setupshow", "setupplan"))
        self.reraise: tuple[type[BaseException], ...] = (Exit, KeyboardInterrupt)
        self.gc = SessionFreeze(config)
        self.unkept: list[Any] | None = None   # the terminal's list of passing setup/teardown reports
        #: on an xdist worker, reports are serialised for the controller: send only what its reporters read
        self.worker = hasattr(config, "workerinput")
        self.direct_reports = False   # build reports without the makereport hook (see `_KNOWN_MAKEREPORT`)
        self.unshown = False   # passing setup/teardown reports skip pytest's terminal (see `_terminal_ignores`)
        self.html_extras = False

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Keep the cyclic GC off what lives until the end: the collected items and results index are frozen, and
        full collections wait (young ones still free the short-lived cycles of skip/fail exceptions). Otherwise every
        full collection walks all items and reports again: ~15 % of a serial audit's time."""
        if self.enabled and any(type(item) is RuleItem for item in session.items):
            self.gc.start()
        pm = session.config.pluginmanager
        makers = {pm.get_name(i.plugin) for i in pm.hook.pytest_runtest_makereport.get_hookimpls()}
        self.direct_reports = makers <= _KNOWN_MAKEREPORT
        self.html_extras = "html" in makers
        terminal = pm.get_plugin("terminalreporter")
        if self.enabled and terminal is not None and session.config.getoption("durations", None) is None:
            self.unkept = terminal.stats.setdefault("", [])
        self.unshown = self.unkept is not None and not self.worker and _terminal_ignores(session.config, terminal)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        """Freeze what the run made too (the reports the terminal keeps live until the end): pytest collects garbage
        twice more before exiting, and each collection would walk all of them."""
        self.gc.again()

    def _owns_loop(self, session: pytest.Session) -> bool:
        """Whether the serial test loop may call this protocol directly for rule items: only pytest's own loop and
        protocol wrappers are registered (no xdist, no timeout or rerun plugin), and no faulthandler timeout."""
        if not self.enabled or session.config.option.collectonly or not session.items:
            return False
        pm = session.config.pluginmanager
        loops = {pm.get_name(i.plugin) for i in pm.hook.pytest_runtestloop.get_hookimpls()
                 if not (i.wrapper or i.hookwrapper)}
        protocols = {pm.get_name(i.plugin) for i in pm.hook.pytest_runtest_protocol.get_hookimpls()}
        timeout = session.config.getini("faulthandler_timeout") or 0
        return loops <= {"main", PROTOCOL_PLUGIN} and protocols <= _BYPASSABLE_PROTOCOL and not float(timeout)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """pytest's serial loop, calling `pytest_runtest_protocol` directly for rule items: the hook call and its
        four per-item wrappers cost more than a rule evaluation. Warnings are still caught and reported, for the
        whole loop (`-W error` still applies); any other item goes through the hook as usual."""
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            return None   # pytest's loop reports the collection errors
        if not self._owns_loop(session):
            return None
        from _pytest.warnings import catch_warnings_for_item

        items = session.items
        with catch_warnings_for_item(config=session.config, ihook=session.config.hook, when="runtest", item=None):
            for i, item in enumerate(items):
                nextitem = items[i + 1] if i + 1 < len(items) else None
                if self.pytest_runtest_protocol(item, nextitem) is None:
                    item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                if session.shouldfail:
                    raise session.Failed(session.shouldfail)
                if session.shouldstop:
                    raise session.Interrupted(session.shouldstop)
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        if type(item) is not RuleItem or not self.enabled \
                or any(mark.name in _PROTOCOL_MARKS for mark in item.own_markers):
            return None
        ihook = item.ihook
        keywords, item.keywords = item.keywords, KeywordsSnapshot(item.keywords, item.parent.keyword_names())
        try:
            self._protocol(item, ihook, nextitem)
        finally:
            item.keywords = keywords
        return True

    def _protocol(self, item: RuleItem, ihook: Any, nextitem: pytest.Item | None) -> None:
        hooks = item.parent.report_hooks()
        hooks.logstart(nodeid=item.nodeid, location=item.location)
        state = item.session._setupstate
        setup = self._phase(item, ihook, hooks, "setup", lambda: state.setup(item))
        call = self._phase(item, ihook, hooks, "call", item.runtest, setup) if setup.passed else None
        session = item.session
        if session.shouldfail or session.shouldstop:
            nextitem = None
        self._phase(item, ihook, hooks, "teardown", lambda: state.teardown_exact(nextitem), setup)
        hooks.logfinish(nodeid=item.nodeid, location=item.location)
        item.user_properties = []   # every report holds them now (JUnit wrote them with the teardown report)
        if self.unkept is not None:
            # The reports the terminal keeps for its summary: every reporter has read their keywords (pytest reads
            # them again only to fold skips of skip-marked items, which take pytest's protocol).
            for kept in (setup, call):
                if kept is not None:
                    kept.keywords = {}

    def _phase(self, item: pytest.Item, ihook: Any, hooks: ReportHooks, when: str, fn: Any,
               first: pytest.TestReport | None = None) -> pytest.TestReport:
        call = CallInfo.from_call(fn, when=when, reraise=self.reraise)
        if self.direct_reports:   # what the hook would return, without its six implementations' dispatch
            report = TestReport.from_item_and_call(item, call)
            if self.html_extras and when == "call":
                report.extras = []
        else:
            report = ihook.pytest_runtest_makereport(item=item, call=call)
        if first is not None:  # the item's three reports share equal keywords and properties: keep one copy
            if report.keywords == first.keywords:
                report.keywords = first.keywords
            if report.user_properties == first.user_properties:
                report.user_properties = first.user_properties
        if self.worker:
            self._lighten(report)
        if self.unshown and when != "call" and report.passed:
            hooks.logreport_unshown(report=report)
        else:
            hooks.logreport(report=report)
        unkept = self.unkept
        if unkept and unkept[-1] is report:
            # The terminal files a passing setup or teardown report under the empty category and reads it again
            # only for --durations (not given: checked above). Every reporter has seen it by now; not keeping
            # it saves two of the three report objects per rule test for the rest of the session.
            unkept.pop()
        return report


    @staticmethod
    def _lighten(report: pytest.TestReport) -> None:
        """A rule item's report as the controller's reporters need it, before xdist serialises it: no keywords
        (read only to fold skip marks, and a rule item with a skip mark runs pytest's protocol), and a passing setup
        report without the properties (the verdict and the letters read the call report's, JUnit the teardown's)."""
        report.keywords = {}
        if report.when == "setup" and report.passed:
            report.user_properties = []


def _terminal_ignores(config: pytest.Config, terminal: object) -> bool:
    """Whether pytest's terminal reporter does nothing with a rule test's passing setup or teardown report but file
    it under the "" category (which the protocol does not keep without --durations): it is pytest's own reporter,
    its progress style does not list per-test times, and the first answer to `pytest_report_teststatus` is ours
    (no outcome letter or word for such a report)."""
    from mlps_harness.reporting import terminal as ours

    if type(terminal) is not TerminalReporter or config.getini("console_output_style") == "times":
        return False
    impls = config.pluginmanager.hook.pytest_report_teststatus.get_hookimpls()
    return bool(impls) and impls[-1].plugin is ours


def register_protocol(config: pytest.Config) -> None:
    """Register `AuditProtocol` (unless `-p no:mlps_audit_protocol` blocks it)."""
    if not config.pluginmanager.has_plugin(PROTOCOL_PLUGIN) and not config.pluginmanager.is_blocked(PROTOCOL_PLUGIN):
        config.pluginmanager.register(AuditProtocol(config), PROTOCOL_PLUGIN)
