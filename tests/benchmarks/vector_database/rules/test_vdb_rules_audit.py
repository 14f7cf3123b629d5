"""Each vector database rule, CLOSED and not, through the real audit (`pytest compliance`) on a hand-built tree."""

from __future__ import annotations

import pytest

from .builders import NOT_COLLECTED, Audit
from .conftest import BOGUS, CLEAN, DEFECTS, IVF, LITE, MISC, PGV, PGV_NATIVE, QDRANT, RECALL, run_id

RUN_RULES = ("H5.1-complete-run", "H5.2-engine-closed", "H5.3-index-type-closed", "H5.4-required-metrics",
             "H5.5-recall-measured", "H5.6-dimension-consistent", "H5.7-inserted-count", "H5.8-minimum-runtime",
             "H5.9-separate-filesystems")
GROUP_RULES = ("H5.10-run-count", "H5.11-load-matches-run", "H5.12-consistent-parameters")

#: (target, rule, v3.0 outcome, v2.0 outcome)
EXPECTED = [
    *[(run_id(CLEAN, 0), r, "closed", "closed") for r in RUN_RULES],
    *[(CLEAN, r, "closed", "closed") for r in GROUP_RULES],
    (run_id(CLEAN, 0, "load"), "H5.2-engine-closed", "closed", "closed"),
    (run_id(CLEAN, 0, "load"), "H5.7-inserted-count", "closed", "closed"),
    (run_id(DEFECTS, 0), "H5.3-index-type-closed", "closed", "closed"),
    (run_id(DEFECTS, 1), "H5.8-minimum-runtime", "invalid", "open"),
    (run_id(DEFECTS, 2), "H5.5-recall-measured", "invalid", "invalid"),
    (run_id(DEFECTS, 3), "H5.4-required-metrics", "invalid", "invalid"),
    (run_id(DEFECTS, 4), "H5.4-required-metrics", "invalid", "invalid"),
    (run_id(DEFECTS, 4), "H6.1-documents-parse", "invalid", "invalid"),
    (run_id(DEFECTS, 5), "H5.6-dimension-consistent", "invalid", "invalid"),
    (run_id(DEFECTS, 6), "H5.7-inserted-count", "invalid", "invalid"),
    (run_id(DEFECTS, 7), "H5.9-separate-filesystems", "invalid", "invalid"),
    (DEFECTS, "H5.10-run-count", "invalid", "closed"),            # 8 runs: exactly 5 in v3.0, >= 5 in v2.0
    (DEFECTS, "H5.11-load-matches-run", "na", "na"),
    (run_id(LITE, 0), "H5.2-engine-closed", "open", "open"),
    (run_id(LITE, 0, "load"), "H5.2-engine-closed", "open", "open"),
    (LITE, "H5.11-load-matches-run", "invalid", "invalid"),
    (LITE, "H5.12-consistent-parameters", "invalid", "invalid"),
    (LITE, "H5.10-run-count", "closed", "closed"),
    (run_id(IVF, 0), "H5.3-index-type-closed", "open", "open"),
    (IVF, "H5.10-run-count", "invalid", "invalid"),
    (run_id(BOGUS, 0), "H5.3-index-type-closed", "invalid", "invalid"),
    (run_id(PGV, 0), "H5.2-engine-closed", "open", "open"),
    (run_id(MISC, 0), "H5.2-engine-closed", "invalid", "invalid"),
    (run_id(MISC, 1), "H5.5-recall-measured", "invalid", "invalid"),
    # no summary.json: a warning when the native statistics hold the metrics (the review published such rows)...
    (run_id(MISC, 2), "H5.1-complete-run", "closed", "closed"),
    (run_id(MISC, 2), "H5.4-required-metrics", "closed", "closed"),
    # ...and INVALID when nothing holds them (the mirror)
    (run_id(MISC, 8), "H5.1-complete-run", "invalid", "invalid"),
    (run_id(MISC, 8), "H5.4-required-metrics", "na", "na"),
    # §5.6.5: supported OPEN backends with native indexes are OPEN; any other backend INVALID
    (run_id(PGV_NATIVE, 0), "H5.2-engine-closed", "open", "open"),
    (run_id(PGV_NATIVE, 0), "H5.3-index-type-closed", "open", "open"),
    (run_id(QDRANT, 0), "H5.2-engine-closed", "invalid", "invalid"),
    (run_id(CLEAN, 0), "H5.3-index-type-closed", "closed", "closed"),
    # recall below the warning line stays CLOSED (a warning); §5.3.5 coverage each side; v2.0 has no §5.3.5
    # (the numbered §5 rules are v3.0's: a v2.0 audit makes no test for them)
    (run_id(RECALL, 0), "H5.5-recall-measured", "closed", "closed"),
    (run_id(RECALL, 0), "5.3.5-ground-truth-coverage", "closed", NOT_COLLECTED),
    (run_id(RECALL, 1), "5.3.5-ground-truth-coverage", "invalid", NOT_COLLECTED),
    (run_id(RECALL, 2), "5.3.5-ground-truth-coverage", "closed", NOT_COLLECTED),
    (run_id(RECALL, 3), "5.3.5-ground-truth-coverage", "invalid", NOT_COLLECTED),
    (run_id(CLEAN, 0), "5.4.1-data-and-results-paths", "closed", NOT_COLLECTED),
    # §5.2.2: the load records a finished index; runs without a load outside a submission tree are audited alone
    # (the INVALID mirror inside closed/ is in test_vdb_build_and_params); §5.6.4 on our own run files
    (CLEAN, "5.2.2-index-build-record", "closed", NOT_COLLECTED),
    (LITE, "5.2.2-index-build-record", "closed", NOT_COLLECTED),
    (DEFECTS, "5.2.2-index-build-record", "na", NOT_COLLECTED),
    (run_id(CLEAN, 0), "5.6.4-closed-parameters", "closed", NOT_COLLECTED),
    (run_id(CLEAN, 0, "load"), "5.6.4-closed-parameters", "closed", NOT_COLLECTED),
    (run_id(MISC, 3), "H6.1-documents-parse", "invalid", "invalid"),
    (run_id(MISC, 3), "H5.6-dimension-consistent", "closed", "closed"),  # config.json still records it
    (run_id(MISC, 4), "H5.3-index-type-closed", "invalid", "invalid"),
    (run_id(MISC, 5), "H5.8-minimum-runtime", "invalid", "open"),
    (run_id(MISC, 6), "H5.1-complete-run", "invalid", "invalid"),
    (run_id(MISC, 7), "H5.5-recall-measured", "invalid", "invalid"),
]


