"""Rule cases: one pytest test per (run, rule) and per (group, rule), and the fixtures that evaluate them.

A `RuleCase` names its target (a run id, a group id, or a suite's planned run slot) and a rule. Evaluation
happens in the `mlps_rule_outcome` fixture, so a rule that crashes is a pytest *error* (counted INVALID), while
the test body maps the outcome: CLOSED passes, OPEN passes in its own category (fails under
`--division=closed`), INVALID fails, not applicable skips.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from mlps_harness import properties as prop_names
from mlps_harness.outcomes import Division

if TYPE_CHECKING:
    from mlps_harness.loader import ResultsIndex
    from mlps_harness.rules import Rule, RuleResult


@dataclass(frozen=True, slots=True)
class RuleCase:
    """One (target, rule) pair; `target` is a run id, a group id, or a suite slot resolved later."""

    rule: str
    scope: str
    target: str
    group: str
    benchmark: str
    model: str | None = None

    @property
    def id(self) -> str:
        return f"{self.target}::{self.rule}"


def build_cases(index: "ResultsIndex", category: str) -> list[RuleCase]:
    """Every case of one category ("run", "layout" or "submission") for a discovered tree, in sorted order.

    A rule outside the ruleset its run or group is judged under (`ResultsIndex.version`) makes no case: it could
    only be skipped."""
    from mlps_harness.rules import all_rules

    rules = [r for r in all_rules() if r.category == category]
    cases: list[RuleCase] = []
    if category == "submission":
        groups = index.discovery.groups()
        for group_id in index.group_ids():
            refs = groups[group_id]
            version = index.group_version(group_id)
            for entry in rules:
                if entry.covers(refs[0].benchmark, version):
                    cases.append(RuleCase(entry.name, "group", group_id, group_id, refs[0].benchmark, refs[0].model))
        return cases
    for ref in index.refs:
        version = index.version(ref.run_id)
        for entry in rules:
            if entry.applies(ref.benchmark, ref.command, version):
                cases.append(RuleCase(entry.name, "run", ref.run_id, ref.group_id, ref.benchmark, ref.model))
    return cases


def planned_cases(benchmark: str, model: str | None, slots: dict[str, str], category: str,
                  rules_version: str | None = None) -> list[RuleCase]:
    """Cases for a suite's planned runs: `slots` maps a slot ("run/0", "datagen") to its command. With the plan's
    `rules_version`, the rules of other rulesets make no case (the runs record that version)."""
    from mlps_harness.rules import all_rules

    rules = [r for r in all_rules() if r.category == category]
    if category == "submission":
        return [RuleCase(r.name, "group", "group", "group", benchmark, model)
                for r in rules if r.covers(benchmark, rules_version)]
    return [RuleCase(r.name, "run", slot, "group", benchmark, model)
            for slot, command in slots.items() for r in rules if r.applies(benchmark, command, rules_version)]


def as_params(cases: list[RuleCase]) -> list[Any]:
    """pytest params with readable ids and a `rule(id=..., slug=...)` mark for `-m` selection."""
    from mlps_harness.rules import REGISTRY

    params = []
    marks: dict[str, Any] = {}   # one (immutable) mark per rule, shared by its cases: 20,000+ cases, ~60 rules
    for case in cases:
        mark = marks.get(case.rule)
        if mark is None:
            entry = REGISTRY[case.rule]
            mark = marks[case.rule] = pytest.mark.rule(id=entry.id, slug=entry.slug, benchmark=entry.benchmark,
                                                       scope=entry.scope, category=entry.category)
        params.append(pytest.param(case, id=case.id, marks=[mark]))
    return params


@dataclass
class RuleOutcome:
    """An evaluated case, ready to be turned into a pytest outcome by `check()`."""

    case: RuleCase
    result: "RuleResult"
    declared: str | None          #: the division the user declared ("closed", "open") or None
    #: where check() writes its OPEN / WARNING lines (print: pytest's capture; the audit's items collect them)
    emit: Callable[[str], Any] = field(default=print, repr=False, compare=False)

    def check(self) -> None:
        """Skip, pass or fail the current test according to the rule's division."""
        result = self.result
        if not result.applicable:
            pytest.skip(f"not applicable: {result.reason}")
        problems = result.problems()
        text = "\n".join(_describe(f) for f in problems)
        if result.division is Division.INVALID:
            pytest.fail(f"INVALID: {text}", pytrace=False)
        if result.division is Division.OPEN:
            if self.declared == "closed":
                pytest.fail(f"OPEN (CLOSED division declared): {text}", pytrace=False)
            self.emit(f"MLPERF DIVISION: OPEN - {text}")
        for finding in result.warnings():
            self.emit(f"MLPERF WARNING: {_describe(finding)}")


