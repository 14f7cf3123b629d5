"""pytest-html integration: the verdict, the system under test, one card per group with figures, charts and an
"OPEN -> CLOSED" checklist, findings grouped by rule, and CLOSED / OPEN / INVALID labels and filters in the table.

pytest-html stays the frame. Its result filters know only pytest's outcomes (a custom `report.outcome` crashes
it), so the Result cell keeps pytest's word for pytest-html's own logic and carries our label in `data-mlps`,
which the stylesheet shows instead; our filter hides rows by that label with CSS `:has()`, independent of
pytest-html's re-rendering. Everything is inline: no network, readable offline.
"""

from __future__ import annotations

import html
import json

import pytest

from mlps_harness import properties as prop_names
from mlps_harness.reporting.html_cards import card, css, filter_bar, sut_table
from mlps_harness.verdict import book

BANNER = {"CLOSED": "#2e7d32", "OPEN": "#f9a825", "INVALID": "#c62828", None: "#616161"}


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report) -> None:
    report.title = "MLPerf Storage compliance report"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """The Environment table: the run's settings instead of the Python packages of this interpreter."""
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:  # pragma: no cover - pytest-metadata is a dependency of pytest-html
        return
    config = session.config
    metadata = config.stash.get(metadata_key, None)
    if metadata is None:
        return
    for key in ("Packages", "Plugins"):
        metadata.pop(key, None)
    metadata["Rules version"] = config.getoption("--rules-version")
    metadata["Division declared"] = config.getoption("--division") or "none (report only)"
    metadata["Command line"] = " ".join(["pytest", *map(str, config.invocation_params.args)])


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells: list) -> None:
    cells.insert(2, '<th class="sortable" data-column-type="division">Division</th>')


def row_label(report) -> str | None:
    """CLOSED / OPEN / INVALID / WARNING / N/A for a rule test's report (None for other tests)."""
    props = dict(report.user_properties)
    if prop_names.RULE not in props:
        return None
    if report.when == "setup" and report.failed:
        return "INVALID"
    outcome = props.get(prop_names.OUTCOME)
    if outcome is None:
        return "INVALID" if report.failed else "N/A"
    if outcome == "closed" and any(f.get("level") == "warning" for f in json.loads(props.get(prop_names.FINDINGS, "[]"))):
        return "WARNING"
    return {"closed": "CLOSED", "open": "OPEN", "invalid": "INVALID", "na": "N/A"}.get(outcome, "INVALID")


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report, cells: list) -> None:
    label = row_label(report)
    division = dict(report.user_properties).get(prop_names.DIVISION, "")
    if report.when == "setup" and report.failed and prop_names.RULE in dict(report.user_properties):
        division = "INVALID (error)"
    if label and cells and cells[0].startswith('<td class="col-result"'):
        cells[0] = cells[0].replace('<td class="col-result"', f'<td class="col-result" data-mlps="{label}"', 1)
    cells.insert(2, f'<td class="col-division">{html.escape(division)}</td>')


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list, summary: list, postfix: list, session) -> None:
    from mlps_harness.reporting.findings import clustered, where_text
    from mlps_harness.reporting.results import document

    config = session.config
    b = book(config)
    doc = document(config)
    verdict = b.verdict()
    word = verdict.value if verdict else "none"
    prefix.append(f"<style>{css()}</style>")
    prefix.append(f'<div id="mlps-verdict" style="background:{BANNER[verdict.value if verdict else None]};'
                  f'color:#fff;font-size:2em;padding:0.3em">Verdict: {word}</div>')
    prefix.append(sut_table(doc))
    prefix.append(filter_bar(b.counts, b.warning_count))
    rows = "".join(f"<tr><td>{k}</td><td>{n}</td></tr>" for k, n in b.counts.items())
    summary.append(f'<table id="mlps-counts"><tr><th>Rule outcome</th><th>Count</th></tr>{rows}</table>')
    groups = "".join(
        f"<tr><td>{html.escape(g.group)}</td><td>{html.escape(g.benchmark)}</td><td>{html.escape(g.model)}</td>"
        f"<td>{html.escape(','.join(sorted(g.accelerators)))}</td><td>{len(g.runs)}</td>"
        f'<td class="mlps-label" data-mlps="{g.verdict.value}">{g.verdict.value}</td></tr>'
        for g in sorted(b.groups.values(), key=lambda g: g.group))
    summary.append('<table id="mlps-groups"><tr><th>Submission group</th><th>Benchmark</th><th>Model</th>'
                   f'<th>Accelerator</th><th>Runs</th><th>Verdict</th></tr>{groups}</table>')
    problems = b.sorted_problems()
    summary.append('<div id="mlps-cards">' + "".join(card(g, doc, problems, i) for i, g in enumerate(doc.groups))
                   + "</div>")
    entries = clustered(problems)[:500]
    if entries:
        by_rule: dict[str, list] = {}
        for e in entries:
            by_rule.setdefault(str(e.get("rule")), []).append(e)
        blocks = []
        for rule, items in by_rule.items():
            lis = "".join(
                f'<li><span class="mlps-label" data-mlps="{e["label"]}">{e["label"]}</span> '
                f"<b>{html.escape(where_text(e, 6))}</b>: {html.escape(str(e.get('message')))}"
                f"{' — fix: ' + html.escape(str(e['fix'])) if e.get('fix') else ''}</li>" for e in items)
            blocks.append(f'<div class="mlps-rule"><h4>{html.escape(rule)}</h4><ul>{lis}</ul></div>')
        postfix.append(f'<h3>Findings by rule (INVALID first, each once with the runs it hit)</h3>'
                       f'<div id="mlps-findings">{"".join(blocks)}</div>')
