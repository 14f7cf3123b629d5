"""pytest-html integration: report title, a sortable Division column, a verdict banner, counts and groups."""

from __future__ import annotations

import html

import pytest

from mlps_harness.verdict import book, finding_label

BANNER = {"CLOSED": "#2e7d32", "OPEN": "#f9a825", "INVALID": "#c62828", None: "#616161"}


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report) -> None:
    report.title = "MLPerf Storage compliance report"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells: list) -> None:
    cells.insert(2, '<th class="sortable" data-column-type="division">Division</th>')


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report, cells: list) -> None:
    division = dict(report.user_properties).get("mlps_division", "")
    if report.when == "setup" and report.failed and "mlps_rule" in dict(report.user_properties):
        division = "INVALID (error)"
    cells.insert(2, f'<td class="col-division">{html.escape(division)}</td>')


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list, summary: list, postfix: list, session) -> None:  # noqa: ARG001
    b = book(session.config)
    verdict = b.verdict()
    word = verdict.value if verdict else "none"
    prefix.append(f'<div id="mlps-verdict" style="background:{BANNER[verdict.value if verdict else None]};'
                  f'color:#fff;font-size:2em;padding:0.3em">Verdict: {word}</div>')
    prefix.append("<style>#mlps-counts, #mlps-groups {border-collapse: collapse; margin: 0.5em 0}"
                  " #mlps-counts td, #mlps-counts th, #mlps-groups td, #mlps-groups th"
                  " {border: 1px solid #ccc; padding: 2px 8px; text-align: left}</style>")
    rows = "".join(f"<tr><td>{k}</td><td>{n}</td></tr>" for k, n in b.counts.items())
    summary.append(f'<table id="mlps-counts"><tr><th>Rule outcome</th><th>Count</th></tr>{rows}</table>')
    groups = "".join(
        f"<tr><td>{html.escape(g.group)}</td><td>{html.escape(g.benchmark)}</td><td>{html.escape(g.model)}</td>"
        f"<td>{html.escape(','.join(sorted(g.accelerators)))}</td><td>{len(g.runs)}</td><td>{g.verdict.value}</td></tr>"
        for g in sorted(b.groups.values(), key=lambda g: g.group))
    summary.append('<table id="mlps-groups"><tr><th>Submission group</th><th>Benchmark</th><th>Model</th>'
                   f'<th>Accelerator</th><th>Runs</th><th>Verdict</th></tr>{groups}</table>')
    problems = b.sorted_problems()[:500]
    if problems:
        items = "".join(
            f"<li><b>{finding_label(p)}</b> {html.escape(str(p.get('run') or p.get('group')))} "
            f"[{html.escape(str(p.get('rule')))}] {html.escape(str(p.get('message')))}"
            f"{' — fix: ' + html.escape(str(p['fix'])) if p.get('fix') else ''}</li>" for p in problems)
        postfix.append(f'<h3>Findings (INVALID first)</h3><ul id="mlps-findings">{items}</ul>')
