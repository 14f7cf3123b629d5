"""Rule tests as lightweight pytest items, for audits of large trees.

`pytest compliance` collects `compliance/test_audit.py` through `AuditModule`: each test function there
(`test_layout`, `test_run`, `test_submission`, marked with a category) becomes one `RuleItem` per case, with the
usual ids (`test_run[training/unet3d/run/20250613_120000::3.3.2-au-minimum]`), `rule(...)` marks, JUnit properties
and report data. Items skip pytest's fixture machinery (a 1,000-run tree has over 20,000 rule tests), but keep its
semantics: the rule is evaluated in `setup()`, so a crash is an error, and the test function maps the outcome.

`AuditProtocol` runs these items without pytest's per-phase capture, logging and warnings wrappers (pure rule
evaluation never prints, logs or warns; `tests/core/test_audit_protocol.py` proves it), while still emitting the
setup, call and teardown reports that the terminal, JUnit, pytest-html and xdist rely on. `-p no:mlps_audit_protocol`
switches it off (pytest's own protocol then runs the same items, with the same reports).
"""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _pytest.outcomes import Exit
from _pytest.reports import TestReport
from _pytest.runner import CallInfo

from mlps_harness import properties as prop_names
from mlps_harness.audit_gc import SessionFreeze
from mlps_harness.cases import RuleCase, RuleOutcome, as_params, build_cases, evaluate_case
from mlps_harness.direct_hooks import DirectHook

if TYPE_CHECKING:
    import pluggy

    from mlps_harness.loader import ResultsIndex

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


