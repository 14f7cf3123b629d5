"""The audit: every rule of the selected ruleset, on every run and submission group found in --results-dir.

Each function below becomes one test per case (see mlps_harness.audit_items): its argument is the evaluated
rule outcome, and `check()` turns it into CLOSED (pass), OPEN (pass, or fail under --division=closed),
INVALID (fail) or not applicable (skip).
"""

from __future__ import annotations


def _category(name: str):
    def mark(fn):
        fn.mlps_category = name
        return fn
    return mark


@_category("layout")
def test_layout(outcome):
    """Layout rules: the run directory's files, names and documents."""
    outcome.check()


@_category("run")
def test_run(outcome):
    """Single-run rules."""
    outcome.check()


@_category("submission")
def test_submission(outcome):
    """Submission-group rules (run counts, gaps, datagen, consistency)."""
    outcome.check()
