"""Stop signals in a suite session: SIGTERM and SIGHUP end it like Ctrl-C, at any stage.

A suite calls :func:`install_stop_signals` first thing in its ``pytest_configure``. From then on, in the main
thread, SIGTERM and SIGHUP raise :class:`StopSignal` (a ``KeyboardInterrupt``), so whatever the session is doing --
collecting cluster information, building the plan, collecting tests, between two launches, loading results back --
stops the way Ctrl-C stops it: ``finally`` blocks and session fixtures tear down (servers stopped, partial
checkpoints removed), and a run directory being written keeps its incomplete marker. While a launch runs,
``run_process`` takes the signals over itself (it stops the process tree, marks the run and the suite exits 130);
nested handlers restore ours when they end.

Exit status: every interrupted suite session ends with 130 (128 + SIGINT, as a shell reports Ctrl-C), whether the
interrupt was Ctrl-C or a stop signal and whatever stage it hit; :func:`interrupt_exits` gives the same status to
stages that run before pytest's session starts (``pytest_configure``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

import pytest

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
INTERRUPTED_STATUS = 130  #: 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C
_PLUGIN_NAME = "mlps-stop-signals"


class StopSignal(KeyboardInterrupt):
    """A stop signal (SIGTERM, SIGHUP) turned into Ctrl-C's exception; ``name`` is the signal's name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"interrupted by {name}")
        self.name = name


class _StopSignals:
    """Handlers and the session's exit status (registered as a plugin for one session)."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.interrupted = False
        self.previous: dict[int, object] = {}

    def handle(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        self.received.append(name)
        self.interrupted = True
        raise StopSignal(name)

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous.clear()

    def pytest_keyboard_interrupt(self) -> None:
        self.interrupted = True

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.interrupted:
            session.exitstatus = INTERRUPTED_STATUS


def install_stop_signals(config: pytest.Config) -> None:
    """SIGTERM/SIGHUP raise :class:`StopSignal` in the main thread for the rest of this session (the previous
    handlers come back at unconfigure); an interrupted session exits 130. Calling it twice changes nothing."""
    if config.pluginmanager.has_plugin(_PLUGIN_NAME):
        return
    state = _StopSignals()
    config.pluginmanager.register(state, _PLUGIN_NAME)
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            state.previous[sig] = signal.signal(sig, state.handle)
        config.add_cleanup(state.restore)


def received_signal(config: pytest.Config) -> str | None:
    """The last stop signal this session received ("SIGTERM", "SIGHUP"), or None."""
    state = config.pluginmanager.get_plugin(_PLUGIN_NAME)
    return state.received[-1] if state is not None and state.received else None


@contextlib.contextmanager
def interrupt_exits(config: pytest.Config, what: str) -> Iterator[None]:
    """Ctrl-C or a stop signal inside the block ends the session at once with status 130 and a message naming
    `what` was interrupted (for ``pytest_configure``, where pytest would otherwise report status 2)."""
    try:
        yield
    except KeyboardInterrupt as interrupt:
        by = interrupt.name if isinstance(interrupt, StopSignal) else "Ctrl-C"
        pytest.exit(f"{what} interrupted by {by}; nothing was run", returncode=INTERRUPTED_STATUS)
