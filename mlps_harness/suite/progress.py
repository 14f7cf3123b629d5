"""Live one-line progress in the terminal while a benchmark runs, even with output capture on."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def live_writer(config: pytest.Config, prefix: str) -> Callable[[str], None]:
    """A callback that writes `prefix: line` straight to the terminal (bypassing capture)."""
    reporter = config.pluginmanager.getplugin("terminalreporter")
    capman = config.pluginmanager.getplugin("capturemanager")

    def write(line: str) -> None:
        if reporter is None:
            return
        if capman is not None:
            with capman.global_and_fixture_disabled():
                reporter.write_line(f"    {prefix}: {line}")
        else:
            reporter.write_line(f"    {prefix}: {line}")
    return write
