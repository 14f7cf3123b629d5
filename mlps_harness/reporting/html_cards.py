"""HTML pieces of the report: stylesheet, division filter, system-under-test header and one card per group."""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

from mlps_harness.metrics import (
    Chart,
    GroupResult,
    ResultsDocument,
    Series,
    lookup,
    metrics_module,
)
from mlps_harness.reporting.figures import fmt, has_figures, headline_cells

LABELS = ("CLOSED", "OPEN", "INVALID", "WARNING", "N/A")
_COLOUR = {"CLOSED": "#2e7d32", "OPEN": "#f9a825", "INVALID": "#c62828", "WARNING": "#ef6c00", "N/A": "#757575"}


def _slug(label: str) -> str:
    return label.replace("/", "")


def css() -> str:
    """Labels drawn from `data-mlps`, the division filter, cards."""
    rules = [
        "#mlps-counts, #mlps-groups, .mlps-table {border-collapse: collapse; margin: 0.5em 0}",
        "#mlps-counts td, #mlps-counts th, #mlps-groups td, #mlps-groups th, .mlps-table td, .mlps-table th"
        " {border: 1px solid #ccc; padding: 2px 8px; text-align: left}",
        "td.col-result[data-mlps] {font-size: 0}",
        "td.col-result[data-mlps]::after {content: attr(data-mlps); font-size: 12px; font-weight: bold}",
        ".summary .filters, .summary p.filter {display: none}",
        "#mlps-filter label {margin-right: 1em}",
        ".mlps-card {border: 1px solid #bbb; border-radius: 6px; padding: 0.6em 1em; margin: 1em 0;"
        " background: #fafafa}",
        ".mlps-card h3 {margin: 0.2em 0}",
        ".mlps-figures {display: flex; flex-wrap: wrap; gap: 1.2em; margin: 0.5em 0}",
        ".mlps-figure {font-size: 1.3em} .mlps-figure small {display: block; font-size: 0.6em; color: #555}",
        ".mlps-charts {display: flex; flex-wrap: wrap; gap: 0.5em} .mlps-charts svg {max-width: 640px;"
        " height: auto; background: #fff}",
        ".mlps-label {font-weight: bold}",
        ".mlps-rule h4 {margin: 0.6em 0 0.2em 0}",
    ]
    for label in LABELS:
        rules.append(f'td.col-result[data-mlps="{label}"]::after, .mlps-label[data-mlps="{label}"]'
                     f" {{color: {_COLOUR[label]}}}")
        rules.append(f"#results-table.mlps-hide-{_slug(label)} tbody.results-table-row:has("
                     f'td.col-result[data-mlps="{label}"]) {{display: none}}')
    rules.append("#results-table.mlps-hide-other tbody.results-table-row:has(td.col-result:not([data-mlps])) "
                 "{display: none}")
    return "\n".join(rules)


def filter_bar(counts: dict[str, int], warnings: int) -> str:
    """Checkboxes that hide table rows by their CLOSED / OPEN / INVALID / WARNING / N/A label."""
    shown = {"CLOSED": counts.get("closed", 0), "OPEN": counts.get("open", 0),
             "INVALID": counts.get("invalid", 0) + counts.get("error", 0), "WARNING": warnings,
             "N/A": counts.get("na", 0)}
    boxes = "".join(
        f'<label><input type="checkbox" checked data-mlps-filter="{_slug(label)}"> '
        f'<span class="mlps-label" data-mlps="{label}">{label}</span> ({n}{" findings" if label == "WARNING" else ""})'
        f"</label>" for label, n in shown.items())
    boxes += '<label><input type="checkbox" checked data-mlps-filter="other"> other tests</label>'
    script = ("document.querySelectorAll('#mlps-filter input').forEach(function (box) {"
              "box.addEventListener('change', function () {"
              "var table = document.getElementById('results-table');"
              "if (table) { table.classList.toggle('mlps-hide-' + box.dataset.mlpsFilter, !box.checked); }"
              "});});")
    return (f'<div id="mlps-filter"><b>Show rule tests:</b> {boxes}</div>'
            f"<script>{script}</script>")