class RuleItem(pytest.Item):
    """One (target, rule) test."""

    pool: Any = None   #: under `-n N`, the `AuditPool` that evaluates this item's case ahead of the loop

    def __init__(self, *, case: RuleCase, index: "ResultsIndex", check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.index = index
        self.check = check
        self.outcome = None

    @property
    def ihook(self) -> "pluggy.HookRelay":
        """The module's hook proxy, looked up once per module instead of once per item and phase."""
        return self.parent.hook_proxy()

    def evaluate(self) -> RuleOutcome:
        """Evaluate this item's case (its properties go on the item); a crash or a skip propagates."""
        return evaluate_case(self.case, self.index, self, self.parent.options().declared)

    def setup(self) -> None:
        pooled = self.pool.outcome(self) if self.pool is not None else None
        self.outcome = pooled or self.evaluate()

    def runtest(self) -> None:
        if self.parent.options().capture_off:
            self.check(self.outcome)
            return
        lines: list[str] = []
        self.outcome.emit = lines.append   # what check() would print: a report section, as capture makes it
        try:
            self.check(self.outcome)
        finally:
            if lines:
                self.add_report_section("call", "stdout", "".join(f"{line}\n" for line in lines))

    def teardown(self) -> None:
        self.outcome = None  # findings are in the report now; do not keep 20,000 of them alive

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name

    def listchain(self) -> list[pytest.Node]:
        """The collectors from the session down to this item (the module's chain is walked once, not per call)."""
        return [*self.parent.chain(), self]

    def repr_failure(self, excinfo, style=None):  # noqa: ANN001
        if self.outcome is None:  # the rule itself crashed during setup: show where
            return super().repr_failure(excinfo, style="short")
        return super().repr_failure(excinfo, style=style)


class _KeywordsSnapshot(MutableMapping):
    """An item's keywords while its protocol runs: pytest walks them (item, module, package ... session) for every
    report; this lists them once, from the item's own and its module's (listed once per module), and answers from
    that list until a keyword is added to the item."""

    __slots__ = ("_base", "_names", "_inherited")

    def __init__(self, base: MutableMapping, inherited: tuple[str, ...] | None = None) -> None:
        self._base = base
        self._names: tuple[str, ...] | None = None
        self._inherited = inherited

    def __iter__(self):
        if self._names is None:
            own = getattr(self._base, "_markers", None)   # pytest's NodeKeywords: the node's own, then its parent's
            if isinstance(own, dict) and self._inherited is not None:
                self._names = (*own, *(name for name in self._inherited if name not in own))
            else:
                self._names = tuple(self._base)
        return iter(self._names)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __getitem__(self, key: str) -> Any:
        return self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._base

    def __setitem__(self, key: str, value: Any) -> None:
        self._base[key] = value
        self._names = None

    def __delitem__(self, key: str) -> None:
        del self._base[key]


@dataclass(frozen=True)
class _ReportHooks:
    logstart: DirectHook
    logreport: DirectHook
    logfinish: DirectHook


@dataclass(frozen=True)
class _ItemOptions:
    declared: str | None   #: `--division`
    capture_off: bool      #: `-s`: check() prints, as a test function would


class AuditModule(pytest.File):
    """A test module whose category-marked functions are expanded into `RuleItem`s for every case."""

    def __init__(self, *, index: "ResultsIndex", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index
        self._hook_proxy: "pluggy.HookRelay | None" = None
        self._chain: list[pytest.Node] | None = None
        self._keyword_names: tuple[str, ...] | None = None
        self._options: _ItemOptions | None = None
        self._report_hooks: _ReportHooks | None = None

    def options(self) -> "_ItemOptions":
        """The options every item of this module reads, read once."""
        if self._options is None:
            self._options = _ItemOptions(declared=self.config.getoption("--division"),
                                         capture_off=self.config.getoption("capture") == "no")
        return self._options

    def keyword_names(self) -> tuple[str, ...]:
        """This module's keywords and its parents', listed once: what every item's keywords end with."""
        if self._keyword_names is None:
            self._keyword_names = tuple(self.keywords)
        return self._keyword_names

    def chain(self) -> list[pytest.Node]:
        """`listchain()`, kept: a module's collectors do not change once it is collected."""
        if self._chain is None:
            self._chain = self.listchain()
        return self._chain

    def hook_proxy(self) -> "pluggy.HookRelay":
        """`self.ihook`, cached (every item of this module shares the module's path and conftests)."""
        if self._hook_proxy is None:
            self._hook_proxy = self.ihook
        return self._hook_proxy

    def report_hooks(self) -> "_ReportHooks":
        """The reporting hooks of this module's items, called directly where pluggy's dispatch is not needed."""
        if self._report_hooks is None:
            relay, manager = self.hook_proxy(), self.config.pluginmanager
            self._report_hooks = _ReportHooks(DirectHook(relay.pytest_runtest_logstart, manager),
                                              DirectHook(relay.pytest_runtest_logreport, manager),
                                              DirectHook(relay.pytest_runtest_logfinish, manager))
        return self._report_hooks

    def collect(self) -> list[pytest.Item]:
        spec = importlib.util.spec_from_file_location(f"mlps_audit_{self.path.stem}", self.path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        functions = [(name, fn) for name, fn in vars(module).items()
                     if name.startswith("test_") and hasattr(fn, prop_names.CATEGORY_ATTR)]
        items: list[pytest.Item] = []
        where: str | None = None
        paused = gc.isenabled()
        gc.disable()   # building 20,000+ items makes no garbage cycles, but would trigger full collections (~0.2 s)
        try:
            for name, fn in functions:
                for param in as_params(build_cases(self.index, fn.mlps_category)):
                    item = RuleItem.from_parent(self, name=f"{name}[{param.id}]", case=param.values[0],
                                                index=self.index, check=fn)
                    for mark in param.marks:
                        item.add_marker(mark)
                    if where is None:
                        where = item.location[0]
                    else:   # what pytest computes per item (its path relative to the rootdir), computed once
                        item.location = (where, None, item.name)
                    items.append(item)
        finally:
            if paused:
                gc.enable()
        return items


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
        keywords, item.keywords = item.keywords, _KeywordsSnapshot(item.keywords, item.parent.keyword_names())
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

    def _phase(self, item: pytest.Item, ihook: Any, hooks: _ReportHooks, when: str, fn: Any,
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


def register_protocol(config: pytest.Config) -> None:
    """Register `AuditProtocol` (unless `-p no:mlps_audit_protocol` blocks it)."""
    if not config.pluginmanager.has_plugin(PROTOCOL_PLUGIN) and not config.pluginmanager.is_blocked(PROTOCOL_PLUGIN):
        config.pluginmanager.register(AuditProtocol(config), PROTOCOL_PLUGIN)
