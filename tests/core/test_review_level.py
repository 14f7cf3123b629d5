"""Each finding's v3.0 review level, as --mlps-json and results.json carry it."""

from __future__ import annotations

import pytest

from mlps_harness.metrics import ReviewFinding
from mlps_harness.outcomes import closed, invalid, open_, warning
from mlps_harness.verdict import review_level


@pytest.mark.parametrize("finding, level", [
    (invalid("too few runs"), "error"),
    (open_("scaled run"), "error"),
    (warning("a reviewer would ask"), "warning"),
    (closed("fine"), "info"),
])
def test_plain_findings_keep_the_level_of_their_finding(finding, level: str) -> None:
    assert finding.review_level == level
    assert review_level(finding.plain()) == level
    record = ReviewFinding.model_validate({"rule": "R", "run": "a/b", **finding.plain(), "review_level": level})
    assert record.review_level == level and record.division == finding.division.value


def test_a_crashed_rule_is_an_error() -> None:
    assert review_level({"division": "INVALID", "message": "rule crashed: KeyError"}) == "error"
