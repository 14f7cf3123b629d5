"""The checkpointing suite end to end with real mpirun: embedded default, audit agreement, two phases, bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from mlps_harness.benchmarks.checkpointing.plan import Invocation
from mlps_harness.benchmarks.checkpointing.stages import invocation_result
from mlps_harness.launch import RunResult
from tests.helpers import REPO

SUITE = str(REPO / "suites" / "checkpointing")
COMPLIANCE = str(REPO / "compliance")


def _runs(results: Path) -> list[Path]:
    base = results / "checkpointing" / "llama3-8b"
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def test_embedded_run_then_audit_agree(tmp_path: Path, suite_runner) -> None:
    """No options: scaled llama3-8b on 2 ranks, 10 writes + 10 reads; the audit gives the same run verdict."""
    results = tmp_path / "results"
    suite = suite_runner(SUITE, f"--mlps-json={tmp_path / 'suite.json'}")
    out = suite.stdout + suite.stderr
    assert "Traceback" not in out
    assert "(embedded default)" in suite.stdout
    assert "test_run[run/0] PASSED" in suite.stdout or "1 failed" in suite.stdout, out[-3000:]
    (run,) = _runs(results)
    names = {p.name for p in run.iterdir()}
    assert {"summary.json", "checkpointing_run.stdout.log", "checkpointing_run.stderr.log", "dlio.log",
            "0_output.json", "1_per_epoch_stats.json", f"checkpointing_{run.name}_metadata.json"} <= names
    assert ".mlps-incomplete" not in names
    meta = json.loads((run / f"checkpointing_{run.name}_metadata.json").read_text())
    assert meta["benchmark_type"] == "checkpointing" and meta["harness"]["rules_version"] == "v3.0"
    assert meta["args"]["num_processes"] == 2 and meta["args"]["num_checkpoints_write"] == 10
    assert meta["args"]["checkpoint_folder"] == str(tmp_path / "data" / "checkpoints")
    assert meta["cluster_information"]["hosts"] and meta["invocation_end"] >= meta["invocation_start"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["workload"]["size_scale"] == 0.0003 and summary["workload"]["cache_drop_method"] != "none"
    assert 0.02 < summary["metric"]["checkpoint_size_GB"] < 0.05
    verdict = json.loads((tmp_path / "suite.json").read_text())
    findings = {(f["rule"], f["division"]) for f in verdict["findings"]}
    assert ("H4.2-checkpoint-size", "OPEN") in findings                    # scaled run
    assert ("4.6.1-closed-process-count", "OPEN") in findings              # 2 ranks
    assert verdict["verdict"] in ("OPEN", "INVALID")                       # INVALID when data/ shares a filesystem
    assert suite.returncode == (1 if verdict["verdict"] == "INVALID" else 0), out[-3000:]
    # live progress in a CI log: exactly one line per checkpoint written and per checkpoint read, no live updates
    assert "\r" not in suite.stdout
    for verb in ("saving", "loading"):
        lines = re.findall(rf"^    run/0: checkpoint (\d+): {verb} took [0-9.]+ s \([0-9.]+ GB/s\)$", suite.stdout, re.M)
        assert len(lines) == len(set(lines)) == 10, suite.stdout[-3000:]
    assert len(re.findall(r"^    run/0: checkpoint \d+:", suite.stdout, re.M)) == 20
    # results.json / results.csv beside the runs carry this run's figures and the group's
    figures = json.loads((results / "results.json").read_text())
    csv_text = (results / "results.csv").read_text()
    (record,) = figures["runs"]
    assert record["run_id"] in verdict["runs"] and record["run_id"] in csv_text
    assert record["category"] == verdict["runs"][record["run_id"]]
    for key in ("checkpoint_size_GB", "save_checkpoint_io_mean_GB_per_second", "load_checkpoint_io_mean_GB_per_second",
                "save_checkpoint_duration_mean_seconds", "load_checkpoint_duration_mean_seconds"):
        assert record["metrics"][key] == pytest.approx(summary["metric"][key]), key
    (group,) = figures["groups"]
    assert group["runs"] == [record["run_id"]] and group["category"] == verdict["groups"][0]["verdict"]
    assert group["metrics"]["save_checkpoint_io_mean_GB_per_second"] == pytest.approx(
        record["metrics"]["save_checkpoint_io_mean_GB_per_second"]) and group["metrics"]["num_checkpoints_write"] == 10

    audit = suite_runner(COMPLIANCE, f"--results-dir={results}", f"--mlps-json={tmp_path / 'audit.json'}")
    audited = json.loads((tmp_path / "audit.json").read_text())
    assert audited["runs"] == verdict["runs"]
    assert audited["verdict"] == verdict["verdict"]
    assert audit.returncode == suite.returncode


def test_two_phase_writes_then_reads(tmp_path: Path, suite_runner) -> None:
    suite = suite_runner(SUITE, "--checkpoint-two-phase", "--checkpoint-size-scale=0.0001", "--num-checkpoints-write=2",
                         "--num-checkpoints-read=2", f"--mlps-json={tmp_path / 'suite.json'}", "-v")
    assert "test_run[run/write] PASSED" in suite.stdout and "test_run[run/read] PASSED" in suite.stdout, \
        suite.stdout[-3000:]
    write, read = _runs(tmp_path / "results")
    counts = [json.loads((p / f"checkpointing_{p.name}_metadata.json").read_text())["args"] for p in (write, read)]
    assert [(a["num_checkpoints_write"], a["num_checkpoints_read"]) for a in counts] == [(2, 0), (0, 2)]
    assert "test_submission[group::4.7.1-invocation-structure] CLOSED" in suite.stdout
    verdict = json.loads((tmp_path / "suite.json").read_text())
    assert ("H4.10-checkpoint-totals", "OPEN") in {(f["rule"], f["division"]) for f in verdict["findings"]}


def test_what_if_prints_the_command_and_runs_nothing(tmp_path: Path, suite_runner) -> None:
    result = suite_runner(SUITE, "--what-if", "--model=llama3-70b", "--num-processes=8")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "mpirun -n 8" in result.stdout and "mlps_harness.benchmarks.checkpointing.workload" in result.stdout
    assert "--subset" in result.stdout and "(subset mode)" in result.stdout
    needs = 10 * 911 / 8 * 2 ** 30                       # 10 subset checkpoints of llama3-70b (8 of 64 shards)
    if shutil.disk_usage(tmp_path).free < needs:         # what-if reports the refusal instead of stopping
        assert "the pre-launch checks would refuse this run: --checkpoint-folder" in result.stdout
    assert not (tmp_path / "results" / "checkpointing").exists()


@pytest.mark.parametrize("args, needle", [
    (["--model=gpt3"], "--model"),
    (["--num-checkpoints-write=-1"], "--num-checkpoints-write"),
    (["--checkpoint-folder=/proc/nonexistent/ckpt"], "--checkpoint-folder"),  # cannot be created
    (["--model=llama3-70b", "--num-processes=12"], "--num-processes"),
    (["--model=llama3-8b"], "--num-processes"),
    (["--checkpoint-transfer-size=lots"], "--checkpoint-transfer-size"),
    (["--checkpoint-size-scale=0"], "--checkpoint-size-scale"),
    (["--params", "model.num_layers=2"], "--params model.num_layers"),
    (["--checkpoint-two-phase", "--num-checkpoints-read=0"], "--checkpoint-two-phase"),
    (["--num-checkpoints-write=0"], "--num-checkpoints-read"),        # nothing written yet to read back
    (["-n", "2"], "parallel workers"),
])
def test_bad_input_is_a_usage_error(tmp_path: Path, suite_runner, args: list[str], needle: str) -> None:
    result = suite_runner(SUITE, *args, timeout=120)
    out = result.stdout + result.stderr
    assert result.returncode == 4, out[-2000:]
    assert needle in out and "Traceback" not in out
    assert not (tmp_path / "results" / "checkpointing").exists()


def test_failed_rank_message_names_the_rank(tmp_path: Path) -> None:
    """A failed invocation reports the workload's own 'rank N failed' line before the launcher's explanation."""
    result = RunResult(["mpirun"], 1, 2.0, tmp_path / "o.log", tmp_path / "e.log",
                       ["error: rank 1 failed: save checkpoint 1 failed: OSError: [Errno 28] No space left"])
    text = invocation_result(Invocation("run/0", 10, 10), tmp_path, result).failure()
    assert text.splitlines()[0] == "error: rank 1 failed: save checkpoint 1 failed: OSError: [Errno 28] No space left"
    assert "exit code 1" in text


def test_one_rank_failing_its_write_fails_the_run(tmp_path: Path, suite_runner) -> None:
    """Real mpirun: rank 1's shard path of checkpoint 1 is a directory, so only rank 1's open() fails (root can
    still write everywhere, so permissions would not do it); the run fails naming rank 1, and no run is recorded
    as complete."""
    blocker = tmp_path / "data" / "checkpoints" / "llama3-8b" / "checkpoint_1" / "rank_1.optimizer.bin"
    blocker.mkdir(parents=True)
    suite = suite_runner(SUITE, "--checkpoint-size-scale=0.0001", "--num-checkpoints-write=1", "--num-checkpoints-read=1",
                         f"--mlps-json={tmp_path / 'suite.json'}", "-v")
    out = suite.stdout + suite.stderr
    assert suite.returncode == 1 and "Traceback" not in suite.stderr, out[-3000:]
    assert "rank 1 failed: save checkpoint 1 failed: IsADirectoryError" in out, out[-3000:]
    assert "rank 0 failed" not in out
    assert blocker.is_dir() and not (blocker.parent / "rank_0.optimizer.bin").exists()   # partial checkpoint removed
    (run,) = _runs(tmp_path / "results")
    assert not (run / "summary.json").exists()
    verdict = json.loads((tmp_path / "suite.json").read_text())
    assert verdict["verdict"] == "INVALID"
    assert ("H4.0-complete-run", "incomplete run: the workload exited with code 1") in {
        (f["rule"], f["message"]) for f in verdict["findings"] if f["division"] == "INVALID"}