def sut_table(doc: ResultsDocument) -> str:
    """The system under test as the runs recorded it: hosts, memory, accelerators, rules, division, command."""
    hosts = sorted({h for r in doc.runs for h in r.hosts})
    memory = next((r.host_memory_GB for r in doc.runs if r.host_memory_GB), [])
    accelerators = Counter((r.accelerator, r.num_processes) for r in doc.runs
                           if r.accelerator and r.metrics is not None)
    accel_text = ", ".join(f"{n} x {a}" if n else a for (a, n) in sorted(accelerators, key=str)) or "not recorded"
    mem_text = (", ".join(f"{m:.1f}" for m in memory[:8]) + " GiB per host") if memory else "not recorded"
    rows = [("Hosts", ", ".join(hosts) or "not recorded"), ("Memory", mem_text), ("Accelerators", accel_text),
            ("Benchmarks", ", ".join(sorted({g.benchmark_type for g in doc.groups})) or "-"),
            ("Rules version", ", ".join(doc.rules_versions) or "-"),
            ("Division declared", doc.division or "none (report only)"),
            ("Command line", " ".join(doc.command_line))]
    body = "".join(f"<tr><th>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f'<h3>System under test</h3><table id="mlps-sut" class="mlps-table">{body}</table>'


def _charts(group: GroupResult, doc: ResultsDocument, index: int) -> list[str]:
    from mlps_harness.reporting.charts import render, strip_ids

    module = metrics_module(group.benchmark_type)
    charts: list[Chart] = []
    runs = [r for r in doc.runs if r.run_id in group.runs]
    if module is not None and group.metrics:
        try:
            charts = module.charts(group, runs)
        except Exception as exc:  # a chart must never take the report down
            return [f"<p>charts could not be built: {html.escape(str(exc))}</p>"]
    changes = [(h.label, group.change_percent.get(h.key)) for h in group.headlines if h.key in group.change_percent]
    if changes:
        charts.append(Chart(title="Change against the earlier results (--mlps-compare)", unit="%",
                            categories=[label for label, _ in changes],
                            series=[Series(label="change %", values=[c for _, c in changes])]))
    out = []
    for n, chart in enumerate(charts):
        try:
            out.append(strip_ids(render(chart), f"g{index}c{n}"))
        except Exception as exc:
            out.append(f"<p>chart {html.escape(chart.title)} could not be drawn: {html.escape(str(exc))}</p>")
    return out


def card(group: GroupResult, doc: ResultsDocument, problems: list[dict[str, Any]], index: int) -> str:
    """One group's card: verdict, headline figures, runs, charts, the OPEN -> CLOSED checklist, its findings."""
    from mlps_harness.reporting.findings import checklist, clustered, where_text

    verdict = group.category or "-"
    parts = [f'<div class="mlps-card" data-group="{html.escape(group.group)}">',
             f'<h3>{html.escape(group.group)} <span class="mlps-label" data-mlps="{verdict}">{verdict}</span></h3>']
    if has_figures(group):
        figures = "".join(f'<div class="mlps-figure">{html.escape(text)}'
                          + (f' <span class="mlps-change">({html.escape(change)})</span>' if change else "")
                          + f"<small>{html.escape(label)}</small></div>"
                          for label, text, change in headline_cells(group, doc.runs))
        parts.append(f'<div class="mlps-figures">{figures}</div>')
    else:
        parts.append('<p class="mlps-nofigures"><b>no figures</b>: no run of this group recorded any</p>')
    rows = []
    for run in (r for r in doc.runs if r.run_id in group.runs):
        if run.metrics is None:
            note = f"{run.command}: records no figures"
        elif run.run_id in group.measured_runs:
            note = ", ".join(f"{h.label} {fmt(lookup(run.metrics, h.key))}" for h in group.headlines[:3]
                             if lookup(run.metrics, h.key) is not None) or "measured"
        else:
            note = group.excluded_runs.get(run.run_id, "not measured")
        if run.invalid_values:
            note += f"; invalid value: {', '.join(run.invalid_values[:4])}"
        rows.append(f"<tr><td>{html.escape(run.run_id)}</td><td class='mlps-label' data-mlps='{run.category or '-'}'>"
                    f"{run.category or '-'}</td><td>{html.escape(note)}</td></tr>")
    if rows:
        parts.append('<table class="mlps-table"><tr><th>run</th><th>verdict</th><th>figures</th></tr>'
                     + "".join(rows) + "</table>")
    if group.formulas:
        shown = "; ".join(f"{k}: {v}" for k, v in list(group.formulas.items())[:1])
        parts.append(f"<p><small>Group figures: {html.escape(shown)}</small></p>")
    parts.append('<div class="mlps-charts">' + "".join(_charts(group, doc, index)) + "</div>")
    todo = checklist(problems, group.group_id)
    if todo:
        items = "".join(f'<li><input type="checkbox" disabled> <span class="mlps-label" data-mlps="{i["label"]}">'
                        f'{i["label"]}</span> [{html.escape(str(i["rule"]))}] {html.escape(i["fix"])}'
                        f' <small>({html.escape(where_text(i, 3))})</small></li>' for i in todo)
        parts.append(f'<h4>OPEN &rarr; CLOSED: what to change</h4><ul class="mlps-checklist">{items}</ul>')
    elif verdict == "CLOSED":
        parts.append("<p>Nothing to change: every rule passed for CLOSED.</p>")
    own = clustered([p for p in problems if p.get("group") == group.group_id])
    if own:
        lis = "".join(f'<li><span class="mlps-label" data-mlps="{e["label"]}">{e["label"]}</span> '
                      f'[{html.escape(str(e.get("rule")))}] {html.escape(where_text(e, 3))}: '
                      f'{html.escape(str(e.get("message")))}</li>' for e in own[:60])
        parts.append(f"<details><summary>{len(own)} findings of this group</summary><ul>{lis}</ul></details>")
    parts.append("</div>")
    return "".join(parts)
