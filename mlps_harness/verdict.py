"""The verdict book: rolls rule outcomes up into a verdict per run, per submission group and overall.

It is fed from test reports (`pytest_runtest_logreport`), which under xdist arrive on the controller with their
JSON-plain `user_properties`, so the verdict is the same serially and with `-n 2`. State lives in
`config.stash`, never in module globals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from mlps_harness import properties as prop_names
from mlps_harness.outcomes import Division, Finding, worst

BOOK_KEY = pytest.StashKey["VerdictBook"]()

OUTCOME_WORDS = ("closed", "open", "invalid", "error", "na")
#: the division each outcome word counts as (None: not applicable, counts as nothing)
_OUTCOME_DIVISION = {"closed": Division.CLOSED, "open": Division.OPEN, "invalid": Division.INVALID,
                     "error": Division.INVALID, "na": None}


@dataclass
class GroupRow:
    group: str
    benchmark: str = ""
    model: str = ""
    accelerators: set[str] = field(default_factory=set)
    runs: set[str] = field(default_factory=set)
    verdict: Division = Division.CLOSED


@dataclass
class VerdictBook:
    """Everything needed for the verdict panel, the HTML summary, JUnit and the JSON verdict."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOME_WORDS, 0))
    runs: dict[str, Division] = field(default_factory=dict)
    groups: dict[str, GroupRow] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    @property
    def evaluated(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "na")

    def verdict(self) -> Division | None:
        """The overall verdict, or None when no rule was evaluated."""
        if not self.evaluated:
            return None
        return worst([*self.runs.values(), *(g.verdict for g in self.groups.values())])

    def record(self, report: pytest.TestReport) -> None:
        """Take one phase report of a rule test into account."""
        when = report.when
        if when == "teardown" or (when == "setup" and report.passed):
            return  # the outcome is in the call report (or a failed/skipped setup)
        props = dict(report.user_properties)
        if prop_names.RULE not in props or report.nodeid in self.seen:
            return
        if when == "setup":
            outcome = "error" if report.failed else "na"
        elif when == "call":
            outcome = props.get(prop_names.OUTCOME, "error" if report.failed else "na")
            if outcome not in _OUTCOME_DIVISION:
                outcome = "error"
        else:
            return
        self.seen.add(report.nodeid)
        self.counts[outcome] += 1
        group_id = props.get(prop_names.GROUP, "")
        group = self.groups.get(group_id)
        if group is None:
            group = self.groups[group_id] = GroupRow(group_id)
        group.benchmark = props.get(prop_names.BENCHMARK, group.benchmark)
        group.model = props.get(prop_names.MODEL, group.model)
        accelerators = props.get(prop_names.ACCELERATOR)
        if accelerators:
            group.accelerators.update(a for a in accelerators.split(",") if a)
        run_id = props.get(prop_names.RUN)
        if run_id and props.get(prop_names.COMMAND) == "run":
            group.runs.add(run_id)
        division = _OUTCOME_DIVISION[outcome]
        if division is None:   # not applicable
            if run_id:
                self.runs.setdefault(run_id, Division.CLOSED)
            return
        if run_id:
            before = self.runs.get(run_id)
            if before is None or division.rank > before.rank:
                self.runs[run_id] = division
        if division.rank > group.verdict.rank:
            group.verdict = division
        if outcome == "error":
            message = str(report.longrepr).strip().splitlines()[-1] if report.longrepr else "rule crashed"
            self.problems.append({"division": "INVALID", "rule": props.get(prop_names.RULE_NAME), "run": run_id,
                                  "group": group.group, "message": f"rule crashed: {message}",
                                  "fix": "report this as a harness bug; the rule could not be evaluated"})
        elif prop_names.FINDINGS in props:   # OPEN and INVALID findings, and the warnings of any outcome
            for finding in json.loads(props[prop_names.FINDINGS]):
                self.problems.append({"rule": props.get(prop_names.RULE_NAME), "run": run_id, "group": group.group,
                                      **finding})

    def sorted_problems(self) -> list[dict[str, Any]]:
        """OPEN and INVALID findings, then warnings; INVALID first, then by group, run and rule."""
        return sorted(self.problems, key=lambda p: (finding_rank(p), p.get("group") or "", p.get("run") or "",
                                                    p.get("rule") or ""))

    @property
    def warning_count(self) -> int:
        return sum(1 for p in self.problems if finding_label(p) == "WARNING")

    def as_json(self) -> dict[str, Any]:
        """The machine-readable verdict (`--mlps-json`)."""
        verdict = self.verdict()
        return {
            "verdict": verdict.value if verdict else None,
            "counts": self.counts,
            "groups": [{"group": g.group, "benchmark": g.benchmark, "model": g.model,
                        "accelerators": sorted(g.accelerators), "runs": len(g.runs),
                        "verdict": g.verdict.value}
                       for g in sorted(self.groups.values(), key=lambda g: g.group)],
            "runs": {run: division.value for run, division in sorted(self.runs.items())},
            "findings": [{**p, "review_level": review_level(p)} for p in self.sorted_problems()
                         if finding_label(p) != "WARNING"],
            "warnings": [{**p, "review_level": review_level(p)} for p in self.sorted_problems()
                         if finding_label(p) == "WARNING"],
        }


def finding_label(finding: dict[str, Any]) -> str:
    """INVALID / OPEN / WARNING for a JSON-plain finding."""
    return "WARNING" if finding.get("level") == "warning" else str(finding.get("division", "INVALID"))


def review_level(finding: dict[str, Any]) -> str:
    """The v3.0 review's level of a JSON-plain finding (`Finding.review_level`): error, warning or info."""
    return Finding(division=finding.get("division") or "INVALID", message="",
                   level=finding.get("level") if finding.get("level") == "warning" else None).review_level


def finding_rank(finding: dict[str, Any]) -> int:
    """Sort key: INVALID, OPEN, WARNING."""
    return {"INVALID": 0, "OPEN": 1, "WARNING": 2}.get(finding_label(finding), 3)


def book(config: pytest.Config) -> VerdictBook:
    """The session's verdict book (created on first use)."""
    if BOOK_KEY not in config.stash:
        config.stash[BOOK_KEY] = VerdictBook()
    return config.stash[BOOK_KEY]
