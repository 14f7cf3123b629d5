"""The rule test functions shared by `compliance/` and every suite (imported into their test modules).

Each takes the evaluated rule outcome (the `mlps_rule_outcome` fixture in suites; passed directly by the audit's
lightweight items) and maps it to pytest: CLOSED passes, OPEN passes in its own category (fails under
`--division=closed`), INVALID fails, not applicable skips.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def category(name: str) -> Callable[[Callable], Callable]:
    """Mark a rule test function with the rule category it runs ("layout", "run" or "submission")."""
    def mark(fn: Callable) -> Callable:
        fn.mlps_category = name
        return fn
    return mark


@category("layout")
def test_layout(mlps_rule_outcome: Any) -> None:
    """Layout rules: the run directory's files, names and documents."""
    mlps_rule_outcome.check()


@category("run")
def test_rules(mlps_rule_outcome: Any) -> None:
    """Single-run rules."""
    mlps_rule_outcome.check()


@category("submission")
def test_submission(mlps_rule_outcome: Any) -> None:
    """Submission-group rules (run counts, gaps, datagen, consistency)."""
    mlps_rule_outcome.check()
