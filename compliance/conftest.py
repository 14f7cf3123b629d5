"""`pytest compliance --results-dir=DIR`: one test per (run, rule), per (group, rule) and per layout rule."""

from __future__ import annotations

import pytest

from mlps_harness.plugin import audit_index, order_by_target, parametrize_rule_cases


def pytest_configure(config: pytest.Config) -> None:
    audit_index(config)  # bad --results-dir is a usage error before anything is collected
    if config.option.tbstyle == "auto":
        # Rule failures carry no useful traceback; the verdict panel lists every finding. (--tb=short restores it.)
        config.option.tbstyle = "no"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    order_by_target(items)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_rule_cases(metafunc, audit_index(metafunc.config))
