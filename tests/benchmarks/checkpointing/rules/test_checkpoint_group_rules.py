"""Checkpointing submission rules: 10 + 10 checkpoints in total and the invocation structure, both versions."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from .builders import T0, division, result, write_run


def _two_phase(root: Path, gap: float, *, bookends: bool = False, first=(10, 0), second=(0, 10)) -> None:
    """A write invocation of 60 s, then a read invocation starting `gap` seconds after it ended."""
    w_end = T0 + timedelta(seconds=60)
    r_start = w_end + timedelta(seconds=gap)
    write_run(root, leaf="20250601_120000", writes=first[0], reads=first[1], start=T0, duration=60,
              invocation=(T0 - timedelta(seconds=2), w_end + timedelta(seconds=1)) if bookends else None)
    write_run(root, leaf="20250601_120100", writes=second[0], reads=second[1], start=r_start, duration=60,
              invocation=(r_start - timedelta(seconds=2), r_start + timedelta(seconds=61)) if bookends else None)


@pytest.mark.parametrize("version", ["v2.0", "v3.0"])
def test_totals_closed(tmp_path: Path, version: str) -> None:
    write_run(tmp_path / "one")
    assert division(tmp_path / "one", "H4.10", version) == "CLOSED"
    _two_phase(tmp_path / "two", gap=5)
    assert division(tmp_path / "two", "H4.10", version) == "CLOSED"


@pytest.mark.parametrize("version, want", [("v2.0", "INVALID"), ("v3.0", "OPEN")])
def test_totals_mismatch(tmp_path: Path, version: str, want: str) -> None:
    """[R2] any other total is INVALID; v3.0 Rules.md 4.7.1 lets OPEN use any non-negative counts."""
    write_run(tmp_path, writes=5, reads=10)
    res = result(tmp_path, "H4.10", version=version)
    assert res.division.value == want
    assert [(f.parameter, f.actual) for f in res.problems()] == [("num-checkpoints-write", "5")]


def test_totals_over_two_runs_of_ten(tmp_path: Path) -> None:
    write_run(tmp_path, leaf="20250601_120000")
    write_run(tmp_path, leaf="20250601_121000")
    res = result(tmp_path, "H4.10")
    assert res.division.value == "INVALID" and {f.actual for f in res.problems()} == {"20"}


def test_structure_single_invocation(tmp_path: Path) -> None:
    write_run(tmp_path / "a")
    assert division(tmp_path / "a", "4.7.1", "v3.0") == "CLOSED"
    write_run(tmp_path / "b", reads=0)
    assert division(tmp_path / "b", "4.7.1", "v3.0") == "INVALID"


@pytest.mark.parametrize("version, gap, want, warned", [
    ("v3.0", 10, "CLOSED", False), ("v3.0", 29.5, "CLOSED", False), ("v3.0", 30.0, "CLOSED", False),
    ("v3.0", 30.5, "CLOSED", True), ("v3.0", 45, "CLOSED", True), ("v2.0", 45, "CLOSED", False),
    ("v3.0", -5, "CLOSED", True), ("v2.0", -5, "INVALID", False)])
def test_structure_two_phases_gap(tmp_path: Path, version: str, gap: float, want: str, warned: bool) -> None:
    """v3.0: the 30 s bound and a negative gap are the round's warnings (PR #834; the review's 4.7.1 warning on a
    negative gap); v2.0 has no bound but reads must not start before the writes ended."""
    _two_phase(tmp_path, gap)
    res = result(tmp_path, "4.7.1", version=version)
    assert res.division.value == want
    assert bool(res.warnings()) == warned
    if warned:
        assert res.warnings()[0].parameter == "phase gap"


def test_structure_gap_uses_invocation_bookends(tmp_path: Path) -> None:
    """Our metadata records when each invocation started and ended (issue #825: not DLIO's start/end)."""
    _two_phase(tmp_path, gap=28, bookends=True)        # bookends: 28 - 1 (write end) - 2 (read start) = 25 s
    res = result(tmp_path, "4.7.1", version="v3.0")
    assert res.division.value == "CLOSED" and "25.0 s" in res.findings[0].message
    assert "metadata invocation_start" in res.findings[0].actual


def test_structure_wrong_order_and_three_invocations(tmp_path: Path) -> None:
    _two_phase(tmp_path / "swap", gap=5, first=(0, 10), second=(10, 0))
    assert division(tmp_path / "swap", "4.7.1", "v3.0") == "INVALID"
    _two_phase(tmp_path / "both", gap=5, first=(10, 10), second=(0, 10))
    assert division(tmp_path / "both", "4.7.1", "v3.0") == "INVALID"
    assert division(tmp_path / "both", "4.7.1", "v2.0") == "CLOSED"     # v2.0: one combined + reads; H4.10 counts
    assert division(tmp_path / "both", "H4.10", "v2.0") == "INVALID"
    _two_phase(tmp_path / "three", gap=5, second=(0, 5))
    write_run(tmp_path / "three", leaf="20250601_120300", writes=0, reads=5, start=T0 + timedelta(seconds=200))
    res = result(tmp_path / "three", "4.7.1", version="v3.0")
    assert res.division.value == "OPEN" and res.problems()[0].parameter == "invocations"   # OPEN: any counts
    assert division(tmp_path / "three", "4.7.1", "v2.0") == "CLOSED"


def _split(root: Path, counts: list[tuple[int, int]]) -> None:
    """Invocations 2 minutes apart (60 s each), with the given (writes, reads)."""
    for i, (w, r) in enumerate(counts):
        start = T0 + timedelta(seconds=120 * i)
        write_run(root, leaf=start.strftime("%Y%m%d_%H%M%S"), writes=w, reads=r, start=start, duration=60)


@pytest.mark.parametrize("counts, want_structure, want_totals", [
    ([(1, 0)] * 10 + [(0, 1)] * 10, "CLOSED", "CLOSED"),      # [R2] "individual runs for each read and write"
    ([(1, 0)] * 10 + [(0, 10)], "CLOSED", "CLOSED"),
    ([(5, 0), (5, 0), (0, 10)], "CLOSED", "CLOSED"),
    ([(0, 10), (10, 0)], "INVALID", "CLOSED"),                 # reads before writes
    ([(5, 5), (5, 5)], "INVALID", "CLOSED"),                   # two combined invocations
    ([(10, 0), (0, 9)], "CLOSED", "INVALID"),                  # the totals rule catches the count
    ([(10, 0), (0, 0), (0, 10)], "INVALID", "CLOSED"),         # an empty invocation
])
def test_v2_any_split(tmp_path: Path, counts: list[tuple[int, int]], want_structure: str, want_totals: str) -> None:
    """v2.0 (G2 2.2.2, [R2] check_num_runs): any split of 10 writes and 10 reads over invocations."""
    _split(tmp_path, counts)
    assert division(tmp_path, "4.7.1", "v2.0") == want_structure
    assert division(tmp_path, "H4.10", "v2.0") == want_totals


def test_v3_split_counts_from_overrides_only(tmp_path: Path) -> None:
    """A v3.0 split pair whose counts live only in dlio_config/overrides.yaml (no params_dict, no config counts)."""
    for leaf, start, (w, r) in (("20250601_120000", T0, (10, 0)), ("20250601_120100", T0 + timedelta(seconds=80),
                                                                   (0, 10))):
        run = write_run(tmp_path, leaf=leaf, writes=w, reads=r, start=start, use_overrides_only=True)
        meta = run / f"checkpointing_{leaf}_metadata.json"
        data = json.loads(meta.read_text())
        del data["args"]["num_checkpoints_read"], data["args"]["num_checkpoints_write"]
        meta.write_text(json.dumps(data))
        (run / "dlio_config" / "config.yaml").unlink()
    assert division(tmp_path, "4.7.1", "v3.0") == "CLOSED"
    assert division(tmp_path, "H4.10", "v3.0") == "CLOSED"
