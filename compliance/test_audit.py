"""The audit: every rule of the selected ruleset, on every run and submission group found in --results-dir.

The shared rule test functions are expanded into one lightweight test per case by `mlps_harness.audit`
(see compliance/conftest.py): `test_layout[<run>::<rule>]`, `test_rules[<run>::<rule>]`,
`test_submission[<group>::<rule>]`.
"""

from mlps_harness.rule_tests import test_layout, test_rules, test_submission  # noqa: F401 - collected here
