"""Upstream habits in every suite: MLPSTORAGE_* environment defaults (the header names each value's source), the
datasize stage alone, configview under --what-if, and --what-if creating nothing. Real suite subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

SUITES = REPO / "suites"


def _suite(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLPSTORAGE_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, env={**clean, **(env or {})})


def test_environment_defaults_and_their_sources(tmp_path: Path) -> None:
    env = {"MLPSTORAGE_RESULTS_DIR": str(tmp_path / "env-results"), "MLPSTORAGE_DATA_DIR": str(tmp_path / "env-data"),
           "MLPSTORAGE_CHECKPOINT_FOLDER": str(tmp_path / "env-ckpt")}
    done = _suite(tmp_path, str(SUITES / "checkpointing"), "--what-if", f"--results-dir={tmp_path / 'cli'}", env=env)
    assert done.returncode == 0, done.stdout[-3000:]
    header = next(line for line in done.stdout.splitlines() if line.startswith("settings: "))
    assert f"results-dir={tmp_path / 'cli'} (command line)" in header          # an explicit option wins
    assert f"data-dir={tmp_path / 'env-data'} ($MLPSTORAGE_DATA_DIR)" in header
    assert f"checkpoint-folder={tmp_path / 'env-ckpt'} ($MLPSTORAGE_CHECKPOINT_FOLDER)" in header
    assert f"{tmp_path / 'env-ckpt'}/llama3-8b" in done.stdout                  # the plan uses it
    assert not any(p.exists() for p in (tmp_path / "cli", tmp_path / "env-ckpt", tmp_path / "env-data"))


def test_org_and_system_from_the_environment(tmp_path: Path) -> None:
    env = {"MLPSTORAGE_ORGNAME": "Acme", "MLPSTORAGE_SYSTEMNAME": "box-1"}
    done = _suite(tmp_path, str(SUITES / "kv_cache"), "--what-if", f"--results-dir={tmp_path / 'r'}", env=env)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "org=Acme ($MLPSTORAGE_ORGNAME)" in done.stdout and "system=box-1 ($MLPSTORAGE_SYSTEMNAME)" in done.stdout
    assert "closed/Acme/results/box-1" in done.stdout


def test_help_lists_the_environment_variables(tmp_path: Path) -> None:
    done = _suite(tmp_path, str(SUITES / "checkpointing"), "--help")
    text = " ".join(done.stdout.split())
    for variable in ("MLPSTORAGE_RESULTS_DIR", "MLPSTORAGE_DATA_DIR", "MLPSTORAGE_CHECKPOINT_FOLDER",
                     "MLPSTORAGE_ORGNAME", "MLPSTORAGE_SYSTEMNAME"):
        assert variable in text


@pytest.mark.parametrize("suite, needles", [
    ("checkpointing", ["inputs: model llama3-8b", "checkpoint folder needs"]),
    ("kv_cache", ["bytes/token", "per rank on the cache dir"]),
    ("training", ["required files:", "datagen: mpirun"]),
    ("vector_database", ["HNSW: "]),
])
def test_datasize_alone_runs_nothing(tmp_path: Path, suite: str, needles: list[str]) -> None:
    done = _suite(tmp_path, str(SUITES / suite), "-k", "datasize", "-s", f"--results-dir={tmp_path / 'r'}",
                  f"--data-dir={tmp_path / 'd'}")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout
    for needle in needles:
        assert needle in done.stdout
    assert not list((tmp_path / "r").rglob("*_metadata.json"))


def test_training_max_accelerators_sizes_for_the_largest_run(tmp_path: Path) -> None:
    args = ["-k", "datasize", "-s", "--model=unet3d", "--client-host-memory-gb=1", f"--results-dir={tmp_path / 'r'}",
            f"--data-dir={tmp_path / 'd'}", "--num-accelerators=2"]
    small = _suite(tmp_path, str(SUITES / "training"), *args)
    large = _suite(tmp_path, str(SUITES / "training"), *args, "--max-accelerators=64")
    assert small.returncode == 0 and large.returncode == 0, large.stdout[-3000:]

    def files(out: str) -> int:
        return int(out.split("required files: ", 1)[1].split()[0])
    assert files(large.stdout) > files(small.stdout)
    assert "sized for --max-accelerators 64" in large.stdout
    refused = _suite(tmp_path, str(SUITES / "training"), *args[:-1], "--num-accelerators=8", "--max-accelerators=4")
    assert refused.returncode == 4 and "--max-accelerators" in refused.stderr + refused.stdout


@pytest.mark.parametrize("suite, needles", [
    ("training", ["configview: datagen (workload unet3d_datagen", "configview: run (workload unet3d_h100",
                  "num_files_train: 32"]),
    ("checkpointing", ["configview: run/0 (checkpoint workload options)", "num_checkpoints_write: 10"]),
    ("kv_cache", ["configview: KV cache Option set", "kv_cache_args:"]),
    ("vector_database", ["what-if: these commands would run", "  load: "]),
])
def test_what_if_shows_the_final_configuration_and_creates_nothing(tmp_path: Path, suite: str,
                                                                    needles: list[str]) -> None:
    done = _suite(tmp_path, str(SUITES / suite), "--what-if", f"--results-dir={tmp_path / 'r'}",
                  f"--data-dir={tmp_path / 'd'}")
    assert done.returncode == 0, done.stdout[-3000:]
    for needle in needles:
        assert needle in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_resnet50_what_if_needs_no_tensorflow(tmp_path: Path) -> None:
    done = _suite(tmp_path, str(SUITES / "training"), "--model=resnet50", "--num-accelerators=8", "--what-if",
                  f"--results-dir={tmp_path / 'r'}", f"--data-dir={tmp_path / 'd'}")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "workload=resnet50_h100" in done.stdout


def test_loops_means_measured_runs_in_every_suite(tmp_path: Path) -> None:
    common = ["--what-if", f"--results-dir={tmp_path / 'r'}", f"--data-dir={tmp_path / 'd'}"]
    kv = _suite(tmp_path, str(SUITES / "kv_cache"), *common, "--loops=2")
    assert kv.returncode == 0 and "x 2 trial(s)" in kv.stdout and "(embedded default)" in kv.stdout
    clash = _suite(tmp_path, str(SUITES / "kv_cache"), *common, "--loops=2", "--kv-trials=3")
    assert clash.returncode == 4 and "disagree" in clash.stderr
    ckpt = _suite(tmp_path, str(SUITES / "checkpointing"), *common, "--loops=2")
    assert ckpt.returncode == 0 and "  run/0: mpirun" in ckpt.stdout and "  run/1: mpirun" in ckpt.stdout
    assert "rule 4.7.1 wants one invocation" in ckpt.stdout
    two = _suite(tmp_path, str(SUITES / "checkpointing"), *common, "--loops=2", "--checkpoint-two-phase")
    assert two.returncode == 4 and "--loops" in two.stderr
    training = _suite(tmp_path, str(SUITES / "training"), *common, "--loops=1")
    assert training.returncode == 0 and "  run/1: " in training.stdout and "  run/2: " not in training.stdout
    vdb = _suite(tmp_path, str(SUITES / "vector_database"), *common, "--loops=2")
    assert vdb.returncode == 0 and "2 run(s)" in vdb.stdout


def test_the_audit_takes_its_results_dir_from_the_environment(tmp_path: Path) -> None:
    from tests.helpers import COMPLIANCE, SAMPLES

    sample = SAMPLES / "upstream-v2.0-unet3d-3runs"
    if not sample.is_dir():
        pytest.skip(f"{sample} not present")
    done = _suite(tmp_path, str(COMPLIANCE), env={"MLPSTORAGE_RESULTS_DIR": str(sample)})
    assert done.returncode in (0, 1) and "Traceback" not in done.stdout + done.stderr
    assert f"settings: results-dir={sample} ($MLPSTORAGE_RESULTS_DIR)" in done.stdout
    assert "training/unet3d" in done.stdout
