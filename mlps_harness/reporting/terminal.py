"""Terminal output: outcome letters C / O / I with words CLOSED / OPEN / INVALID, and the final verdict panel."""

from __future__ import annotations

import pytest

from mlps_harness import properties as prop_names
from mlps_harness.outcomes import Division
from mlps_harness.verdict import book

COLOURS = {Division.CLOSED: "green", Division.OPEN: "yellow", Division.INVALID: "red"}


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    if report.when != "call":
        return None
    outcome = dict(report.user_properties).get(prop_names.OUTCOME)
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
    groups = sorted(b.groups.values(), key=lambda g: g.group)
    rows = [(g.group, g.benchmark, g.model, ",".join(sorted(g.accelerators)) or "-") for g in groups]
    titles = ("submission group", "benchmark", "model", "accelerator")
    widths = [max([len(title), *(len(row[i]) for row in rows)]) for i, title in enumerate(titles)]  # never cut
    header = " ".join(f"{title:{width}}" for title, width in zip(titles, widths)) + f" {'runs':>4}  verdict"
    tr.write_line(header, bold=True)
    for g, row in zip(groups, rows):
        line = " ".join(f"{cell:{width}}" for cell, width in zip(row, widths)) + f" {len(g.runs):>4}  "
        tr.write(line)
        tr.write_line(g.verdict.value, **{COLOURS[g.verdict]: True})
    write_figures(tr, config)
    write_findings(tr, b.sorted_problems(), b.warning_count)


def write_figures(tr, config: pytest.Config) -> None:
    """One table per benchmark: each group's headline figures (and change vs --mlps-compare) and verdict."""
    from mlps_harness.reporting.figures import has_figures, headline_cells
    from mlps_harness.reporting.results import document, output_dir

    doc = document(config)
    by_benchmark: dict[str, list] = {}
    for group in doc.groups:
        by_benchmark.setdefault(group.benchmark_type, []).append(group)
    for benchmark, groups in sorted(by_benchmark.items()):
        tr.write_line("")
        tr.write_line(f"{benchmark} figures", bold=True)
        width = max(len(g.group) for g in groups)
        for g in groups:
            runs = f"{len(g.measured_runs)}/{len([r for r in doc.runs if r.run_id in g.runs and r.metrics is not None])}"
            tr.write(f"  {g.group:{width}} runs {runs:5} ")
            if has_figures(g):
                parts = [f"{label} {text}" + (f" ({change})" if change else "")
                         for label, text, change in headline_cells(g, doc.runs)]
                tr.write(", ".join(parts) + "  ")
            else:
                tr.write("no figures  ")
            verdict = Division(g.category) if g.category else None
            tr.write_line(g.category or "-", **({COLOURS[verdict]: True} if verdict else {}))
    target = output_dir(config)
    if target is not None and doc.runs:
        tr.write_line(f"results: {target / 'results.json'} and results.csv")


def write_findings(tr, problems: list[dict], warnings: int) -> None:
    """Findings, each printed once with the runs it hit ("3 runs: ..."), INVALID first."""
    from mlps_harness.reporting.findings import clustered, where_text

    if not problems:
        return
    entries = clustered(problems)
    tr.write_line("")
    tr.write_line(f"findings that keep this from CLOSED ({len(problems) - warnings}; INVALID first)"
                  + (f" and warnings ({warnings}; they do not change the verdict)" if warnings else "")
                  + f", {len(entries)} distinct:", bold=True)
    for p in entries[:200]:
        label = p["label"]
        tr.write(f"{label:8}", **({COLOURS[Division(label)]: True} if label in ("OPEN", "INVALID")
                                  else {"yellow": True}))
        tr.write_line(f" {where_text(p)} [{p.get('rule')}] {p.get('message')}")
        detail = []
        if p.get("file") and p["count"] == 1 and p["file"] not in p.get("message", "") and p["file"] != p["runs"][0]:
            detail.append(f"file {p['file']}")
        if p.get("parameter"):
            detail.append(f"parameter {p['parameter']}")
        if p.get("expected") is not None or p.get("actual") is not None:
            actual = p.get("actual") if p["same_message"] else ", ".join(p["actuals"][:6]) \
                + (" ..." if len(p["actuals"]) > 6 else "")
            detail.append(f"expected {p.get('expected')}, actual {actual}")
        if detail:
            tr.write_line("           " + "; ".join(detail))
        if p.get("fix"):
            tr.write_line(f"           fix: {p['fix']}")
    if len(entries) > 200:
        tr.write_line(f"... and {len(entries) - 200} more (see --mlps-json or the HTML report)")
