"""`<results-dir>/history.jsonl` and `python -m mlps_harness.history show|rerun` (upstream's `history`), through real
suite invocations in subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mlps_harness.history import RECORD_KIND, load
from tests.helpers import REPO

SUITE = str(REPO / "suites" / "checkpointing")


def _history(results: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlps_harness.history", "--results-dir", str(results), *args],
                          capture_output=True, text=True, timeout=300, cwd=results.parent)


def test_every_suite_invocation_is_recorded_and_can_be_rerun(tmp_path: Path, suite_runner) -> None:
    results = tmp_path / "res"
    first = suite_runner(SUITE, "-k", "plan", f"--results-dir={results}", f"--data-dir={tmp_path / 'd'}")
    assert first.returncode == 0, first.stdout[-2000:]
    (record,) = load(results / "history.jsonl").records
    assert record["kind"] == RECORD_KIND and record["args"][2:5] == [SUITE, "-k", "plan"]
    assert record["cwd"] == str(tmp_path) and record["exit_status"] == 0 and record["what_if"] is False
    assert record["settings"]["rules_version"] == "v3.0"
    assert record["settings"]["sources"]["results-dir"] == "command line"
    assert record["harness_version"]
    assert record["options"]["results_dir"] == str(results) and record["options"]["keyword"] == "plan"

    shown = _history(results, "show", "--limit", "1")
    assert shown.returncode == 0 and record["id"] in shown.stdout and "-k plan" in shown.stdout

    again = _history(results, "rerun", record["id"], "--what-if")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith(f"rerun {record['id']} in {tmp_path}: pytest -p no:cacheprovider {SUITE} -k plan")
    assert again.stdout.splitlines()[0].endswith("--what-if")
    records = load(results / "history.jsonl").records
    assert len(records) == 2 and records[1]["what_if"] is True and records[1]["args"][-1] == "--what-if"


def test_damaged_and_foreign_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    results = tmp_path / "res"
    results.mkdir()
    good = {"kind": RECORD_KIND, "id": "20250101_000000-abcd", "time": "2025-01-01T00:00:00",
            "args": ["suites/training", "--what-if"], "cwd": str(tmp_path), "verdict": "INVALID", "runs": ["x/y"]}
    lines = [json.dumps(good), "{truncated", json.dumps({"kind": "something-else"}), json.dumps([1, 2]),
             json.dumps({**good, "args": "not a list"})]
    (results / "history.jsonl").write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe\n")
    loaded = load(results / "history.jsonl")
    assert [r["id"] for r in loaded.records] == [good["id"]]
    assert len(loaded.skipped) == 5 and all("skipped" in m for m in loaded.skipped)
    shown = _history(results, "show", "--id", good["id"])
    assert shown.returncode == 0 and "Traceback" not in shown.stderr
    assert "pytest suites/training --what-if" in shown.stdout and "wrote x/y" in shown.stdout
    assert shown.stderr.count("skipped") == 5 and "line 2" in shown.stderr


def test_unknown_id_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    missing = _history(tmp_path / "nowhere", "show")
    assert missing.returncode == 2 and "no history.jsonl" in missing.stderr
    results = tmp_path / "res"
    results.mkdir()
    (results / "history.jsonl").write_text("")
    unknown = _history(results, "rerun", "nope")
    assert unknown.returncode == 2 and "no record with id 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_what_if_with_a_missing_results_dir_creates_nothing(tmp_path: Path, suite_runner) -> None:
    results = tmp_path / "res"
    done = suite_runner(SUITE, "--what-if", f"--results-dir={results}", f"--data-dir={tmp_path / 'd'}")
    assert done.returncode == 0, done.stdout[-2000:]
    assert not results.exists() and not (tmp_path / "d").exists()
