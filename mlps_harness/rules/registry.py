"""Rule registration and evaluation.

A rule is one function taking a typed `Run` (scope "run") or `RunGroup` (scope "group") and returning or
yielding `Finding`s; it raises `NotApplicable` when it has nothing to say. Registration records the upstream
rule id, a slug, the benchmark, the commands and the ruleset versions it applies to.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from mlps_harness.outcomes import Division, Finding, NotApplicable, closed, worst
from mlps_harness.rulesets import VERSIONS
from mlps_harness.spec import benchmarks

Scope = Literal["run", "group"]
RuleFn = Callable[[Any], Iterable[Finding] | None]


@dataclass(frozen=True)
class Rule:
    """A registered rule."""

    id: str
    slug: str
    benchmark: str                     #: benchmark directory name, or "*" for every benchmark
    scope: Scope
    category: str                      #: "run", "submission" or "layout"
    fn: RuleFn = field(compare=False)
    commands: tuple[str, ...] | None = None
    versions: tuple[str, ...] = VERSIONS
    #: `<id>-<slug>`, the rule's part of a test id (one string, shared by the rule's 1,000s of cases)
    name: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"{self.id}-{self.slug}")

    @property
    def title(self) -> str:
        doc = inspect.getdoc(self.fn) or self.slug
        return doc.splitlines()[0]

    @property
    def description(self) -> str:
        return inspect.getdoc(self.fn) or ""

    def covers(self, benchmark: str, version: str | None = None) -> bool:
        """Whether the rule judges this benchmark under ruleset `version` (None: whatever the version)."""
        return self.benchmark in ("*", benchmark) and (version is None or version in self.versions)

    def applies(self, benchmark: str, command: str | None, version: str | None = None) -> bool:
        """Whether the rule is collected for a run of this benchmark and command, judged under ruleset `version`
        (None: whatever the version)."""
        return self.covers(benchmark, version) and (self.commands is None or command in self.commands)


REGISTRY: dict[str, Rule] = {}


def rule(rule_id: str, slug: str, *, benchmark: str, scope: Scope = "run", category: str | None = None,
         commands: Iterable[str] | None = ("run",), versions: Iterable[str] = VERSIONS) -> Callable[[RuleFn], RuleFn]:
    """Register the decorated function as a rule."""
    def decorate(fn: RuleFn) -> RuleFn:
        entry = Rule(id=rule_id, slug=slug, benchmark=benchmark, scope=scope,
                     category=category or ("submission" if scope == "group" else "run"), fn=fn,
                     commands=tuple(commands) if commands is not None else None, versions=tuple(versions))
        previous = REGISTRY.get(entry.name)
        if previous is not None and _origin(previous.fn) != _origin(fn):
            raise ValueError(f"rule {entry.name} registered twice ({_origin(previous.fn)} and {_origin(fn)})")
        REGISTRY[entry.name] = entry
        return fn
    return decorate


def _origin(fn: RuleFn) -> str:
    """Where a rule function is defined; a module imported again (reload, in-process pytester) re-registers."""
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


GENERIC_RULE_MODULES = ("mlps_harness.rules.layout", "mlps_harness.rules.submission_tree")


def load_rule_modules() -> None:
    """Import the generic rule modules and every registered benchmark's rule modules."""
    for module in GENERIC_RULE_MODULES:
        importlib.import_module(module)
    for spec in benchmarks().values():
        for module in spec.rule_modules:
            spec.hook(module)


def all_rules() -> list[Rule]:
    """Every registered rule, loading all benchmarks' rule modules first; sorted by benchmark, scope and id."""
    load_rule_modules()
    return sorted(REGISTRY.values(), key=lambda r: (r.benchmark, r.scope, _id_key(r.id), r.slug))


def _id_key(rule_id: str) -> tuple:
    # numbers and the id tagged apart, so "5.3.5" and "H5.3" compare without mixing int and str
    return tuple((0, int(p), "") for p in re.findall(r"\d+", rule_id)) + ((1, 0, rule_id),)


@dataclass
class RuleResult:
    """The outcome of one rule on one target: the worst division of its findings, or not applicable."""

    rule: str
    division: Division | None               #: None when not applicable
    findings: list[Finding]
    reason: str = ""                        #: why the rule does not apply

    @property
    def applicable(self) -> bool:
        return self.division is not None

    def problems(self) -> list[Finding]:
        """The OPEN and INVALID findings, INVALID first."""
        bad = [f for f in self.findings if f.division is not Division.CLOSED]
        return sorted(bad, key=lambda f: -f.division.rank)

    def warnings(self) -> list[Finding]:
        """The warnings (CLOSED-compatible findings that every report shows)."""
        return [f for f in self.findings if f.level == "warning" and f.division is Division.CLOSED]


def evaluate(entry: Rule, target: Any, version: str) -> RuleResult:
    """Run one rule on a run or group. Exceptions other than `NotApplicable` propagate (they are errors)."""
    if version not in entry.versions:
        return RuleResult(entry.name, None, [], f"rule {entry.name} is not part of ruleset {version}")
    try:
        produced = entry.fn(target)
        findings = list(produced) if produced is not None else []
    except NotApplicable as exc:
        return RuleResult(entry.name, None, [], str(exc))
    if not findings:
        satisfied = _SATISFIED.get(entry.name)
        if satisfied is None:   # one (frozen) finding per rule, shared by every target it is satisfied on
            satisfied = _SATISFIED[entry.name] = closed(f"{entry.title}: satisfied")
        return RuleResult(entry.name, Division.CLOSED, [satisfied])
    return RuleResult(entry.name, worst(f.division for f in findings), findings)


_SATISFIED: dict[str, Finding] = {}
