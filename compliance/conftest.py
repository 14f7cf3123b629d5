"""`pytest compliance --results-dir=DIR`: one test per (run, rule), per (group, rule) and per layout rule."""

from __future__ import annotations

import pytest

from mlps_harness.plugin import audit_index, parametrize_rule_cases


def pytest_configure(config: pytest.Config) -> None:
    audit_index(config)  # bad --results-dir is a usage error before anything is collected


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_rule_cases(metafunc, audit_index(metafunc.config))
