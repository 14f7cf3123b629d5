"""A pytest plugin for fault tests, loaded into a suite subprocess with ``-p tests.faults.pause_plugin``: it holds
the suite at one stage so a test can send a signal exactly there (instrumentation only; nothing else changes).

``MLPS_TEST_PAUSE`` names the stage: ``between`` (after the checkpointing suite's first launch, before the next),
``collection`` (after the tests are collected, before any runs); ``MLPS_TEST_PAUSE_FILE`` is written when held.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

HOLD_SECONDS = 120.0


def _hold(stage: str) -> None:
    Path(os.environ["MLPS_TEST_PAUSE_FILE"]).write_text(stage)
    deadline = time.monotonic() + HOLD_SECONDS
    while time.monotonic() < deadline:   # a stop signal ends this wait with the suite's own handler
        time.sleep(0.05)


def pytest_configure(config) -> None:
    if os.environ.get("MLPS_TEST_PAUSE") != "between":
        return
    from mlps_harness.benchmarks.checkpointing import stages

    original = stages.launch
    launched: list[str] = []

    def launch_then_hold(plan, invocation, *args, **kwargs):
        done = original(plan, invocation, *args, **kwargs)
        launched.append(invocation.slot)
        if len(launched) == 1 and len(plan.invocations) > 1:
            _hold("between")
        return done

    stages.launch = launch_then_hold


def pytest_collection_finish(session) -> None:
    if os.environ.get("MLPS_TEST_PAUSE") == "collection":
        _hold("collection")
