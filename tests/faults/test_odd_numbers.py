"""Numbers Python will not convert, in a results tree or an option: Unicode digits (`str.isdigit()` accepts `²` and
`١٢`), integers over Python's 4,300-digit conversion limit, empty fields. The audit reads on and judges the run; a
suite refuses the option with its name; nothing shows a traceback."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from mlps_harness.argtypes import ascii_whole, finite_float
from mlps_harness.metrics import number
from tests.helpers import REPO, SAMPLES

TRAINING = SAMPLES / "upstream-v2.0-unet3d-3runs"
CHECKPOINTING = SAMPLES / "upstream-v2.0-llama3-8b-checkpointing"
HUGE = "9" * 5000

pytestmark = pytest.mark.skipif(not TRAINING.is_dir() or not CHECKPOINTING.is_dir(),
                                reason=f"upstream samples not found under {SAMPLES}")


@pytest.mark.parametrize(("text", "signed", "expected"), [
    ("12", False, 12), ("007", False, 7), ("-3", True, -3), ("-3", False, None), ("", False, None),
    ("²", False, None), ("١٢", False, None), (HUGE, False, None), ("9" * 30, False, int("9" * 30)),
    ("1.5", False, None), (" 1", False, None), ("-", True, None), (None, False, None), (12, False, None)])
def test_ascii_whole(text: object, signed: bool, expected: int | None) -> None:
    assert ascii_whole(text, signed=signed) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (3, 3.0), (2.5, 2.5), (10 ** 400, None), (-(10 ** 400), None), (float("nan"), None), (float("inf"), None),
    (True, None), ("3", None), (None, None)])
def test_finite_float(value: object, expected: float | None) -> None:
    assert finite_float(value) == expected
    assert number(value) == (expected, expected is None and isinstance(value, (int, float))
                             and not isinstance(value, bool))


def _first_run(root: Path) -> Path:
    return min(p.parent for p in root.rglob("summary.json"))


def _json_edit(path: Path, edit) -> None:
    text = path.read_text()
    path.write_text(edit(text))


def test_an_audit_reads_past_odd_numbers(tmp_path: Path, audit) -> None:
    root = tmp_path / "tree"
    shutil.copytree(TRAINING, root)   # training/... and checkpointing/... side by side in one results dir
    shutil.copytree(CHECKPOINTING, root, dirs_exist_ok=True)
    training = _first_run(root / "training")
    checkpointing = _first_run(root / "checkpointing")
    # epoch keys a rank file should not have: a superscript and a 5,000-digit number (raw JSON, json.dumps refuses it)
    _json_edit(training / "0_output.json", lambda t: t.replace("{", '{"\u00b2": {}, "' + HUGE + '": {}, ', 1))
    # a rank's host memory as an integer too large for a float
    _json_edit(training / "1_output.json",
               lambda t: re.sub(r'"host_memory_GB": [0-9.eE+-]+', '"host_memory_GB": 1' + "0" * 400, t, count=1))
    # a checkpoint record numbered with Arabic-Indic digits
    _json_edit(checkpointing / "0_per_epoch_stats.json",
               lambda t: t.replace('"1": {', '"1": {"save_ckpt\u0661\u0662": {"duration": 1.0}, ', 1))
    # overrides naming a dataset size no int can hold, and a config value past the conversion limit
    overrides = training / "dlio_config" / "overrides.yaml"
    overrides.write_text(overrides.read_text().replace("num_files_train=56", f"num_files_train={HUGE}"))
    config = training / "dlio_config" / "config.yaml"
    config.write_text(config.read_text() + f"\nodd_number: {HUGE}\n")
    # the summary's memory figures with an empty Cached field
    summary = json.loads((checkpointing / "summary.json").read_text())
    summary.setdefault("host_meminfo", {})["Cached"] = ""
    (checkpointing / "summary.json").write_text(json.dumps(summary))

    result = audit(root, "-q", subprocess=True)
    result.assert_clean()
    assert result.result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    assert set(result.runs) >= {str(training.relative_to(root)), str(checkpointing.relative_to(root))}, result.runs
    assert any("config.yaml" in (f.get("file") or "") and "4300" in f.get("message", "")
               for f in result.findings()), result.findings()


def test_a_suite_refuses_a_huge_count_by_name(suite_runner, tmp_path: Path) -> None:
    result = suite_runner(str(REPO / "suites" / "training"), "--what-if", f"--results-dir={tmp_path / 'r'}",
                          "--params", f"dataset.num_files_train={HUGE}")
    text = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, text[-2000:]
    assert "--params dataset.num_files_train=" in text and "expected a whole number" in text
    assert "Traceback" not in text and "INTERNALERROR" not in text


def test_parameter_comparisons_take_integers_too_large_for_a_float() -> None:
    """A YAML override of 10**400 compares as text against the reference instead of raising from float()."""
    from mlps_harness.benchmarks.checkpointing.documents import same_value
    from mlps_harness.benchmarks.vector_database.rules_params import _same

    assert not same_value(10 ** 400, 5) and same_value(10 ** 400, 10 ** 400) and same_value("8", 8)
    assert not _same(10 ** 400, "5") and _same("10", 10.0)


@pytest.mark.parametrize(("value", "expected"), [
    (5, 5), ("5 kB", 5), ("5", 5), ("", None), ("  ", None), (True, None), (-3, None), (10 ** 400, None), (2.5, None),
    (None, None), ("\u00b2 kB", None), (HUGE, None)])
def test_meminfo_fields(value: object, expected: int | None) -> None:
    """A meminfo field (cluster_info MemTotal, summary.json's Cached) as an int or `"<n> kB"`: anything else is none."""
    from mlps_harness.rules.evidence import meminfo_kib

    assert meminfo_kib(value) == expected
