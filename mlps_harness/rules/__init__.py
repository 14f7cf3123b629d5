"""The rules engine: small named rule functions in a registry, evaluated into CLOSED / OPEN / INVALID results."""

from mlps_harness.rules.registry import (
    REGISTRY,
    Rule,
    RuleResult,
    all_rules,
    evaluate,
    rule,
)

__all__ = ["REGISTRY", "Rule", "RuleResult", "all_rules", "evaluate", "rule"]
