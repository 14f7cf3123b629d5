"""Exceptions that end the benchmark with a clean message (exit code 2)."""
from __future__ import annotations


class BenchmarkUsageError(Exception):
    """Bad command-line input: names the option, what was expected, and a fix."""

    def __init__(self, option: str, problem: str, fix: str) -> None:
        self.option = option
        self.problem = problem
        self.fix = fix
        super().__init__(f"{option}: {problem}. Fix: {fix}")


class StorageUnavailableError(Exception):
    """The cache directory ran out of space or failed during the run."""