def _describe(f: Any) -> str:
    parts = [f.message]
    if f.expected is not None or f.actual is not None:
        parts.append(f"(expected {f.expected}, actual {f.actual})")
    if f.file:
        parts.append(f"[{f.file}]")
    if f.fix:
        parts.append(f"fix: {f.fix}")
    return " ".join(parts)


#: one shared (name, value) tuple per distinct property of a target or rule: an audit's 20,000+ tests repeat a few
#: thousand of them, and every report keeps its test's list
_PAIRS: dict[tuple[str, str], tuple[str, str]] = {}
_OUTCOME_PAIRS = {o: ((prop_names.OUTCOME, o), (prop_names.DIVISION, o.upper() if o != "na" else "N/A"))
                  for o in ("closed", "open", "invalid", "na")}


def shared_pair(name: str, value: str) -> tuple[str, str]:
    """The one shared `(name, value)` property tuple for these strings."""
    pair = (name, value)
    return _PAIRS.setdefault(pair, pair)


def evaluate_case(case: RuleCase, index: "ResultsIndex", item: pytest.Item, declared: str | None) -> RuleOutcome:
    """Resolve the case's target, record who it is about on the item, run the rule."""
    from mlps_harness.metrics import attach_run_result
    from mlps_harness.rules import REGISTRY, evaluate

    entry: Rule = REGISTRY[case.rule]
    wanted = index.resolve(case.group if case.scope == "group" else case.target)
    if not index.available(wanted):
        pytest.skip(f"{case.target}: no such run here (its launch failed, was interrupted or was not selected)")
    props = item.user_properties
    props.extend([shared_pair(prop_names.RULE, entry.id), shared_pair(prop_names.RULE_NAME, entry.name),
                  shared_pair(prop_names.GROUP, index.resolve(case.group)),
                  shared_pair(prop_names.BENCHMARK, case.benchmark), shared_pair(prop_names.MODEL, case.model or "")])
    if case.scope == "group":
        target = index.group(index.resolve(case.group))
        version = target.rules_version
        division_dir = next((r.ref.division_dir for r in target.runs if r.ref.division_dir), None)
        accel = sorted({r.accelerator for r in target.runs if r.accelerator})
        props.append(shared_pair(prop_names.ACCELERATOR, ",".join(accel)))
        runs = sum(1 for r in target.runs if r.ref.command == "run")
        props.append(shared_pair(prop_names.GROUP_RUNS, str(runs)))
    else:
        target = index.run(index.resolve(case.target))
        version = target.rules_version
        division_dir = target.ref.division_dir
        props.append(shared_pair(prop_names.RUN, target.run_id))
        props.append(shared_pair(prop_names.COMMAND, target.ref.command or ""))
        props.append(shared_pair(prop_names.ACCELERATOR, target.accelerator or ""))
        attach_run_result(item, target)
    effective = declared or division_dir
    props.append(shared_pair(prop_names.RULES_VERSION, version))
    result = evaluate(entry, target, version)
    outcome = "na" if not result.applicable else result.division.value.lower()
    props.extend(_OUTCOME_PAIRS[outcome])
    problems = result.problems() if result.applicable else []
    if problems:
        props.append((prop_names.EXPECTED, problems[0].expected or ""))
        props.append((prop_names.ACTUAL, problems[0].actual or ""))
    shown = problems + (result.warnings() if result.applicable else [])
    if shown:
        props.append((prop_names.FINDINGS, json.dumps([f.plain() for f in shown])))
    if effective:
        props.append(shared_pair(prop_names.DECLARED, effective))
    return RuleOutcome(case, result, effective)
