"""Figures as text: number formatting, and each group's headline figures with their change (terminal and HTML)."""

from __future__ import annotations

from typing import Any

from mlps_harness.metrics import INVALID_VALUE, GroupResult, RunResult, lookup


def fmt(value: Any) -> str:
    """A figure for people: thousands separators, 3 significant digits below 100."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return "-" if value is None else str(value)


def headline_cells(group: GroupResult, runs: list[RunResult]) -> list[tuple[str, str, str | None]]:
    """(label, "value unit", change) for each headline figure; a value a run recorded as NaN/inf reads
    "invalid value", one nobody recorded "-"."""
    invalid = {key for r in runs if r.run_id in group.runs for key in r.invalid_values}
    cells = []
    for h in group.headlines:
        value = lookup(group.metrics, h.key)
        if value is None:
            text = INVALID_VALUE if h.key in invalid or h.key.split(".")[-1] in invalid else "-"
        else:
            text = f"{fmt(value)} {h.unit}".strip()
        change = group.change_percent.get(h.key)
        cells.append((h.label, text, f"{change:+.1f} %" if change is not None else None))
    return cells


def has_figures(group: GroupResult) -> bool:
    """Whether the group has any figure to show."""
    return any(lookup(group.metrics, h.key) is not None for h in group.headlines)
