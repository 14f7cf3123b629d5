"""From a results tree on disk to typed runs: discovery, safe file reading, parsing and a bounded cache."""

from mlps_harness.loader.discover import Discovery, discover
from mlps_harness.loader.index import ResultsIndex
from mlps_harness.loader.parse import parse_run

__all__ = ["Discovery", "discover", "ResultsIndex", "parse_run"]
