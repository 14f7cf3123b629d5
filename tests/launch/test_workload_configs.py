"""Workload YAMLs: they load, carry the rules' values, and DLIO 2.0.0 reads every key in them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from mlps_harness.dlio import PACKAGED_CONFIG_DIR, module_available

from .conftest import subprocess_env

WORKLOAD_DIR = PACKAGED_CONFIG_DIR / "workload"
TRAINING = ["unet3d_a100", "unet3d_h100", "unet3d_b200", "unet3d_mi355", "resnet50_a100",
            "resnet50_h100", "cosmoflow_a100", "cosmoflow_h100", "retinanet_b200", "retinanet_mi355"]
DATAGEN = ["unet3d_datagen", "resnet50_datagen", "cosmoflow_datagen"]

# (batch_size, computation_time, num_samples_per_file, record_length, num_files_train, epochs, au)
# from the MLPerf Storage workload table (rules.md section 1).
EXPECTED = {
    "unet3d_h100": (7, 0.323, 1, 146600628, 168, 5, 0.90),
    "unet3d_a100": (7, 0.636, 1, 146600628, 168, 5, 0.90),
    "unet3d_b200": (7, 0.162, 1, 146600628, 7200, 5, 0.90),
    "unet3d_mi355": (7, 0.162, 1, 146600628, 7200, 5, 0.90),
    "resnet50_h100": (400, 0.224, 1251, 114660.07, 1024, 5, 0.90),
    "resnet50_a100": (400, 0.435, 1251, 114660.07, 1024, 5, 0.90),
    "cosmoflow_h100": (1, 0.00350, 1, 2828486, 524288, 5, 0.70),
    "cosmoflow_a100": (1, 0.00551, 1, 2828486, 524288, 5, 0.70),
    "retinanet_b200": (24, 0.04755, 1, 322957, 1170301, 8, 0.85),
    "retinanet_mi355": (32, 0.0634, 1, 322957, 1170301, 8, 0.85),
}


def load(name: str) -> dict:
    return yaml.safe_load((WORKLOAD_DIR / f"{name}.yaml").read_text())


def leaf_keys(mapping: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        keys += leaf_keys(value, dotted + ".") if isinstance(value, dict) else [dotted]
    return keys


@pytest.mark.parametrize("name", TRAINING + DATAGEN)
def test_yaml_loads_and_sets_framework_format_loader(name):
    config = load(name)
    assert isinstance(config, dict) and isinstance(config["model"], str)
    assert config["framework"] in ("pytorch", "tensorflow")
    assert config["dataset"]["format"] and config["reader"]["data_loader"]
    assert "record_length_bytes" not in config["dataset"], "reference-branch key; 2.0.0 ignores it"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_training_values_match_the_rules(name):
    config = load(name)
    batch, compute, samples, record, files, epochs, au = EXPECTED[name]
    assert config["reader"]["batch_size"] == batch
    assert config["train"]["computation_time"] == pytest.approx(compute)
    assert config["dataset"]["num_samples_per_file"] == samples
    assert config["dataset"]["record_length"] == pytest.approx(record)
    assert config["dataset"]["num_files_train"] == files
    assert config["train"]["epochs"] == epochs
    assert config["metric"]["au"] == pytest.approx(au)
    assert config["workflow"] == {"generate_data": False, "train": True,
                                  "checkpoint": name in ("unet3d_h100", "unet3d_a100")}


@pytest.mark.parametrize("name", DATAGEN)
def test_datagen_matches_training_dataset_and_only_generates(name):
    config = load(name)
    training = load(name.replace("datagen", "h100"))
    assert config["workflow"] == {"generate_data": True, "train": False, "checkpoint": False}
    assert config["dataset"] == training["dataset"]


@pytest.mark.parametrize("name", TRAINING + DATAGEN)
def test_checkpoint_size_is_small_unless_checkpointing_is_on(name):
    config = load(name)
    model_size = config.get("checkpoint", {}).get("model_size", 10240)  # DLIO's default
    if config["workflow"].get("checkpoint"):
        assert model_size == 499153191
    else:
        assert model_size <= 1048576


RECORDING_LOADER = r"""
import json, sys, yaml
from dlio_benchmark.utils.config import ConfigArguments, LoadConfig
from dlio_benchmark.utils.utility import DLIOMPI

DLIOMPI.get_instance().initialize()  # ConfigArguments asks MPI for rank and size

class Recording(dict):
    def __init__(self, data, prefix, seen):
        super().__init__({k: Recording(v, f"{prefix}{k}.", seen) if isinstance(v, dict) else v
                          for k, v in data.items()})
        self.prefix, self.seen = prefix, seen
    def __getitem__(self, key):
        self.seen.add(self.prefix + key)
        return super().__getitem__(key)

report = {}
for path in sys.argv[1:]:
    seen = set()
    ConfigArguments._ConfigArguments__instance = None  # a fresh singleton per file
    args = ConfigArguments()
    LoadConfig(args, Recording(yaml.safe_load(open(path)), "", seen))
    report[path] = {"seen": sorted(seen), "record_length": args.record_length,
                    "model_size": args.model_size, "framework": str(args.framework),
                    "format": str(args.format), "data_loader": str(args.data_loader),
                    "batch_size": args.batch_size, "do_checkpoint": args.do_checkpoint}
print(json.dumps(report))
"""


@pytest.mark.skipif(not module_available("dlio_benchmark"), reason="DLIO not installed")
def test_dlio_2_0_0_reads_every_key_we_set():
    """DLIO silently ignores unknown keys, so check each leaf key is actually read by LoadConfig."""
    paths = [str(WORKLOAD_DIR / f"{name}.yaml") for name in TRAINING + DATAGEN]
    completed = subprocess.run([sys.executable, "-c", RECORDING_LOADER, *paths], capture_output=True,
                               text=True, env=subprocess_env(), timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    for path in paths:
        config = yaml.safe_load(open(path))
        unread = set(leaf_keys(config)) - set(report[path]["seen"])
        assert not unread, f"{path}: DLIO 2.0.0 ignores {sorted(unread)}"
        loaded = report[path]
        assert loaded["record_length"] == config["dataset"]["record_length"]
        assert loaded["framework"] == config["framework"]
        assert loaded["format"] == config["dataset"]["format"]
        assert loaded["data_loader"] == config["reader"]["data_loader"]
        assert loaded["do_checkpoint"] == config["workflow"]["checkpoint"]
        if "model_size" in config.get("checkpoint", {}):
            assert loaded["model_size"] == config["checkpoint"]["model_size"]
