"""Live progress: DLIO's output folded into one line per epoch, and the live line on a TTY or in a CI log."""

from __future__ import annotations

from mlps_harness.launch.runner import Interim, ProgressFolder
from mlps_harness.suite.progress import LiveLine

EPOCH = [
    "[INFO] 2026-01-01T00:00:00 Starting epoch 2: 8 steps expected [x.py:1]",
    "[INFO] 2026-01-01T00:00:00 Starting block 1 [x.py:1]",
    "[INFO] 2026-01-01T00:00:03 Ending block 1 - 8 steps completed in 3.00 s [x.py:1]",
    "[INFO] 2026-01-01T00:00:03 Epoch 2 - Block 1 [Training] Accelerator Utilization [AU] (%): 64.5000 [x]",
    "[INFO] 2026-01-01T00:00:03 Epoch 2 - Block 1 [Training] Throughput (samples/second): 120.2500 [x]",
    "[INFO] 2026-01-01T00:00:03 Ending epoch 2 - 8 steps completed in 3.04 s [x.py:2]",
]


def _fold(lines: list[str]) -> list[str]:
    folder = ProgressFolder()
    return [m for m in map(folder.feed, lines) if m is not None]


def test_an_epoch_ends_in_one_final_line_with_its_figures() -> None:
    messages = _fold(EPOCH)
    finals = [m for m in messages if not isinstance(m, Interim)]
    assert finals == ["epoch 2: 8 steps in 3.0 s, AU 64.5%, 120.2 samples/s"]
    assert messages[0] == "epoch 2: running (8 steps)" and isinstance(messages[0], Interim)


def test_blocks_are_averaged_and_missing_figures_left_out() -> None:
    lines = [EPOCH[0], EPOCH[3], EPOCH[3].replace("64.5000", "75.5000").replace("Block 1", "Block 2"), EPOCH[5]]
    assert _fold(lines)[-1] == "epoch 2: 8 steps in 3.0 s, AU 70.0%"
    assert _fold([EPOCH[5]]) == ["epoch 2: 8 steps in 3.0 s"]          # no AU seen: none made up


def test_checkpoints_and_data_generation() -> None:
    line = ("[OUTPUT] 2026-11-29T19:00:00.000000 Finished saving checkpoint 3 in 0.5000 s on rank 0; "
            "Throughput: 2.5000 GB/s")
    assert _fold([line]) == ["checkpoint 3: saving took 0.50 s (2.50 GB/s)"]
    started, done = _fold(["x Starting data generation", "x Generation done"])
    assert isinstance(started, Interim) and not isinstance(done, Interim) and done == "data generation: done"


def _render(tty: bool, messages: list[str], width: int = 80) -> str:
    out: list[str] = []
    line = LiveLine(out.append, tty, width)
    for message in messages:
        line.show("run/1", message)
    return "".join(out)


def test_ci_log_gets_exactly_the_final_lines() -> None:
    text = _render(False, [Interim("epoch 1: running (4 steps)"), Interim("epoch 1: AU 80.0%"),
                           "epoch 1: 4 steps in 2.0 s, AU 80.0%", Interim("epoch 2: running (4 steps)"),
                           "epoch 2: 4 steps in 2.1 s"])
    assert "\r" not in text
    assert text.splitlines() == ["    run/1: epoch 1: 4 steps in 2.0 s, AU 80.0%", "    run/1: epoch 2: 4 steps in 2.1 s"]


def test_tty_updates_one_line_in_place_then_keeps_the_final_one() -> None:
    text = _render(True, [Interim("epoch 1: running (4 steps), a longer message"), "epoch 1: done",
                          "epoch 2: done"])
    assert text.count("\n") == 2                                    # one kept line per epoch
    first, second, _ = text.split("\n")
    assert first.startswith("\r    run/1: epoch 1: running") and "\r    run/1: epoch 1: done" in first
    assert first.endswith(" ")                                      # the longer live text is blanked out
    assert second == "    run/1: epoch 2: done"


def test_tty_live_line_never_wraps() -> None:
    text = _render(True, [Interim("x" * 200)], width=40)
    assert text.startswith("\r") and len(text) == 40 and "\n" not in text
