"""The audit's garbage-collector policy: keep the cyclic GC off what lives until the end of a large audit.

A 1,000-run audit holds over 20,000 items and their kept reports until pytest exits. Every full collection walks
all of them (~0.5 s each), and CPython runs several when the interpreter shuts down. `SessionFreeze` moves them to
the permanent generation while the session runs, gives them back at the end of the configuration (so an in-process
run, such as `pytester`'s, leaves the GC as it found it), and freezes again when the interpreter exits: the objects
are then freed by reference counting alone, without the shutdown collections walking them (1.2 s of a 1,000-run
audit's 14 s). Only cyclic garbage left at exit goes unfreed, which the operating system reclaims with the process.
"""

from __future__ import annotations

import atexit
import gc

import pytest

#: young collections after this many allocations while frozen (the default 700 runs one per few rule tests)
YOUNG_THRESHOLD = 10_000
#: full collections after this many middle-generation ones while frozen
OLD_THRESHOLD = 1000

_exit_freeze_armed = False


def arm_exit_freeze() -> None:
    """Freeze every object when the interpreter exits (once per process; `atexit` skips it for in-process runs,
    which never exit)."""
    global _exit_freeze_armed
    if not _exit_freeze_armed:
        atexit.register(gc.freeze)
        _exit_freeze_armed = True


class SessionFreeze:
    """Freeze at collection's end, freeze again at session finish, release at the configuration's cleanup."""

    def __init__(self, config: pytest.Config) -> None:
        self.frozen = False
        self.thresholds = gc.get_threshold()
        # Registered when the plugin is configured, so it runs after the cleanups that plugins configured later add
        # (LIFO): pytest's unraisable-exception plugin collects garbage at unconfigure and again in its cleanup, and
        # with the session still frozen those collections skip it.
        config.add_cleanup(self.release)

    def start(self) -> None:
        """Freeze what exists now (the collected items and the results index) and make full collections rare."""
        gc.freeze()
        self.thresholds = gc.get_threshold()
        gc.set_threshold(max(self.thresholds[0], YOUNG_THRESHOLD), self.thresholds[1],
                         max(self.thresholds[2], OLD_THRESHOLD))
        self.frozen = True

    def again(self) -> None:
        """Freeze what the run made too (the reports the terminal keeps live until the end)."""
        if self.frozen:
            gc.freeze()

    def release(self) -> None:
        """Give the GC back what was frozen, with its thresholds, and arm the freeze at interpreter exit."""
        if self.frozen:
            gc.set_threshold(*self.thresholds)
            gc.unfreeze()
            self.frozen = False
            arm_exit_freeze()
