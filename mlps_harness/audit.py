"""Rule tests as lightweight pytest items, for audits of large trees.

`pytest compliance` collects `compliance/test_audit.py` through `AuditModule`: each test function there
(`test_layout`, `test_run`, `test_submission`, marked with a category) becomes one `RuleItem` per case, with the
usual ids (`test_run[training/unet3d/run/20250613_120000::3.3.2-au-minimum]`), `rule(...)` marks, JUnit properties
and report data. Items skip pytest's fixture machinery (a 1,000-run tree has over 20,000 rule tests), but keep its
semantics: the rule is evaluated in `setup()`, so a crash is an error, and the test function maps the outcome.

`mlps_harness.audit_protocol.AuditProtocol` runs these items without pytest's per-phase wrappers.
"""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mlps_harness import properties as prop_names
from mlps_harness.cases import (
    RuleCase,
    RuleOutcome,
    as_params,
    build_cases,
    evaluate_case,
)
from mlps_harness.direct_hooks import DirectHook

if TYPE_CHECKING:
    import pluggy

    from mlps_harness.loader import ResultsIndex


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


class KeywordsSnapshot(MutableMapping):
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
class ReportHooks:
    logstart: DirectHook
    logreport: DirectHook
    logfinish: DirectHook
    #: logreport without the terminal reporter, for the reports it files under "" and never shows (used only when
    #: `audit_protocol._terminal_ignores` holds: the reporter is pytest's own)
    logreport_unshown: DirectHook


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
        self._report_hooks: ReportHooks | None = None

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

    def report_hooks(self) -> "ReportHooks":
        """The reporting hooks of this module's items, called directly where pluggy's dispatch is not needed."""
        if self._report_hooks is None:
            relay, manager = self.hook_proxy(), self.config.pluginmanager
            self._report_hooks = ReportHooks(
                DirectHook(relay.pytest_runtest_logstart, manager),
                DirectHook(relay.pytest_runtest_logreport, manager),
                DirectHook(relay.pytest_runtest_logfinish, manager),
                DirectHook(relay.pytest_runtest_logreport, manager, skip=manager.get_plugin("terminalreporter")))
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