@pytest.mark.parametrize(("target", "rule", "v3", "v2"), EXPECTED, ids=[f"{t}::{r}" for t, r, *_ in EXPECTED])
def test_rule_outcome(audit_v3: Audit, audit_v2: Audit, target: str, rule: str, v3: str, v2: str) -> None:
    assert audit_v3.outcome(target, rule) == v3, audit_v3.findings(target, rule)
    assert audit_v2.outcome(target, rule) == v2, audit_v2.findings(target, rule)


def test_clean_group_is_closed_and_nothing_errors(audit_v3: Audit) -> None:
    groups = {g["group"]: g["verdict"] for g in audit_v3.verdict["groups"]}
    assert groups[CLEAN] == "CLOSED"
    assert groups[LITE] != "CLOSED" and groups[DEFECTS] == "INVALID"
    assert audit_v3.verdict["counts"]["error"] == 0, audit_v3.proc.stdout[-3000:]
    assert audit_v3.verdict["verdict"] == "INVALID"


def test_every_rule_is_collected_for_every_run(audit_v3: Audit) -> None:
    for i in range(5):
        for rule in RUN_RULES:
            assert (run_id(CLEAN, i), rule) in audit_v3.outcomes


def test_every_problem_names_parameter_expected_actual_file_and_fix(audit_v3: Audit) -> None:
    ours = [f for f in audit_v3.verdict["findings"] if f["rule"].startswith("H5.")]
    assert len(ours) >= 15
    for finding in ours:
        missing = [k for k in ("parameter", "expected", "actual", "file", "fix") if not finding.get(k)]
        assert not missing, (missing, finding)


