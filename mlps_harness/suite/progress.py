"""Live progress in the terminal while a benchmark runs, even with output capture on.

Each unit of work (an epoch, a checkpoint, a KV cache trial, a vector DB run) ends in one final line. Messages
marked :class:`~mlps_harness.launch.runner.Interim` (an epoch under way, a trial started, vectors inserted) are
drawn in place on one live line (``\\r``) on a terminal and left out of a non-terminal (CI) log, so a log holds
exactly one line per unit.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest

from mlps_harness.launch.runner import Interim

__all__ = ["Interim", "LiveLine", "live_writer"]

LIVE_KEY = pytest.StashKey["LiveLine"]()
INDENT = "    "


class LiveLine:
    """Renders progress messages: final ones as lines, interim ones in place on a TTY (dropped otherwise).

    `write` receives raw text (with its ``\\r`` / ``\\n``); `width` bounds a live line so it never wraps."""

    def __init__(self, write: Callable[[str], None], tty: bool, width: int = 80,
                 before_first: Callable[[], None] | None = None) -> None:
        self.write, self.tty, self.width = write, tty, max(width, 20)
        self.before_first = before_first
        self.shown = 0          # length of the live line now on screen (0: none)

    def _text(self, prefix: str, message: str) -> str:
        return f"{INDENT}{prefix}: {message}"

    def show(self, prefix: str, message: str) -> None:
        """Draw `message` of `prefix`: in place when it is Interim, else as a final line."""
        text = self._text(prefix, message)
        if isinstance(message, Interim):
            if not self.tty:
                return
            if not self.shown and self.before_first is not None:
                self.before_first()
            text = text[:self.width - 1]
            self.write("\r" + text + " " * max(self.shown - len(text), 0))
            self.shown = len(text)
            return
        if self.shown:
            self.write("\r" + text + " " * max(self.shown - len(text), 0) + "\n")
            self.shown = 0
            return
        if self.before_first is not None:
            self.before_first()
        self.write(text + "\n")


def _line(config: pytest.Config) -> LiveLine | None:
    """The session's live line (one terminal, shared by every prefix)."""
    if LIVE_KEY in config.stash:
        return config.stash[LIVE_KEY]
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if reporter is None:
        return None
    width = getattr(getattr(reporter, "_tw", None), "fullwidth", 0) or shutil.get_terminal_size().columns

    def write(text: str) -> None:
        reporter.write(text, flush=True)

    config.stash[LIVE_KEY] = LiveLine(write, bool(reporter.isatty()), width, reporter.ensure_newline)
    return config.stash[LIVE_KEY]


def live_writer(config: pytest.Config, prefix: str) -> Callable[[str], None]:
    """A callback that shows `prefix: message` straight on the terminal (bypassing capture)."""
    capman = config.pluginmanager.getplugin("capturemanager")

    def show(message: str) -> None:
        line = _line(config)
        if line is None:
            return
        if capman is not None:
            with capman.global_and_fixture_disabled():
                line.show(prefix, message)
        else:
            line.show(prefix, message)
    return show
