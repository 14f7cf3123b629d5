"""Rule tests as lightweight pytest items, for audits of large trees.

`pytest compliance` collects `compliance/test_audit.py` through `AuditModule`: each test function there
(`test_layout`, `test_run`, `test_submission`, marked with a category) becomes one `RuleItem` per case, with the
usual ids (`test_run[training/unet3d/run/20250613_120000::3.3.2-au-minimum]`), `rule(...)` marks, JUnit properties
and report data. Items skip pytest's fixture machinery (a 1,000-run tree has over 20,000 rule tests), but keep its
semantics: the rule is evaluated in `setup()`, so a crash is an error, and the test function maps the outcome.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mlps_harness.cases import RuleCase, as_params, build_cases, evaluate_case

if TYPE_CHECKING:
    from mlps_harness.loader import ResultsIndex


class RuleItem(pytest.Item):
    """One (target, rule) test."""

    def __init__(self, *, case: RuleCase, index: "ResultsIndex", check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.index = index
        self.check = check
        self.outcome = None

    def setup(self) -> None:
        self.outcome = evaluate_case(self.case, self.index, self, self.config.getoption("--division"))

    def runtest(self) -> None:
        self.check(self.outcome)

    def teardown(self) -> None:
        self.outcome = None  # findings are in the report now; do not keep 20,000 of them alive

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name

    def repr_failure(self, excinfo, style=None):  # noqa: ANN001
        if self.outcome is None:  # the rule itself crashed during setup: show where
            return super().repr_failure(excinfo, style="short")
        return super().repr_failure(excinfo, style=style)


class AuditModule(pytest.File):
    """A test module whose category-marked functions are expanded into `RuleItem`s for every case."""

    def __init__(self, *, index: "ResultsIndex", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index

    def collect(self):
        spec = importlib.util.spec_from_file_location(f"mlps_audit_{self.path.stem}", self.path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        functions = [(name, fn) for name, fn in vars(module).items()
                     if name.startswith("test_") and hasattr(fn, "mlps_category")]
        for name, fn in functions:
            for param in as_params(build_cases(self.index, fn.mlps_category)):
                case = param.values[0]
                item = RuleItem.from_parent(self, name=f"{name}[{param.id}]", case=case, index=self.index, check=fn)
                for mark in param.marks:
                    item.add_marker(mark)
                yield item
