"""The audit's own runtest protocol (`mlps_harness.audit_protocol.AuditProtocol`): same reports as pytest's protocol, and
the premise it rests on, that rule evaluation never prints, logs or warns."""

from __future__ import annotations

import json
import logging
import re
import shutil
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from mlps_harness.cases import build_cases, evaluate_case
from mlps_harness.loader import ResultsIndex
from mlps_harness.rules import all_rules
from tests.core.test_plugin_outputs import AU_FAIL_RUN, build_mixed
from tests.helpers import COMPLIANCE, SAMPLES

OFF = ("-p", "no:mlps_audit_protocol")

#: a plugin (`-p dumper`) appending every report, all fields but its timings, as one JSON line to $DUMP_TO
REPORT_DUMPER = """
import json
import os

def pytest_configure(config):
    global CONFIG
    CONFIG = config

def pytest_runtest_logreport(report):
    data = CONFIG.hook.pytest_report_to_serializable(config=CONFIG, report=report)
    for key in ("duration", "start", "stop"):
        data.pop(key, None)
    data["extras"] = getattr(report, "extras", "absent")
    with open(os.environ["DUMP_TO"], "a") as f:
        f.write(json.dumps(data, sort_keys=True, default=str) + "\\n")
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    return build_mixed(tmp_path_factory.mktemp("protocol") / "results")


def _junit(path: Path) -> bytes:
    root = ET.parse(path).getroot()
    for element in root.iter():
        for attribute in ("time", "timestamp", "hostname"):
            element.attrib.pop(attribute, None)
    return ET.tostring(root)


def _html(path: Path, names: list[str]) -> str:
    text = path.read_text()
    for name in names:
        text = text.replace(name, "NAME")
    for off in (" -p no:mlps_audit_protocol", "&#34;-p&#34;, &#34;no:mlps_audit_protocol&#34;, ",
                '"-p", "no:mlps_audit_protocol", ', "&quot;-p&quot;, &quot;no:mlps_audit_protocol&quot;, "):
        text = text.replace(off, "")
    text = re.sub(r"\d+ ms|\d{2}:\d{2}:\d{2}|\d{2}-\w{3}-\d{4}|runpytest-\d+", "T", text)
    return re.sub(r"&#34;duration&#34;: &#34;[^&]*&#34;|\"duration\": \"[^\"]*\"", "D", text)


def _terminal(text: str, names: list[str]) -> list[str]:
    for name in names:
        text = text.replace(name, "NAME")
    return [re.sub(r" in [\d.]+s.*", "", line) for line in text.splitlines() if "no:mlps_audit_protocol" not in line]


def test_reports_equal_pytest_protocol(mixed: Path, pytester: pytest.Pytester) -> None:
    """Terminal (with -rA --tb=short: failures and captured OPEN lines included), JUnit, pytest-html and --mlps-json are the same with the
    audit's protocol as with pytest's own."""
    outputs = {}
    for label, extra in (("fast", ()), ("pytest", OFF)):
        names = [f"junit-{label}.xml", f"report-{label}.html", f"verdict-{label}.json"]
        junit, html, verdict = (pytester.path / n for n in names)
        result = pytester.runpytest_subprocess(
            str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider", "-rA", "--tb=short", f"--junitxml={junit}",
            f"--html={html}", "--self-contained-html", f"--mlps-json={verdict}", *extra)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        data = json.loads(verdict.read_text())
        data.pop("run_info", None)
        outputs[label] = (_terminal(result.stdout.str(), names), _junit(junit), _html(html, names), data)
    fast, plain = outputs["fast"], outputs["pytest"]
    assert "MLPERF DIVISION: OPEN - " in fast[2]       # the OPEN lines, as captured stdout in the rows' logs
    assert any(AU_FAIL_RUN in line and "3.3.2" in line for line in fast[0])
    assert fast[0] == plain[0]
    assert fast[1] == plain[1]
    assert fast[2] == plain[2]
    assert json.dumps(fast[3], sort_keys=True, default=str) == json.dumps(plain[3], sort_keys=True, default=str)


def test_capture_off_prints_open_lines(mixed: Path, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                           "-s", "-q")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "MLPERF DIVISION: OPEN - " in result.stdout.str()


def test_marked_items_get_pytest_protocol(mixed: Path, pytester: pytest.Pytester) -> None:
    """An item a plugin marks xfail runs through pytest's protocol, so the mark is honoured."""
    pytester.makepyfile(markplug="""
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                if "3.3.2-au-minimum" in item.name:
                    item.add_marker(pytest.mark.xfail(reason="known low AU"))
    """)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                           "-p", "markplug", "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("xfailed") == 1 and "failed" not in outcomes


def _trees(tmp_path: Path) -> list[Path]:
    broken = build_mixed(tmp_path / "broken" / "results")
    runs = sorted(p for p in (broken / "training" / "resnet50" / "run").iterdir())
    (runs[0] / "summary.json").write_text('{"metric": {"train_au_mean_percent')       # truncated JSON
    next(runs[1].glob("*_metadata.json")).unlink()                                    # missing metadata
    (runs[2] / "summary.json").write_text(json.dumps({"metric": {"train_au_mean_percentage": "NaN"}}))
    trees = [build_mixed(tmp_path / "mixed" / "results"), broken]
    trees += [p for p in sorted(SAMPLES.glob("upstream-*")) if p.is_dir()] if SAMPLES.is_dir() else []
    return trees


