"""Terminal output: outcome letters C / O / I with words CLOSED / OPEN / INVALID, and the final verdict panel."""

from __future__ import annotations

import pytest

from mlps_harness import properties as prop_names
from mlps_harness.outcomes import Division
from mlps_harness.verdict import book

COLOURS = {Division.CLOSED: "green", Division.OPEN: "yellow", Division.INVALID: "red"}
#: under -q, the group table's rows per benchmark (a whole round's tree has hundreds of groups; every row is still
#: printed without -q, and in the HTML report and results.json)
QUIET_GROUP_ROWS = 100


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    if report.when != "call":
        props = report.user_properties
        if report.passed and props and props[0][0] == prop_names.RULE and not hasattr(report, "wasxfail"):
            return "", "", ""   # a rule test's passing setup or teardown: pytest's own answer, without the others
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
    write_groups(tr, config, sorted(b.groups.values(), key=lambda g: g.group),
                 limit=QUIET_GROUP_ROWS if config.get_verbosity() < 0 else None)
    write_findings(tr, b.sorted_problems(), b.warning_count)


def _figures_text(config: pytest.Config) -> dict[str, tuple[str, str]]:
    """Per group id: (measured/parsed runs, its headline figures with their change vs --mlps-compare)."""
    from mlps_harness.reporting.figures import has_figures, headline_cells
    from mlps_harness.reporting.results import document

    doc = document(config)
    parsed: dict[str, int] = {}
    for run in doc.runs:
        if run.metrics is not None:
            parsed[run.group] = parsed.get(run.group, 0) + 1
    out = {}
    for g in doc.groups:
        text = ", ".join(f"{label} {value}" + (f" ({change})" if change else "")
                         for label, value, change in headline_cells(g, doc.runs)) if has_figures(g) else "no figures"
        out[g.group] = (f"{len(g.measured_runs)}/{parsed.get(g.group, 0)}", text)
    return out


def write_groups(tr, config: pytest.Config, groups: list, limit: int | None = None) -> None:
    """One row per submission group: its names in full, runs, verdict, then its headline figures (one table per
    benchmark, headed "<benchmark> figures"; "runs" = measured runs / runs with figures); at most `limit` rows per
    benchmark, then how many more there are."""
    from mlps_harness.reporting.results import output_dir

    figures = _figures_text(config)
    titles = ("submission group", "model", "accelerator")
    by_benchmark: dict[str, list] = {}
    for g in groups:
        by_benchmark.setdefault(g.benchmark or "-", []).append(g)
    for i, (benchmark, members) in enumerate(sorted(by_benchmark.items())):
        if i:
            tr.write_line("")
        rows = [(g.group, g.model or "-", ",".join(sorted(g.accelerators)) or "-") for g in members]
        widths = [max([len(title), *(len(row[i]) for row in rows)]) for i, title in enumerate(titles)]  # never cut
        tr.write_line(f"{benchmark} figures", bold=True)
        tr.write_line(" ".join(f"{t:{w}}" for t, w in zip(titles, widths)) + f" {'runs':>5}  verdict  figures",
                      bold=True)
        shown = members if limit is None else members[:limit]
        for g, row in zip(shown, rows):
            runs, text = figures.get(g.group, (str(len(g.runs)), "no figures"))
            tr.write(" ".join(f"{cell:{w}}" for cell, w in zip(row, widths)) + f" {runs:>5}  ")
            tr.write(f"{g.verdict.value:7}", **{COLOURS[g.verdict]: True})
            tr.write_line(f"  {text}")
        if len(shown) < len(members):
            hidden = members[len(shown):]
            counts = ", ".join(f"{sum(1 for g in hidden if g.verdict is d)} {d.value}" for d in Division
                               if any(g.verdict is d for g in hidden))
            tr.write_line(f"... {len(hidden)} more {benchmark} groups ({counts}): every row without -q, in --html "
                          "and in --mlps-results")
    target = output_dir(config)
    if target is not None and figures:
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
