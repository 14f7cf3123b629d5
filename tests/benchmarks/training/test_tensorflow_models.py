"""resnet50 and cosmoflow (TFRecord, TensorFlow reader) really run: datagen + the warm-up run through the training
suite with real mpirun, DLIO and TensorFlow, then the audit on the same tree agrees with the suite.

Needs the TensorFlow extra (`bash scripts/setup.sh --with-tensorflow`, which also writes the `tfrecord2idx`
stand-in). Skipped where TensorFlow is absent, unless MLPS_REQUIRE_TENSORFLOW=1 (CI sets it): then a missing
TensorFlow fails, so CI cannot silently stop running these. About 1.5-2 min per model on 2 cores.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

SUITE = str(REPO / "suites" / "training")
COMPLIANCE = str(REPO / "compliance")
#: the smallest datasets that still give DLIO 2 steps per epoch with 2 ranks (params the rules then flag)
TINY = {
    "resnet50": ["dataset.num_files_train=16", "dataset.num_samples_per_file=64", "reader.batch_size=8"],
    "cosmoflow": ["dataset.num_files_train=16", "reader.batch_size=2"],
}
COMMON = ["dataset.record_length_bytes=16384", "reader.read_threads=1", "train.epochs=1"]


def _tensorflow() -> None:
    if importlib.util.find_spec("tensorflow") is None:
        if os.environ.get("MLPS_REQUIRE_TENSORFLOW") == "1":
            pytest.fail("TensorFlow is not installed but MLPS_REQUIRE_TENSORFLOW=1: run "
                        "bash scripts/setup.sh --with-tensorflow")
        pytest.skip("TensorFlow not installed (bash scripts/setup.sh --with-tensorflow)")


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"   # the tfrecord2idx stand-in
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("model", ["resnet50", "cosmoflow"])
def test_tfrecord_model_runs_for_real_and_the_audit_agrees(tmp_path: Path, model: str) -> None:
    _tensorflow()
    results, data = tmp_path / "results", tmp_path / "data"
    params = [arg for p in TINY[model] + COMMON for arg in ("--params", p)]
    suite = _pytest(tmp_path, SUITE, f"--model={model}", "--num-accelerators=2", "--client-host-memory-gb=1",
                    "--loops", "0", "--allow-invalid-params", f"--results-dir={results}", f"--data-dir={data}",
                    f"--mlps-json={tmp_path / 'suite.json'}", *params)
    out = suite.stdout + suite.stderr
    assert "Traceback" not in out, out[-3000:]
    assert suite.returncode == 1, out[-3000:]                  # INVALID by design: a tiny dataset, changed params
    records = sorted((data / model).rglob("*.tfrecord"))
    assert records, f"no TFRecord files under {data / model}"
    runs = sorted(p for p in (results / "training" / model / "run").iterdir() if p.is_dir())
    assert len(runs) == 1                                        # the warm-up run
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert summary["metric"]["train_throughput_mean_samples_per_second"] > 0
    config = (runs[0] / "dlio_config" / "config.yaml").read_text()
    assert "format: tfrecord" in config and "data_loader: tensorflow" in config
    verdict = json.loads((tmp_path / "suite.json").read_text())
    rules = {f["rule"] for f in verdict["findings"]}
    assert "3.1.2-dataset-size" in rules and "3.6.2-allowed-params" in rules

    audit = _pytest(tmp_path, COMPLIANCE, f"--results-dir={results}", f"--mlps-json={tmp_path / 'audit.json'}")
    assert audit.returncode == 1, audit.stdout[-3000:]
    audited = json.loads((tmp_path / "audit.json").read_text())
    assert audited["runs"] == verdict["runs"] and audited["verdict"] == verdict["verdict"] == "INVALID"