def test_rules_never_print_log_or_warn(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                       caplog: pytest.LogCaptureFixture) -> None:
    """Every case of every category on clean, OPEN, INVALID and broken trees (and the upstream samples): nothing
    on stdout/stderr, no log record, no warning. The audit's protocol drops pytest's capture, logging and warnings
    wrappers on this basis."""

    class Node:
        def __init__(self) -> None:
            self.user_properties: list = []
            self.config = config

    config = SimpleNamespace(stash=pytest.Stash())
    caplog.set_level(logging.DEBUG)
    evaluated: set[str] = set()
    outcomes: set[str] = set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for root in _trees(tmp_path):
            index = ResultsIndex(root)
            for category in ("layout", "run", "submission"):
                for case in build_cases(index, category):
                    node = Node()
                    try:
                        outcome = evaluate_case(case, index, node, None)
                    except pytest.skip.Exception:
                        continue
                    lines: list[str] = []
                    outcome.emit = lines.append
                    try:
                        outcome.check()
                    except (pytest.fail.Exception, pytest.skip.Exception):
                        pass
                    evaluated.add(case.rule)
                    outcomes.add(dict(node.user_properties)["mlps_outcome"])
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert [r.getMessage() for r in caplog.records] == []
    assert [str(w.message) for w in caught] == []
    assert outcomes >= {"closed", "open", "invalid", "na"}
    training = {r.name for r in all_rules() if r.benchmark in ("*", "training")}
    assert len(evaluated & training) >= 0.8 * len(training), sorted(training - evaluated)


def test_gc_state_restored(mixed: Path, pytester: pytest.Pytester) -> None:
    """The protocol freezes the collected items for the run and restores the GC afterwards (in-process run)."""
    import gc

    before = gc.get_threshold(), gc.get_freeze_count()
    result = pytester.runpytest(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider", "-q",
                                "-k", "cosmoflow")
    assert result.ret == pytest.ExitCode.OK
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
    shutil.rmtree(pytester.path / ".pytest_cache", ignore_errors=True)


def test_passing_setup_and_teardown_reports_are_not_kept(mixed: Path, pytester: pytest.Pytester) -> None:
    """The terminal files passing setup/teardown reports under the empty category; the protocol does not keep
    them (two of the three report objects per rule test), unless --durations will read them."""
    pytester.makepyfile(statsplug="""
        import pytest

        @pytest.hookimpl(trylast=True)
        def pytest_terminal_summary(terminalreporter):
            stats = terminalreporter.stats
            kept = sum(len(v) for k, v in stats.items() if k == "")
            calls = sum(1 for k, v in stats.items() if k for r in v if getattr(r, "when", None) == "call")
            terminalreporter.write_line(f"KEPT-EMPTY {kept} CALLS {calls}")
    """)
    pytester.syspathinsert()
    counts = {}
    for label, extra in (("fast", ()), ("pytest", OFF), ("durations", ("--durations=3",))):
        result = pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                               "-p", "statsplug", "-q", *extra)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        line = next(x for x in result.stdout.lines if x.startswith("KEPT-EMPTY"))
        counts[label] = tuple(int(n) for n in line.split()[1::2])
        if label == "durations":
            assert "slowest 3 durations" in result.stdout.str()
            assert any(" setup " in x or " teardown " in x for x in result.stdout.lines if x[:1].isdigit())
    assert counts["fast"][0] == 0 and counts["fast"][1] == counts["pytest"][1] > 0
    assert counts["pytest"][0] > counts["pytest"][1]     # pytest's protocol keeps them: setup + teardown per test
    assert counts["durations"][0] == counts["pytest"][0]


def test_the_audit_loop_still_reports_warnings(mixed: Path, pytester: pytest.Pytester) -> None:
    """The serial loop calls the protocol directly for rule items; a warning raised meanwhile (here by a plugin's
    logstart hook) is still caught and counted (once per audit when identical), and -W error still turns it into an
    error."""
    pytester.makepyfile(warnplug="""
        import warnings

        def pytest_runtest_logstart(nodeid, location):
            if "3.3.2-au-minimum" in nodeid:
                warnings.warn("probe warning from a plugin", UserWarning)
    """)
    pytester.syspathinsert()
    counted = []
    for extra in ((), OFF):
        result = pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                               "-p", "warnplug", "-q", *extra)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        counted.append(result.parseoutcomes().get("warnings"))
    # pytest's protocol counts it once per 3.3.2 test; the audit loop catches warnings for the whole loop, so Python
    # reports an identical warning (same text, same place) once
    assert counted[0] == 1 and counted[1] > 1
    errored = pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                            "-p", "warnplug", "-q", "-W", "error::UserWarning")
    assert "probe warning from a plugin" in errored.stdout.str() + errored.stderr.str()
    assert errored.ret != pytest.ExitCode.OK