def _warnings(audit: Audit, target: str, rule: str) -> list[dict]:
    return [f for f in audit.verdict["warnings"]
            if f.get("rule") == rule and target in (f.get("run"), f.get("group"))]


def test_low_recall_is_a_warning_with_the_figure_and_the_mirror_is_not(audit_v3: Audit) -> None:
    (low,) = _warnings(audit_v3, run_id(RECALL, 0), "H5.5-recall-measured")
    assert low["actual"] == "0.4" and "far below" in low["message"] and low["expected"] == ">= 0.5"
    assert not _warnings(audit_v3, run_id(RECALL, 1), "H5.5-recall-measured")   # 0.5: on the line, no warning


def test_missing_summary_names_the_statistics_it_read(audit_v3: Audit) -> None:
    (w,) = _warnings(audit_v3, run_id(MISC, 2), "H5.1-complete-run")
    assert "statistics.json" in w["message"]


def test_ground_truth_without_flat_setup_and_missing_verdict_are_warnings(audit_v3: Audit) -> None:
    assert _warnings(audit_v3, run_id(RECALL, 2), "5.3.5-ground-truth-coverage")
    assert _warnings(audit_v3, run_id(CLEAN, 0), "5.3.5-ground-truth-coverage")
    (partial,) = audit_v3.findings(run_id(RECALL, 1), "5.3.5-ground-truth-coverage")
    assert partial["actual"] == "0.9999"


def test_milvus_lite_says_why_it_is_open(audit_v3: Audit) -> None:
    (finding,) = audit_v3.findings(run_id(LITE, 0), "H5.2-engine-closed")
    assert finding["division"] == "OPEN"
    assert "embedded single-process engine" in finding["message"]
    assert "not a storage system under test" in finding["message"]
    assert finding["actual"] == "milvus-lite" and finding["expected"] == "milvus"


def test_recall_zero_cites_issue_805(audit_v3: Audit) -> None:
    (finding,) = audit_v3.findings(run_id(DEFECTS, 2), "H5.5-recall-measured")
    assert "#805" in finding["message"] and finding["actual"] == "0.0"
    assert finding["file"].endswith("summary.json")


def test_each_missing_metric_is_named(audit_v3: Audit) -> None:
    (missing,) = audit_v3.findings(run_id(DEFECTS, 3), "H5.4-required-metrics")
    assert missing["parameter"] == "p999_latency_ms" and missing["actual"] == "absent"
    (nan,) = audit_v3.findings(run_id(DEFECTS, 4), "H5.4-required-metrics")
    assert nan["parameter"] == "throughput_qps" and "not finite" in nan["message"]


def test_wrong_type_is_a_parse_finding_naming_the_key(audit_v3: Audit) -> None:
    (finding,) = audit_v3.findings(run_id(MISC, 3), "H6.1-documents-parse")
    assert finding["file"].endswith("summary.json") and finding["parameter"] == "dimension"


def test_inconsistent_run_is_the_one_named(audit_v3: Audit) -> None:
    (finding,) = audit_v3.findings(LITE, "H5.12-consistent-parameters")
    assert finding["file"] == f"{run_id(LITE, 4)}/summary.json"
    assert (finding["parameter"], finding["expected"], finding["actual"]) == ("num_vectors", "20000", "10000")


def test_load_mismatch_names_the_key(audit_v3: Audit) -> None:
    findings = audit_v3.findings(LITE, "H5.11-load-matches-run")
    got = sorted((f["file"].split("/")[-2], f["parameter"], f["expected"], f["actual"]) for f in findings)
    want = sorted([(run_id(LITE, i).split("/")[-1], "dimension", "64", "128") for i in range(5)]
                  + [(run_id(LITE, 4).split("/")[-1], "num_vectors", "20000", "10000")])
    assert got == want
