"""Issue #15 items 4 and 5: a read-only results dir is one usage error before launch; two suites writing the same
benchmark/model into one results dir at once: the second stops, naming the holder's PID and command."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mlps_harness.suite.rundirs import lock_holder, lock_path
from tests.helpers import REPO

TRAINING = str(REPO / "suites" / "training")
KV_CACHE = str(REPO / "suites" / "kv_cache")

# A process that claims the lock exactly as a suite does (the same function, a minimal stand-in for the config)
# and then holds it until killed.
HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from mlps_harness.suite.rundirs import claim_results_dir

    class Config:
        stash = {}
        def getoption(self, name, default=None):
            return False
        def add_cleanup(self, func):
            pass

    claim_results_dir(Config(), Path(sys.argv[1]), sys.argv[2], sys.argv[3])
    print("holding", flush=True)
    time.sleep(600)
""")


@pytest.mark.parametrize("suite", [TRAINING, KV_CACHE], ids=["training", "kv_cache"])
def test_a_read_only_results_dir_is_one_usage_error_before_launch(tmp_path: Path, read_only_bind,
                                                                  suite_runner, suite: str) -> None:
    source = tmp_path / "results-rw"
    source.mkdir()
    results = read_only_bind(source)
    result = suite_runner(suite, f"--results-dir={results}", f"--data-dir={tmp_path / 'd'}", timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 4, out[-3000:]
    assert out.count("--results-dir") == 1 and str(results) in out and "writ" in out, out[-3000:]
    assert "Traceback" not in out and "Errno 30" not in out and " ERROR" not in result.stdout
    assert list(source.iterdir()) == []


def test_a_second_suite_on_the_same_results_dir_stops_naming_the_holder(tmp_path: Path, suite_runner) -> None:
    results = tmp_path / "r"
    results.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(results), "kv_cache", "llama3.1-8b"],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert lock_holder(lock_path(results, "kv_cache", "llama3.1-8b"))["pid"] == holder.pid
        result = suite_runner(KV_CACHE, f"--results-dir={results}", "--model=llama3.1-8b", timeout=300)
        out = result.stdout + result.stderr
        assert result.returncode == 4, out[-3000:]
        assert f"another suite is writing kv_cache/llama3.1-8b there (PID {holder.pid}: " in out, out[-3000:]
        assert "Traceback" not in out
        assert not (results / "kv_cache").exists()
    finally:
        holder.kill()
        holder.wait()
    # The kernel released the lock with the process: nothing stale is left for the next run.
    assert lock_holder(lock_path(results, "kv_cache", "llama3.1-8b")) is None


def test_another_model_or_a_what_if_is_not_refused(tmp_path: Path, suite_runner) -> None:
    results = tmp_path / "r"
    results.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(results), "kv_cache", "llama3.1-8b"],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "holding"
        what_if = suite_runner(KV_CACHE, f"--results-dir={results}", "--model=llama3.1-8b", "--what-if",
                               timeout=300)
        assert what_if.returncode == 0, (what_if.stdout + what_if.stderr)[-3000:]
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_two_suites_started_together_one_runs_the_other_is_refused(tmp_path: Path) -> None:
    results = tmp_path / "r"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", KV_CACHE, f"--results-dir={results}"]
    first = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.2)
    second = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    outs = [p.communicate(timeout=900)[0] for p in (first, second)]
    codes = [first.returncode, second.returncode]
    refused = [i for i, code in enumerate(codes) if code == 4]
    assert len(refused) == 1, (codes, [o[-1500:] for o in outs])
    winner = (first, second)[1 - refused[0]]
    assert f"(PID {winner.pid}: " in outs[refused[0]], outs[refused[0]][-1500:]
    assert codes[1 - refused[0]] in (0, 1), outs[1 - refused[0]][-2000:]   # ran (its verdict is its own affair)


def test_an_audit_of_a_tree_being_written_says_so(tmp_path: Path, suite_runner) -> None:
    from mlps_harness.benchmarks.training.synthetic import TrainingRunSpec, write_training_run

    results = tmp_path / "r"
    write_training_run(results, TrainingRunSpec())
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(results), "training", "unet3d"],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "holding"
        audit = suite_runner(str(REPO / "compliance"), f"--results-dir={results}", timeout=300)
        assert f"a suite is still writing into this results dir (training-unet3d: PID {holder.pid} " in audit.stdout, \
            audit.stdout[-2000:]
    finally:
        holder.kill()
        holder.wait()
    quiet = suite_runner(str(REPO / "compliance"), f"--results-dir={results}", timeout=300)
    assert "still writing" not in quiet.stdout
