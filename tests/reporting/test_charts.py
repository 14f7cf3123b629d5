"""The report's charts: every value drawn or labelled, and the legend beside the plot, never over a bar or line."""

from __future__ import annotations

import pytest

from mlps_harness.metrics import Chart, RefLine, Series
from mlps_harness.reporting.charts import figure, render


def _chart(kind: str, values: list[float | None]) -> Chart:
    return Chart(title="AU per run", unit="AU %", categories=[f"run {i}" for i in range(len(values))], kind=kind,
                 series=[Series(label="AU", values=values), Series(label="other", values=[50.0] * len(values))],
                 lines=[RefLine(label="CLOSED minimum 90 %", value=90.0, style="threshold")])


@pytest.mark.parametrize("kind", ["bar", "line"])
def test_legend_does_not_cover_the_plot(kind: str) -> None:
    fig = figure(_chart(kind, [95.0, 96.0, 97.0, 94.0, 99.0, 98.0]))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()   # measured in pixels (the SVG canvas has no renderer to ask)
    (ax,) = fig.axes
    legend = ax.get_legend().get_window_extent(renderer)
    plot = ax.get_window_extent(renderer)
    assert legend.x0 >= plot.x1, (legend, plot)          # right of the plot area, whatever the values
    assert legend.x1 <= fig.bbox.x1 + 1                   # and inside the figure


def test_missing_values_are_labelled_not_drawn() -> None:
    svg = render(_chart("bar", [95.0, None, float("nan")]))
    assert svg.startswith("<svg") and svg.count("no value") == 2
