"""The compliance audit end to end through pytester: outcome mapping, verdicts per run and group, the terminal
panel, JUnit properties, pytest-html, `--mlps-json`, xdist and selection."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlps_harness.benchmarks.training.synthetic import write_training_submission
from mlps_harness.rules import REGISTRY, Rule, all_rules
from tests.helpers import COMPLIANCE

AU_FAIL_RUN = "training/unet3d/run/20250613_112100"      # the third run of the unet3d group


def build_mixed(root: Path) -> Path:
    """cosmoflow: CLOSED; resnet50: OPEN (dataset.format changed); unet3d: one run below the AU minimum."""
    write_training_submission(root, model="cosmoflow", batch_size=1, record_length=2828486,
                              num_files_train=130_000)
    write_training_submission(root, model="resnet50", batch_size=400, record_length=114660.07,
                              num_samples_per_file=1251, num_files_train=3_000,
                              params={"dataset.format": "tfrecord"})
    runs = write_training_submission(root, model="unet3d")
    summary = json.loads((runs[2] / "summary.json").read_text())
    summary["metric"]["train_au_mean_percentage"] = 50.0
    summary["metric"]["train_au_percentage"] = [50.0] * len(summary["metric"]["train_au_percentage"])
    (runs[2] / "summary.json").write_text(json.dumps(summary))
    assert str(runs[2].relative_to(root)) == AU_FAIL_RUN
    return root


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    return build_mixed(tmp_path_factory.mktemp("mixed") / "results")


def test_verdicts_follow_the_rules(audit, mixed):
    res = audit(mixed, "-rA")
    res.assert_clean()
    assert res.result.ret == pytest.ExitCode.TESTS_FAILED
    assert res.data["verdict"] == "INVALID"
    assert res.groups == {"training/cosmoflow": "CLOSED", "training/resnet50": "OPEN", "training/unet3d": "INVALID"}
    unet = {r: v for r, v in res.runs.items() if r.startswith("training/unet3d/")}
    assert unet.pop(AU_FAIL_RUN) == "INVALID" and set(unet.values()) == {"CLOSED"} and len(unet) == 6
    assert {v for r, v in res.runs.items() if r.startswith("training/resnet50/run/")} == {"OPEN"}
    assert [f["rule"] for f in res.findings(run=AU_FAIL_RUN)] == ["3.3.2-au-minimum"]
    assert res.findings(run=AU_FAIL_RUN)[0]["file"] == f"{AU_FAIL_RUN}/summary.json"
    divisions = [f["division"] for f in res.data["findings"]]
    assert divisions == sorted(divisions, key=["INVALID", "OPEN"].index)          # INVALID first

    outcomes = res.result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["open"] == 6 and outcomes["skipped"] > 0
    assert outcomes["passed"] == res.data["counts"]["closed"]
    assert outcomes["skipped"] == res.data["counts"]["na"]

    out = res.result.stdout.str()
    progress = "".join(re.findall(r"^(?:\S*test_audit\.py )?([COIsE]+) +\[ *\d+%\]$", out, re.M))
    assert set(progress) == {"C", "O", "I", "s"} and progress.count("I") == 1
    assert "MLPerf Storage verdict: INVALID" in out
    for group, verdict in res.groups.items():
        assert re.search(rf"^{re.escape(group)}\s+\S+\s+h100\s+\d+/\d+\s+{verdict}\s+\S", out, re.M), group
    panel = out[out.index("MLPerf Storage verdict"):]
    assert panel.index(f"INVALID  {AU_FAIL_RUN} [3.3.2-au-minimum]") < panel.index("OPEN     training/resnet50/run: 6 runs:")
    assert f"file {AU_FAIL_RUN}/summary.json; parameter train_au_mean_percentage" in panel   # the file is named
    assert re.search(r"^INVALID \S*compliance/test_audit.py::test_rules\[training/unet3d/run/20250613_112100::3.3.2", out,
                     re.M)


def test_verbose_words(audit, mixed):
    res = audit(mixed, "-v", "-k", "20250613_112100 and (3.3.2 or 3.6.2)")
    out = res.result.stdout.str()
    assert re.search(r"unet3d/run/20250613_112100::3.3.2-au-minimum\] INVALID", out)
    assert re.search(r"unet3d/run/20250613_112100::3.6.2-allowed-params\] CLOSED", out)
    assert re.search(r"resnet50/run/20250613_112100::3.6.2-allowed-params\] OPEN", out)


def test_open_passes_unless_closed_is_declared(audit, mixed):
    res = audit(mixed, "-k", "resnet50")
    assert res.result.ret == pytest.ExitCode.OK
    outcomes = res.result.parseoutcomes()
    assert outcomes["open"] == 6 and "failed" not in outcomes and outcomes["passed"] > 0
    assert res.data["verdict"] == "OPEN"

    declared = audit(mixed, "-k", "resnet50", "--division=closed")
    assert declared.result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = declared.result.parseoutcomes()
    assert outcomes["failed"] == 6 and "open" not in outcomes
    assert "declared division: CLOSED - does NOT qualify (OPEN)" in declared.result.stdout.str()

    as_open = audit(mixed, "-k", "resnet50", "--division=open")
    assert as_open.result.ret == pytest.ExitCode.OK
    assert "declared division: OPEN - qualifies" in as_open.result.stdout.str()


def test_selection_by_keyword_and_rule_mark(audit, mixed):
    res = audit(mixed, "-k", "unet3d")
    assert set(res.groups) == {"training/unet3d"}
    assert all(r.startswith("training/unet3d/") for r in res.runs)

    marked = audit(mixed, "-m", "rule(id='3.3.2')", "--collect-only", "-q")
    ids = [line for line in marked.result.stdout.lines if "::test_" in line]
    assert len(ids) == 18 and all("::3.3.2-au-minimum]" in i for i in ids)      # 6 runs x 3 models

    marked = audit(mixed, "-m", "rule(id='3.3.2')")
    assert marked.runs == {AU_FAIL_RUN: "INVALID", **{r: "CLOSED" for r in marked.runs if r != AU_FAIL_RUN}}
    assert len(marked.runs) == 18


def test_crashing_rule_is_an_error_and_counts_invalid(audit, mixed, monkeypatch):
    all_rules()

    def crash(run):
        raise RuntimeError("boom in rule")

    entry = Rule(id="T9.9", slug="crash", benchmark="training", scope="run", category="run", fn=crash,
                 commands=("run",))
    monkeypatch.setitem(REGISTRY, entry.name, entry)
    res = audit(mixed, "-k", "cosmoflow")
    assert "INTERNALERROR" not in res.text
    assert res.result.ret == pytest.ExitCode.TESTS_FAILED
    assert res.result.parseoutcomes()["errors"] == 6
    assert res.data["counts"]["error"] == 6
    assert set(res.runs.values()) >= {"INVALID"}
    assert {v for r, v in res.runs.items() if "/run/" in r} == {"INVALID"}
    crashed = [f for f in res.data["findings"] if f["rule"] == "T9.9-crash"]
    assert len(crashed) == 6 and all("boom in rule" in f["message"] for f in crashed)
    assert res.groups["training/cosmoflow"] == "INVALID"


def _junit(path: Path) -> tuple[dict[str, str], list[tuple[str, dict[str, str], bool]]]:
    suite = ET.parse(path).getroot().find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    cases = [(tc.get("name"), {p.get("name"): p.get("value") for p in tc.findall("properties/property")},
              tc.find("failure") is not None) for tc in suite.findall("testcase")]
    return props, cases


@pytest.mark.parametrize("workers", [[], ["-n", "2"], ["-n", "2", "-p", "no:mlps_audit_pool"]],
                         ids=["serial", "pool", "xdist"])
def test_junit_html_and_json(audit, mixed, pytester, workers):
    junit, html = pytester.path / "junit.xml", pytester.path / "report.html"
    res = audit(mixed, f"--junitxml={junit}", f"--html={html}", "--self-contained-html", *workers,
                subprocess=bool(workers))
    res.assert_clean()
    suite_props, cases = _junit(junit)
    assert suite_props["mlps_verdict"] == "INVALID"
    assert len(cases) == sum(res.data["counts"].values())
    for name, props, failed in cases:
        assert props["mlps_rule"] and name.endswith(f"::{props['mlps_rule_name']}]")
        assert props["mlps_division"] in ("CLOSED", "OPEN", "INVALID", "N/A")
        assert failed == (props["mlps_division"] == "INVALID")
    (bad,) = [p for _, p, failed in cases if failed]
    assert (bad["mlps_rule"], bad["mlps_expected"], bad["mlps_actual"]) == ("3.3.2", ">= 90 %", "50.00 %")
    opened = [p for _, p, _ in cases if p["mlps_division"] == "OPEN"]
    assert opened and all(p["mlps_actual"] == "tfrecord" for p in opened)

    page = html.read_text()
    assert re.search(r"<title[^>]*>MLPerf Storage compliance report</title>", page)
    assert 'data-column-type="division">Division</th>' in page
    banner = re.search(r'<div id="mlps-verdict"[^>]*>Verdict: (\w+)</div>', page)
    assert banner and banner.group(1) == "INVALID"
    counts = re.search(r'<table id="mlps-counts">(.*?)</table>', page, re.S).group(1)
    assert f"<td>closed</td><td>{res.data['counts']['closed']}</td>" in counts
    assert "<td>invalid</td><td>1</td>" in counts


@pytest.mark.parametrize(("extra", "shown"), [((), "2 processes parse the runs"),
                                               (("-p", "no:mlps_audit_pool"), "2 workers")], ids=["pool", "xdist"])
def test_n_2_gives_the_same_verdict_and_json(audit, mixed, extra, shown):
    serial = audit(mixed)
    parallel = audit(mixed, "-n", "2", *extra, subprocess=True)
    assert shown in parallel.result.stdout.str()
    assert parallel.result.ret == serial.result.ret == pytest.ExitCode.TESTS_FAILED
    assert parallel.data == serial.data and serial.data["verdict"] == "INVALID"


def test_no_rule_applies_has_no_verdict(audit, tmp_path):
    run = tmp_path / "results" / "kv_cache" / "m" / "run" / "20250613_120000"
    run.mkdir(parents=True)
    (run / "summary.json").write_text("{}")
    res = audit(tmp_path / "results", "-k", "H6.3")
    assert res.data["verdict"] is None and res.data["counts"]["na"] >= 1


@pytest.mark.parametrize("target", ["a-directory", "a-file/verdict.json"])
def test_unusable_mlps_json_path_is_a_usage_error(mixed, pytester, target):
    """A directory (or a path below a file) is refused before the audit runs, not with a traceback at the end
    that leaves a stray temp file beside it."""
    (pytester.path / "a-directory").mkdir()
    (pytester.path / "a-file").write_text("")
    result = pytester.runpytest(str(COMPLIANCE), f"--results-dir={mixed}", "-p", "no:cacheprovider",
                                f"--mlps-json={pytester.path / target}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    out = result.stdout.str() + result.stderr.str()
    assert "--mlps-json" in out and "give a file path" in out and "Traceback" not in out
    assert sorted(p.name for p in pytester.path.iterdir()) == ["a-directory", "a-file"]
