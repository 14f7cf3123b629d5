"""v3.0 checkpointing group rules: 1 or 2 timestamp dirs (2.1.23), the gap between invocations (2.1.24) and the
observed remap gap against the system YAML's declared remap time (4.7.3)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from .builders import T0, division, result, write_run

PREFIX = "closed/acme/results/sys1"


def _pair(root: Path, gap: float, *, write_s: float = 60, read_s: float = 60) -> None:
    """A write-only invocation of `write_s` seconds, then a read-only one `gap` seconds after it ended."""
    r_start = T0 + timedelta(seconds=write_s + gap)
    write_run(root, leaf="20250601_120000", writes=10, reads=0, start=T0, duration=write_s)
    write_run(root, leaf=r_start.strftime("%Y%m%d_%H%M%S"), writes=0, reads=10, start=r_start, duration=read_s)


def _system_yaml(tree: Path, body: str) -> None:
    systems = tree / "closed" / "acme" / "systems"
    systems.mkdir(parents=True, exist_ok=True)
    (systems / "sys1.yaml").write_text(body, encoding="utf-8")


def _remap(seconds: object) -> str:
    return ("system_under_test:\n  solution:\n    capabilities:\n      simultaneous_write: false\n"
            f"      simultaneous_read: true\n      remap_time_in_seconds: {seconds}\n")


def test_timestamp_dirs_one_or_two(tmp_path: Path) -> None:
    write_run(tmp_path / "one")
    assert division(tmp_path / "one", "2.1.23", "v3.0") == "CLOSED"
    _pair(tmp_path / "two", gap=5)
    assert division(tmp_path / "two", "2.1.23", "v3.0") == "CLOSED"


def test_timestamp_dirs_three_invalid(tmp_path: Path) -> None:
    _pair(tmp_path, gap=5)
    write_run(tmp_path, leaf="20250601_130000", start=T0 + timedelta(hours=1))
    res = result(tmp_path, "2.1.23", version="v3.0")
    assert res.division.value == "INVALID"
    assert res.problems()[0].actual == "20250601_120000, 20250601_120105, 20250601_130000"


def test_timestamp_rules_are_v3_only(tmp_path: Path) -> None:
    _pair(tmp_path, gap=5)
    write_run(tmp_path, leaf="20250601_130000", start=T0 + timedelta(hours=1))
    assert division(tmp_path, "2.1.23", "v2.0") == "N/A"
    assert division(tmp_path, "2.1.24", "v2.0") == "N/A"


def test_gap_shorter_than_slower_invocation(tmp_path: Path) -> None:
    """A 40 s gap after a 20 s write is fine when the read takes 50 s: the slower invocation counts."""
    _pair(tmp_path, gap=40, write_s=20, read_s=50)
    res = result(tmp_path, "2.1.24", version="v3.0")
    assert res.division.value == "CLOSED" and "40.0 s" in res.findings[0].message


def test_gap_not_shorter_than_slower_invocation_warns(tmp_path: Path) -> None:
    """The v3.0 round reported 2.1.24 as a warning (Everpure); the verdict stays."""
    _pair(tmp_path, gap=50, write_s=20, read_s=50)
    res = result(tmp_path, "2.1.24", version="v3.0")
    assert res.division.value == "CLOSED"
    problem = res.warnings()[0]
    assert problem.expected == "< 50.0 s" and problem.file.endswith("20250601_120110")


def test_gap_single_invocation_not_applicable(tmp_path: Path) -> None:
    write_run(tmp_path)
    assert division(tmp_path, "2.1.24", "v3.0") == "N/A"


def test_remap_observed_gap_covers_half_the_declared(tmp_path: Path) -> None:
    _pair(tmp_path / PREFIX, gap=12)
    _system_yaml(tmp_path, _remap(20))
    res = result(tmp_path, "4.7.3", version="v3.0")
    assert res.division.value == "CLOSED" and "12.0 s" in res.findings[0].message


def test_remap_observed_gap_too_short_invalid(tmp_path: Path) -> None:
    _pair(tmp_path / PREFIX, gap=9)
    _system_yaml(tmp_path, _remap(20))
    res = result(tmp_path, "4.7.3", version="v3.0")
    assert res.division.value == "INVALID"
    problem = res.problems()[0]
    assert (problem.expected, problem.file) == (">= 10 s observed", "closed/acme/systems/sys1.yaml")


def test_remap_not_applicable_without_yaml_value_or_pair(tmp_path: Path) -> None:
    _pair(tmp_path / "a" / PREFIX, gap=1)
    assert division(tmp_path / "a", "4.7.3", "v3.0") == "N/A"          # no system YAML
    _system_yaml(tmp_path / "a", "system_under_test:\n  solution: {}\n")
    assert division(tmp_path / "a", "4.7.3", "v3.0") == "N/A"          # no declared value
    write_run(tmp_path / "b" / PREFIX)
    _system_yaml(tmp_path / "b", _remap(20))
    assert division(tmp_path / "b", "4.7.3", "v3.0") == "N/A"          # one combined invocation
    _pair(tmp_path / "c", gap=1)
    assert division(tmp_path / "c", "4.7.3", "v3.0") == "N/A"          # not a submission tree


def test_remap_declared_value_not_a_number_invalid(tmp_path: Path) -> None:
    _pair(tmp_path / PREFIX, gap=5)
    _system_yaml(tmp_path, _remap("soon"))
    assert division(tmp_path, "4.7.3", "v3.0") == "INVALID"
