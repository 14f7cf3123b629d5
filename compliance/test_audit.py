"""The audit: every rule of the selected ruleset, on every run and submission group found in --results-dir."""

from __future__ import annotations


def _category(name: str):
    def mark(fn):
        fn.mlps_category = name
        return fn
    return mark


@_category("layout")
def test_layout(mlps_rule_outcome):
    """Layout rules: the run directory's files, names and documents."""
    mlps_rule_outcome.check()


@_category("run")
def test_run(mlps_rule_outcome):
    """Single-run rules."""
    mlps_rule_outcome.check()


@_category("submission")
def test_submission(mlps_rule_outcome):
    """Submission-group rules (run counts, gaps, datagen, consistency)."""
    mlps_rule_outcome.check()
