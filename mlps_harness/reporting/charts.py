"""Charts as inline SVG, drawn with matplotlib's SVG backend (no pyplot state, no network, text kept as text).

matplotlib is maintained, already common in the scientific stack this harness lives in (numpy is a dependency
of the KV cache and vector DB extras), and its SVG backend needs no browser or JavaScript: the report stays one
self-contained file readable offline. It is imported only when an HTML report is written.
"""

from __future__ import annotations

import io
import math
import re

from mlps_harness.metrics import Chart

COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#c62828", "#00838f")


def render(chart: Chart, width: float = 6.4, height: float = 3.0) -> str:
    """The chart as an `<svg>` element (no XML prolog); missing or invalid values are labelled, not drawn."""
    fig = figure(chart, width, height)
    buffer = io.StringIO()
    with _rc():
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.index("<svg"):], flags=re.S)


def figure(chart: Chart, width: float = 6.4, height: float = 3.0):  # noqa: ANN201 - matplotlib is imported lazily
    """The chart drawn on a matplotlib `Figure` (laid out, not saved)."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasSVG(fig)
    ax = fig.subplots()
    n = len(chart.categories)
    positions = list(range(n))
    present = [v for s in chart.series for v in s.values if v is not None and math.isfinite(v)]
    top = max([*present, *(line.value for line in chart.lines)], default=1.0) or 1.0
    if chart.kind == "bar":
        width_each = 0.8 / max(len(chart.series), 1)
        for i, series in enumerate(chart.series):
            offset = (i - (len(chart.series) - 1) / 2) * width_each
            for x, value in zip(positions, series.values):
                if value is None or not math.isfinite(value):
                    ax.text(x + offset, top * 0.02, "no value", rotation=90, ha="center", va="bottom",
                            fontsize=7, color="#757575")
                    continue
                ax.bar(x + offset, value, width_each * 0.95, color=COLOURS[i % len(COLOURS)],
                       label=series.label if x == next(j for j, v in enumerate(series.values) if v is not None)
                       else None)
    else:
        for i, series in enumerate(chart.series):
            xs = [x for x, v in zip(positions, series.values) if v is not None and math.isfinite(v)]
            ys = [v for v in series.values if v is not None and math.isfinite(v)]
            ax.plot(xs, ys, marker="o", markersize=3, color=COLOURS[i % len(COLOURS)], label=series.label)
    for line in chart.lines:
        ax.axhline(line.value, color="#c62828" if line.style == "threshold" else "#424242",
                   linestyle="--" if line.style == "threshold" else ":", linewidth=1.2, label=line.label)
    ax.set_xticks(positions)
    ax.set_xticklabels(chart.categories, fontsize=7, rotation=20 if n > 4 else 0, ha="right" if n > 4 else "center")
    ax.set_ylabel(chart.unit, fontsize=8)
    ax.set_title(chart.title, fontsize=9)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylim(bottom=0, top=top * 1.15)
    ax.grid(axis="y", linewidth=0.3)
    if any(s.label for s in chart.series) and (len(chart.series) > 1 or chart.lines):
        # beside the plot, never over a bar or a line (tight_layout makes room for it)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    fig.tight_layout()
    return fig


def _rc():
    import matplotlib

    return matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mlps"})


def strip_ids(svg: str, prefix: str) -> str:
    """Make the element ids of one SVG unique in a page holding several (clip paths share names otherwise)."""
    ids = set(re.findall(r'id="([^"]+)"', svg))
    for name in sorted(ids, key=len, reverse=True):
        svg = svg.replace(f'id="{name}"', f'id="{prefix}-{name}"').replace(f"#{name})", f"#{prefix}-{name})") \
            .replace(f'href="#{name}"', f'href="#{prefix}-{name}"')
    return svg
