"""Names that cross process boundaries: test-report user properties (travel from xdist workers to the controller
and into JUnit XML), the JUnit suite property, and the parameter/attribute names of rule tests.

Every reader and writer imports them from here, so a name is never retyped where it is read.
"""

from __future__ import annotations

# user properties of a rule test's report (JSON-plain strings)
RULE = "mlps_rule"                    #: the rule's upstream id, e.g. 3.3.2
RULE_NAME = "mlps_rule_name"          #: <id>-<slug>
GROUP = "mlps_group"                  #: submission group id
BENCHMARK = "mlps_benchmark"
MODEL = "mlps_model"
ACCELERATOR = "mlps_accelerator"      #: comma-separated accelerator types
GROUP_RUNS = "mlps_group_runs"        #: number of measured runs of a group (group rules)
RUN = "mlps_run"                      #: run id (run rules)
COMMAND = "mlps_command"              #: the run's command (run, datagen, ...)
RULES_VERSION = "mlps_rules_version"
OUTCOME = "mlps_outcome"              #: closed / open / invalid / na
DIVISION = "mlps_division"            #: CLOSED / OPEN / INVALID / N/A
EXPECTED = "mlps_expected"            #: the first problem's expected value
ACTUAL = "mlps_actual"                #: the first problem's actual value
FINDINGS = "mlps_findings"            #: JSON list of the OPEN/INVALID findings and the warnings
DECLARED = "mlps_declared"            #: the division declared (option) or given by the tree (closed/ | open/)
METRICS = "mlps_metrics"              #: JSON of one run's figures (on one test per run)

# JUnit testsuite properties
VERDICT = "mlps_verdict"              #: the overall verdict
METRIC_PREFIX = "mlps_metric"         #: mlps_metric:<group>:<figure>

# rule-test plumbing
CASE_PARAM = "mlps_case"              #: the parametrized argument of the shared rule tests
CATEGORY_ATTR = "mlps_category"       #: attribute of a rule-test function: layout, run or submission
