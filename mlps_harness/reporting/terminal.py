"""Terminal output: outcome letters C / O / I with words CLOSED / OPEN / INVALID, and the final verdict panel."""

from __future__ import annotations

import pytest

from mlps_harness.outcomes import Division
from mlps_harness.verdict import book, finding_label

COLOURS = {Division.CLOSED: "green", Division.OPEN: "yellow", Division.INVALID: "red"}


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    if report.when != "call":
        return None
    outcome = dict(report.user_properties).get("mlps_outcome")
    if outcome == "closed" and report.passed:
        return "passed", "C", ("CLOSED", {"green": True})
    if outcome == "open":
        if report.passed:
            return "open", "O", ("OPEN", {"yellow": True})
        return "failed", "O", ("OPEN", {"red": True})
    if outcome == "invalid" and report.failed:
        return "failed", "I", ("INVALID", {"red": True})
    return None


class VerdictFeed:
    """Feeds every test report into the session's verdict book (on the xdist controller, or serially)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        book(self.config).record(report)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ARG001
    if hasattr(config, "workerinput"):
        return
    b = book(config)
    verdict = b.verdict()
    tr = terminalreporter
    if verdict is None:
        if b.counts["na"]:
            tr.write_sep("=", "MLPerf Storage verdict: none (no rule applied)", bold=True)
        return
    tr.write_sep("=", f"MLPerf Storage verdict: {verdict.value}", bold=True, **{COLOURS[verdict]: True})
    counts = ", ".join(f"{n} {k}" for k, n in b.counts.items() if n)
    tr.write_line(f"rule outcomes: {counts}")
    declared = config.getoption("--division")
    if declared:
        ok = verdict is Division.CLOSED or (declared == "open" and verdict is Division.OPEN)
        tr.write_line(f"declared division: {declared.upper()} - "
                      + ("qualifies" if ok else f"does NOT qualify ({verdict.value})"))
    tr.write_line("")
    header = f"{'submission group':44} {'benchmark':15} {'model':14} {'accelerator':11} {'runs':>4}  verdict"
    tr.write_line(header, bold=True)
    for g in sorted(b.groups.values(), key=lambda g: g.group):
        line = (f"{g.group[:44]:44} {g.benchmark[:15]:15} {g.model[:14]:14} "
                f"{','.join(sorted(g.accelerators))[:11] or '-':11} {len(g.runs):>4}  ")
        tr.write(line)
        tr.write_line(g.verdict.value, **{COLOURS[g.verdict]: True})
    problems = b.sorted_problems()
    if problems:
        tr.write_line("")
        warnings = b.warning_count
        tr.write_line(f"findings that keep this from CLOSED ({len(problems) - warnings}; INVALID first)"
                      + (f" and warnings ({warnings}; they do not change the verdict)" if warnings else "") + ":",
                      bold=True)
        for p in problems[:200]:
            where = p.get("run") or p.get("group")
            label = finding_label(p)
            tr.write(f"{label:8}", **({COLOURS[Division(label)]: True} if label in ("OPEN", "INVALID")
                                      else {"yellow": True}))
            tr.write_line(f" {where} [{p.get('rule')}] {p.get('message')}")
            detail = []
            if p.get("file") and p["file"] != where and p["file"] not in p.get("message", ""):
                detail.append(f"file {p['file']}")
            if p.get("parameter"):
                detail.append(f"parameter {p['parameter']}")
            if p.get("expected") is not None or p.get("actual") is not None:
                detail.append(f"expected {p.get('expected')}, actual {p.get('actual')}")
            if detail:
                tr.write_line("           " + "; ".join(detail))
            if p.get("fix"):
                tr.write_line(f"           fix: {p['fix']}")
        if len(problems) > 200:
            tr.write_line(f"... and {len(problems) - 200} more (see --mlps-json or the HTML report)")
