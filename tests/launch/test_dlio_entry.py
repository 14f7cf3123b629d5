"""``python -m mlps_harness.dlio``: TensorFlow stub, TF-needing workloads, missing DLIO, a real run."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from mlps_harness.dlio import (
    build_dlio_command,
    install_tensorflow_stub,
    main,
    module_available,
    read_workload_settings,
)
from mlps_harness.launch import (
    MpiLaunchSpec,
    build_mpirun_argv,
    explain_failure,
    run_process,
)

from .conftest import REPO_ROOT, subprocess_env

needs_dlio = pytest.mark.skipif(not module_available("dlio_benchmark"),
                                reason="DLIO not installed (bash scripts/setup.sh)")
needs_no_tensorflow = pytest.mark.skipif(module_available("tensorflow"),
                                         reason="TensorFlow is installed, so the stub path is not used")

TINY_UNET3D = {
    "workflow.generate_data": True, "workflow.train": True, "workflow.checkpoint": False,
    "dataset.num_files_train": 8, "dataset.record_length": 1048576, "dataset.record_length_stdev": 0,
    "dataset.record_length_resize": 1048576, "reader.batch_size": 2, "reader.read_threads": 1,
    "train.epochs": 1, "train.computation_time": 0.01, "checkpoint.model_size": 1024,
}


@pytest.mark.parametrize("args, needs_tf", [
    (["workload=unet3d_h100"], False),
    (["workload=retinanet_b200"], False),
    (["workload=resnet50_h100"], True),
    (["workload=cosmoflow_datagen"], True),
    (["workload=unet3d_h100", "++workload.reader.data_loader=tensorflow"], True),
    (["workload=resnet50_a100", "++workload.framework=pytorch", "workload.reader.data_loader=pytorch",
      "+workload.dataset.format=npz"], False),
])
def test_tensorflow_need_is_read_from_yaml_and_overrides(args, needs_tf):
    settings = read_workload_settings(args)
    assert settings.yaml_path is not None
    assert bool(settings.tensorflow_reasons()) is needs_tf


def test_user_config_dir_is_searched_first(tmp_path):
    (tmp_path / "workload").mkdir()
    (tmp_path / "workload" / "unet3d_h100.yaml").write_text("model: x\nframework: tensorflow\n")
    settings = read_workload_settings(["workload=unet3d_h100", f"--config-dir={tmp_path}"])
    assert settings.yaml_path == tmp_path / "workload" / "unet3d_h100.yaml"
    assert settings.framework == "tensorflow"
    # DLIO's own default is TensorFlow/tfrecord when a workload does not say otherwise
    assert settings.dataset_format == "tfrecord" and settings.data_loader == "tensorflow"


def test_stub_is_in_memory_and_explains_itself():
    script = ("import sys\nfrom mlps_harness.dlio import install_tensorflow_stub\n"
              "sys.modules.pop('tensorflow', None)\ninstall_tensorflow_stub()\nimport tensorflow as tf\n"
              "print(tf.__name__, hasattr(tf, 'constant'))\n"
              "try:\n    tf.constant\nexcept AttributeError as e:\n    print(e)\n")
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               env=subprocess_env(), timeout=60)
    assert completed.returncode == 0, completed.stderr
    first, second = completed.stdout.splitlines()[:2]
    assert first == "tensorflow False"
    assert "setup.sh --with-tensorflow" in second
    assert install_tensorflow_stub is not None
    assert not (REPO_ROOT / "tensorflow").exists()


@needs_no_tensorflow
@pytest.mark.parametrize("args", [["workload=resnet50_h100"],
                                  ["workload=unet3d_h100", "++workload.framework=tensorflow"]])
def test_tensorflow_workload_without_tensorflow_exits_2(tmp_path, args):
    completed = subprocess.run([sys.executable, "-m", "mlps_harness.dlio", *args,
                                f"++hydra.run.dir={tmp_path / 'run'}"],
                               capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert completed.returncode == 2
    assert "needs TensorFlow" in completed.stderr
    assert "bash scripts/setup.sh --with-tensorflow" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "run").exists()


def test_unknown_workload_exits_2(capsys):
    assert main(["workload=no_such_workload"]) == 2
    assert "workload/no_such_workload.yaml" in capsys.readouterr().err


def test_missing_dlio_exits_2_naming_setup_script(monkeypatch, capsys):
    class HideDlio:
        def find_spec(self, name, path=None, target=None):
            if name == "dlio_benchmark" or name.startswith("dlio_benchmark."):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    monkeypatch.setattr(sys, "meta_path", [HideDlio(), *sys.meta_path])
    monkeypatch.delitem(sys.modules, "dlio_benchmark", raising=False)
    assert main(["workload=unet3d_h100"]) == 2
    error = capsys.readouterr().err
    assert "DLIO" in error and "bash scripts/setup.sh" in error


@needs_dlio
@needs_no_tensorflow
def test_tiny_two_rank_unet3d_run_through_mpirun(mpirun_path, tmp_path):
    """Generate 8 files of 1 MiB and train one epoch on 2 ranks, TF stubbed in memory."""
    run_dir, data_dir = tmp_path / "run", tmp_path / "data"
    command = build_dlio_command("unet3d_h100", run_dir,
                                 {**TINY_UNET3D, "dataset.data_folder": data_dir})
    argv = build_mpirun_argv(MpiLaunchSpec(num_ranks=2, hosts="127.0.0.1:2"), command)
    progress: list[str] = []
    result = run_process(argv, run_dir, "training", "run", timeout=150, env=subprocess_env(),
                         on_progress=progress.append)
    assert result.ok, explain_failure(result, "tiny DLIO run")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["num_accelerators"] == 2
    assert summary["num_files_train"] == 8 and summary["epochs"] == 1
    assert len(summary["metric"]["train_au_percentage"]) == 1
    assert summary["metric"]["train_throughput_mean_samples_per_second"] > 0
    # our YAML and its DLIO 2.0.0 key names were used: record_length reached the generator
    resolved = yaml.safe_load((run_dir / "dlio_config" / "config.yaml").read_text())["workload"]
    assert resolved["model"] == "unet3d" and resolved["dataset"]["record_length"] == 1048576
    files = sorted((data_dir / "train").rglob("*.npz"))
    assert len(files) == 8
    assert all(file.stat().st_size >= 1048576 for file in files)
    assert "epoch 1: started (2 steps)" in progress
    assert any(line.startswith("epoch 1: 2 steps in") for line in progress)
    assert (run_dir / "training_run.stderr.log").stat().st_size > 0
