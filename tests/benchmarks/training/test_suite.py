"""The training suite end to end with real mpirun and DLIO: tree, rule outcomes, verdict, reuse, interrupt."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.helpers import REPO

SUITE = str(REPO / "suites" / "training")
COMPLIANCE = str(REPO / "compliance")


def _dirs(root: Path, command: str) -> list[Path]:
    base = root / "training" / "unet3d" / command
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def test_embedded_run_then_audit_agree(tmp_path: Path, suite_runner) -> None:
    """Datagen + warm-up + 1 run; the suite's verdict equals the audit's, per run; then the dataset is reused."""
    results, data = tmp_path / "results", tmp_path / "data"
    suite = suite_runner(SUITE, "--loops", "1", f"--results-dir={results}", f"--data-dir={data}",
                         f"--mlps-json={tmp_path / 'suite.json'}", f"--junitxml={tmp_path / 'suite.xml'}")
    out = suite.stdout + suite.stderr
    assert "Traceback" not in out
    assert suite.returncode == 1, out[-3000:]           # INVALID: tiny dataset, 2 runs instead of 6
    assert len(_dirs(results, "datagen")) == 1
    # nothing outside the results and data dirs (DLIO's default ./checkpoints/ once appeared in the cwd)
    assert {p.name for p in tmp_path.iterdir()} == {"results", "data", "suite.json", "suite.xml"}
    runs = _dirs(results, "run")
    assert len(runs) == 2
    for run in runs:
        names = {p.name for p in run.iterdir()}
        assert {"summary.json", "training_run.stdout.log", "training_run.stderr.log", "dlio.log",
                f"training_{run.name}_metadata.json"} <= names
        assert ".mlps-incomplete" not in names
        meta = json.loads((run / f"training_{run.name}_metadata.json").read_text())
        assert meta["cluster_information"]["source"] == "mpi"
        assert meta["args"]["num_processes"] == 2
        summary = json.loads((run / "summary.json").read_text())
        assert summary["num_accelerators"] == 2
        assert summary["metric"]["train_throughput_mean_samples_per_second"] > 0
    verdict = json.loads((tmp_path / "suite.json").read_text())
    assert verdict["verdict"] == "INVALID"
    rules = {f["rule"] for f in verdict["findings"]}
    assert {"3.1.2-dataset-size", "2.1.17-run-count", "3.6.2-allowed-params"} <= rules
    assert "MLPerf Storage verdict: INVALID" in suite.stdout
    assert "mlps_verdict" in (tmp_path / "suite.xml").read_text()
    # the suite writes results.json/csv beside its runs, with every run's figures and the group's
    figures = json.loads((results / "results.json").read_text())
    assert (results / "results.csv").is_file()
    measured = {r["run_id"]: r for r in figures["runs"] if r["command"] == "run"}
    assert len(measured) == 2 and all(r["metrics"]["train_io_mean_MB_per_second"] > 0 for r in measured.values())
    (group,) = figures["groups"]
    assert group["measured_runs"] == [sorted(measured)[1]]           # the warm-up is excluded
    assert group["metrics"]["train_io_mean_MB_per_second"] == measured[sorted(measured)[1]]["metrics"][
        "train_io_mean_MB_per_second"]
    assert "training figures" in suite.stdout and "MiB/s" in suite.stdout
    assert 'mlps_metric:training/unet3d:train_io_mean_MB_per_second' in (tmp_path / "suite.xml").read_text()
    # live progress in a CI log (not a TTY): exactly one line per epoch, with its figures, no live-line updates
    assert "\r" not in suite.stdout and "started (" not in suite.stdout and "running (" not in suite.stdout
    epochs = re.findall(r"^    (run/\S+): epoch (\d+): \d+ steps in [0-9.]+ s, AU [0-9.]+%, [0-9.]+ samples/s$",
                        suite.stdout, re.M)
    assert len(re.findall(r"^    run/\S+: epoch \d+:", suite.stdout, re.M)) == len(epochs) == len(set(epochs))
    assert len(epochs) == sum(len(json.loads((run / "summary.json").read_text())["metric"]["train_au_percentage"])
                              for run in runs), suite.stdout[-3000:]
    assert len(re.findall(r"^    datagen: data generation: done$", suite.stdout, re.M)) == 1

    audit = suite_runner(COMPLIANCE, f"--results-dir={results}", f"--mlps-json={tmp_path / 'audit.json'}")
    assert audit.returncode == 1, audit.stdout[-3000:]
    audited = json.loads((tmp_path / "audit.json").read_text())
    assert audited["runs"] == verdict["runs"]
    assert audited["verdict"] == verdict["verdict"]

    again = suite_runner(SUITE, "--loops", "0", f"--results-dir={results}", f"--data-dir={data}", "-k", "datagen")
    assert again.returncode == 0, again.stdout[-3000:]
    assert len(_dirs(results, "datagen")) == 1          # identical parameters: the dataset was reused


def test_what_if_prints_commands_and_runs_nothing(tmp_path: Path, suite_runner) -> None:
    result = suite_runner(SUITE, "--what-if", "--model=unet3d", "--num-accelerators=8", "--client-host-memory-gb=64",
                          f"--results-dir={tmp_path / 'r'}", f"--data-dir={tmp_path / 'd'}")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "mpirun -n 8" in result.stdout and "workload=unet3d_h100" in result.stdout
    assert "datasize:" in result.stdout
    assert not (tmp_path / "r" / "training").exists()


@pytest.mark.parametrize("args, needle", [
    (["--model=bert"], "--model"),
    (["--model=unet3d", "--accelerator-type=tpu", "--num-accelerators=2"], "--accelerator-type"),
    (["--hosts=host1;rm -rf /"], "--hosts"),
    (["--params", "reader.read_threads"], "KEY=VALUE"),
    (["--params", "reader.read_threads=eight"], "whole number"),
    (["--params", "dataset.record_length=10"], "--allow-invalid-params"),
    (["--model=unet3d", "--num-accelerators=2", "--params", "dataset.num_files_train=3"], "step"),
    (["--data-dir=/proc/self/forbidden"], "--data-dir"),
    (["-n", "2"], "parallel"),
    (["--client-host-memory-gb=-5"], "--client-host-memory-gb: expected a finite number > 0"),
    (["--model=unet3d", "--num-accelerators=8", "--client-host-memory-gb=0"], "--client-host-memory-gb"),
    (["--num-accelerators=0"], "--num-accelerators: expected a whole number > 0"),
    (["--num-processes=-1"], "--num-processes"),
    (["--run-timeout=-1"], "--run-timeout"),
])
def test_bad_input_is_a_usage_error(tmp_path: Path, suite_runner, args: list[str], needle: str) -> None:
    result = suite_runner(SUITE, f"--results-dir={tmp_path / 'r'}", *args)
    out = result.stdout + result.stderr
    assert result.returncode == 4, out[-2000:]
    assert needle in out
    assert "Traceback" not in out


def test_interrupt_stops_every_process_and_marks_the_run(tmp_path: Path, suite_runner) -> None:
    """SIGINT during a run: no mpirun or DLIO process survives; the run dir is marked and audited INVALID."""
    results = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", SUITE, "--loops", "0",
                             f"--results-dir={results}", f"--data-dir={tmp_path / 'data'}", "--allow-invalid-params",
                             "--params", "train.epochs=50"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen: set[int] = set()
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            children = psutil.Process(proc.pid).children(recursive=True)
            ranks = [c for c in children if "mlps_harness.dlio" in " ".join(_cmdline(c))]
            seen.update(c.pid for c in children)
            if _dirs(results, "run") and len(ranks) >= 2:
                time.sleep(3)
                seen.update(c.pid for c in psutil.Process(proc.pid).children(recursive=True))
                break
            time.sleep(0.3)
        else:
            pytest.fail("the run never started")
        os.kill(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(1)
    alive = [pid for pid in seen if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"processes left behind: {alive}"
    assert "Traceback" not in output
    run = _dirs(results, "run")[0]
    marker = json.loads((run / ".mlps-incomplete").read_text())
    assert "interrupt" in marker["reason"]
    audit = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", COMPLIANCE,
                            f"--results-dir={results}", "-k", "complete-run"], cwd=tmp_path, capture_output=True,
                           text=True)
    assert audit.returncode == 1
    assert "incomplete run" in audit.stdout


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def test_unreachable_host_is_a_readable_failure(tmp_path: Path, suite_runner) -> None:
    result = suite_runner(SUITE, "--loops", "0", "--hosts=nohost-xyz.invalid", f"--results-dir={tmp_path / 'r'}",
                          f"--data-dir={tmp_path / 'd'}", "--tb=short")
    out = result.stdout + result.stderr
    assert result.returncode == 4, out[-2000:]         # a usage error before anything is launched
    assert "nohost-xyz.invalid: the name does not resolve" in out and "--hosts" in out
    assert "Traceback" not in out and "KeyError" not in out
    assert not (tmp_path / "r" / "training").exists()  # no run directory: nothing was launched
