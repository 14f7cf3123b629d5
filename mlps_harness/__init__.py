"""mlps-harness: the MLPerf Storage benchmark and compliance suite as a pytest plugin."""

__version__ = "0.1.0"