def _junit_cases(path: Path) -> dict[str, tuple]:
    """Per test: its properties and outcome elements. A run's `mlps_metrics` rides on the first test of that run
    each process evaluates (a different one per worker), so it is compared per run, not per test."""
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = tuple((p.get("name"), p.get("value")) for p in case.iter("property")
                      if p.get("name") != "mlps_metrics")
        outcome = tuple((child.tag, child.get("message")) for child in case if child.tag != "properties")
        cases[f"{case.get('classname')}::{case.get('name')}"] = (props, outcome)
    return cases


def test_xdist_workers_send_what_the_controller_reads(mixed: Path, pytester: pytest.Pytester) -> None:
    """Under -n, workers drop keywords and a passing setup report's properties before sending: the controller's
    JUnit (properties per test), verdict and letters are the same as a serial audit's."""
    outputs = {}
    for label, extra in (("serial", ()), ("xdist", ("-n", "2", "-p", "no:mlps_audit_pool"))):
        junit, verdict = pytester.path / f"junit-{label}.xml", pytester.path / f"verdict-{label}.json"
        result = pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                               "-q", f"--junitxml={junit}", f"--mlps-json={verdict}", *extra)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        data = json.loads(verdict.read_text())
        data.pop("run_info", None)
        outputs[label] = (_junit_cases(junit), data, result.parseoutcomes())
    serial, xdist = outputs["serial"], outputs["xdist"]
    assert serial[0] == xdist[0] and len(serial[0]) > 100
    metrics = {label: {json.loads(p.get("value"))["run_id"]: p.get("value")
                       for p in ET.parse(pytester.path / f"junit-{label}.xml").getroot().iter("property")
                       if p.get("name") == "mlps_metrics"} for label in outputs}
    assert metrics["serial"] == metrics["xdist"] and metrics["serial"]
    assert any(name == "mlps_outcome" for props, _ in serial[0].values() for name, _ in props)
    assert json.dumps(serial[1], sort_keys=True) == json.dumps(xdist[1], sort_keys=True)
    assert serial[2] == xdist[2]


def test_report_keywords_equal_pytest_protocol(mixed: Path, pytester: pytest.Pytester) -> None:
    """Each report's keywords (walked once per item by the audit's protocol) are the ones pytest's protocol gives,
    and a keyword a plugin adds during the run is seen by the later reports."""
    pytester.makepyfile(kwplug="""
        import json

        import pytest

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_makereport(item, call):
            if call.when == "call":
                item.keywords["added_at_call"] = 1

        def pytest_runtest_logreport(report):
            if "3.3.2-au-minimum" in report.nodeid:
                with open("keywords.jsonl", "a") as f:
                    f.write(json.dumps([report.nodeid, report.when, sorted(report.keywords)]) + "\\n")
    """)
    pytester.syspathinsert()
    seen = {}
    for label, extra in (("fast", ()), ("pytest", OFF)):
        (pytester.path / "keywords.jsonl").unlink(missing_ok=True)
        pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                      "-p", "kwplug", "-q", *extra)
        seen[label] = [json.loads(line) for line in (pytester.path / "keywords.jsonl").read_text().splitlines()]
    assert seen["fast"] == seen["pytest"] and len(seen["fast"]) >= 3
    assert any("rule" in kw and "compliance" in kw for _, _, kw in seen["fast"])
    assert {when for _, when, kw in seen["fast"] if "added_at_call" in kw} == {"call", "teardown"}


def test_reports_built_without_the_hook_equal_the_hooks(mixed: Path, pytester: pytest.Pytester,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """With only pytest's own and known makereport implementations registered, the audit builds each report itself:
    every report (all fields but timings) is the one pytest's protocol makes through the hook; a plugin that adds a
    makereport implementation gets the hook again."""
    pytester.makepyfile(dumper=REPORT_DUMPER)
    pytester.makepyfile(probe="""
        import pytest

        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(session):
            protocol = session.config.pluginmanager.get_plugin("mlps_audit_protocol")
            with open("direct.txt", "w") as f:
                f.write(str(getattr(protocol, "direct_reports", None)))
    """)
    pytester.makepyfile(maker="""
        def pytest_runtest_makereport(item, call):
            return None
    """)
    pytester.syspathinsert()
    seen = {}
    for label, extra in (("direct", ()), ("pytest", OFF), ("hook", ("-p", "maker"))):
        dump = pytester.path / f"reports-{label}.jsonl"
        monkeypatch.setenv("DUMP_TO", str(dump))
        pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                      "-p", "dumper", "-p", "probe", "-q", *extra)
        lines = dump.read_text().splitlines()
        seen[label] = ([json.loads(line) for line in lines], (pytester.path / "direct.txt").read_text())
    assert seen["direct"][1] == "True" and seen["hook"][1] == "False" and seen["pytest"][1] == "None"
    assert seen["direct"][0] == seen["pytest"][0] == seen["hook"][0]
    reports = seen["direct"][0]
    assert len(reports) > 100 and {r["outcome"] for r in reports} >= {"passed", "failed", "skipped"}
    assert {json.dumps(r["extras"]) for r in reports if r["when"] == "call"} == {"[]"}
