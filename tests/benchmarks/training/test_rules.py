"""Every training run rule and submission rule, each with at least one CLOSED and one non-CLOSED case.

Trees are built with `mlps_harness.benchmarks.training.synthetic` (upstream v2.0 format, optionally below a v3.0 submission prefix).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mlps_harness.benchmarks.training.synthetic import (
    TrainingRunSpec,
    write_training_run,
    write_training_submission,
)
from mlps_harness.outcomes import Division
from tests.helpers import rule_result, run_ids

V3 = "closed/acme/results/sys1"
G2 = "training/unet3d"
G3 = f"{V3}/training/unet3d"


def first_run(root: Path) -> str:
    return next(r for r in run_ids(root) if "/run/" in r)


# ---------------------------------------------------------------- 2.1.17 run count

@pytest.mark.parametrize("runs, division", [(6, Division.CLOSED), (8, Division.CLOSED), (3, Division.INVALID)])
def test_run_count_v20_at_least_six(tmp_path, runs, division):
    write_training_submission(tmp_path, runs=runs)
    res = rule_result(tmp_path, "2.1.17", G2)
    assert res.division is division
    if division is Division.INVALID:
        assert res.problems()[0].actual == str(runs)


@pytest.mark.parametrize("runs, division", [(6, Division.CLOSED), (7, Division.INVALID), (5, Division.INVALID)])
def test_run_count_v30_exactly_six(tmp_path, runs, division):
    write_training_submission(tmp_path, runs=runs, prefix=V3, accelerator="b200")
    res = rule_result(tmp_path, "2.1.17", G3)
    assert res.division is division


def test_run_count_per_accelerator(tmp_path):
    write_training_submission(tmp_path, runs=6, prefix=V3, accelerator="b200")
    write_training_submission(tmp_path, runs=6, prefix=V3, accelerator="mi355", datagen=False,
                              start=datetime(2025, 6, 14, 10))
    res = rule_result(tmp_path, "2.1.17", G3)
    assert res.division is Division.CLOSED            # 12 dirs, 6 per accelerator (upstream issue #679)
    assert len(res.findings) == 2

    write_training_submission(tmp_path, runs=3, prefix=V3, accelerator="mi355", datagen=False,
                              start=datetime(2025, 6, 15, 10))
    res = rule_result(tmp_path, "2.1.17", G3)
    assert res.division is Division.INVALID
    (problem,) = res.problems()
    assert "mi355" in problem.message and problem.actual == "9"


def test_run_count_no_runs(tmp_path):
    write_training_run(tmp_path, TrainingRunSpec(command="datagen"))
    assert rule_result(tmp_path, "2.1.17", G2).division is Division.INVALID


# ---------------------------------------------------------------- 2.1.18 gaps

@pytest.mark.parametrize("prefix, accel, gap, division", [
    ("", "h100", 30, Division.CLOSED),
    ("", "h100", 600, Division.CLOSED),        # v2.0: pause <= mean duration (600 s)
    ("", "h100", 601, Division.INVALID),
    (V3, "b200", 30, Division.CLOSED),
    (V3, "b200", 599, Division.CLOSED),        # v3.0: start-to-start 1199 s < 2 x 600 s
    (V3, "b200", 600, Division.INVALID),       # 1200 s is not < 1200 s
])
def test_run_gaps(tmp_path, prefix, accel, gap, division):
    write_training_submission(tmp_path, runs=6, prefix=prefix, accelerator=accel, gaps=[30, 30, gap, 30, 30])
    group = f"{prefix}/training/unet3d" if prefix else G2
    res = rule_result(tmp_path, "2.1.18", group)
    assert res.division is division
    if division is Division.INVALID:
        (problem,) = res.problems()
        assert problem.file == sorted(run_ids(tmp_path))[4]     # the run after the pause


def test_run_gaps_missing_times(tmp_path):
    runs = write_training_submission(tmp_path, runs=6)
    summary = json.loads((runs[2] / "summary.json").read_text())
    del summary["end"]
    (runs[2] / "summary.json").write_text(json.dumps(summary))
    res = rule_result(tmp_path, "2.1.18", G2)
    assert res.division is Division.INVALID
    assert res.problems()[0].file.endswith(f"{runs[2].name}/summary.json")


# ---------------------------------------------------------------- 2.1.13 datagen once, 3.2.1 datagen covers runs

def test_datagen_once(tmp_path):
    write_training_submission(tmp_path, runs=6)
    assert rule_result(tmp_path, "2.1.13", G2).division is Division.CLOSED
    write_training_run(tmp_path, TrainingRunSpec(command="datagen", start=datetime(2025, 6, 12)))
    res = rule_result(tmp_path, "2.1.13", G2)
    assert res.division is Division.INVALID and res.problems()[0].actual == "2"


def test_datagen_missing(tmp_path):
    write_training_submission(tmp_path, runs=6, datagen=False)
    assert rule_result(tmp_path, "2.1.13", G2).division is Division.INVALID


def test_datagen_covers_run(tmp_path):
    write_training_submission(tmp_path, runs=6, datagen=False)
    write_training_run(tmp_path, TrainingRunSpec(command="datagen", num_files_train=56_000,
                                                 start=datetime(2025, 6, 12)))
    assert rule_result(tmp_path, "3.2.1", G2).division is Division.CLOSED


def test_datagen_smaller_than_run(tmp_path):
    write_training_submission(tmp_path, runs=6, datagen=False)
    write_training_run(tmp_path, TrainingRunSpec(command="datagen", num_files_train=1_000,
                                                 start=datetime(2025, 6, 12)))
    res = rule_result(tmp_path, "3.2.1", G2)
    assert res.division is Division.INVALID
    assert len(res.problems()) == 6 and res.problems()[0].expected == "<= 1000"


# ---------------------------------------------------------------- 3.3.9 consistency

def test_consistent_parameters(tmp_path):
    write_training_submission(tmp_path, runs=6, params={"reader.read_threads": "8"})
    assert rule_result(tmp_path, "3.3.9", G2).division is Division.CLOSED


@pytest.mark.parametrize("change", [{"num_processes": 16, "num_files_train": 112_000},
                                    {"params": {"reader.read_threads": "16"}}])
def test_inconsistent_parameters(tmp_path, change):
    runs = write_training_submission(tmp_path, runs=5, params={"reader.read_threads": "8"})
    last = datetime.strptime(runs[-1].name, "%Y%m%d_%H%M%S") + timedelta(minutes=11)
    spec = TrainingRunSpec(start=last, params={"reader.read_threads": "8"})
    write_training_run(tmp_path, TrainingRunSpec(**{**spec.__dict__, **change}))
    res = rule_result(tmp_path, "3.3.9", G2)
    assert res.division is Division.INVALID
    assert all(p.file.endswith(last.strftime("%Y%m%d_%H%M%S")) for p in res.problems())


def test_unreadable_config_is_not_reported_as_a_difference(tmp_path):
    """A first run whose dlio_config does not parse: one 'not recorded' finding for it, not 'expected None'."""
    runs = write_training_submission(tmp_path, runs=6)
    (runs[0] / "dlio_config" / "config.yaml").write_text("foo: : :\n")
    res = rule_result(tmp_path, "3.3.9", G2)
    assert res.division is Division.INVALID
    problems = res.problems()
    assert [(p.parameter, p.actual, p.file) for p in problems] == [
        ("num_files_train", "not recorded", str(runs[0].relative_to(tmp_path)))]
    assert "None" not in problems[0].message + str(problems[0].expected)


# ---------------------------------------------------------------- single-run rules

def one_run(tmp_path: Path, **kw) -> str:
    write_training_run(tmp_path, TrainingRunSpec(**kw))
    return first_run(tmp_path)


@pytest.mark.parametrize("params, division", [
    ({"reader.read_threads": "8", "dataset.num_subfolders_train": "10"}, Division.CLOSED),
    ({"dataset.skip_listing": "True", "storage.storage_options.storage_library": "s3dlio",
      "workflow.checkpoint": "False"}, Division.CLOSED),       # tool-injected and workflow keys never count
    ({"dataset.format": "tfrecord"}, Division.OPEN),
    ({"reader.read_threads": "8", "reader.data_loader": "dali"}, Division.OPEN),
    ({"train.epochs": "1"}, Division.INVALID),
    ({"dataset.format": "tfrecord", "train.computation_time": "0"}, Division.INVALID),
])
def test_allowed_params(tmp_path, params, division):
    run = one_run(tmp_path, params=params)
    res = rule_result(tmp_path, "3.6.2", run)
    assert res.division is division
    bad = {p.parameter for p in res.problems()}
    assert bad == {k for k in params if k in ("dataset.format", "reader.data_loader", "train.epochs",
                                              "train.computation_time")}
    for problem in res.problems():
        assert problem.file and problem.file.startswith(run), problem   # names the file the override is in


def test_allowed_params_from_overrides_yaml(tmp_path):
    """Without params_dict in the metadata, the overrides come from dlio_config/overrides.yaml."""
    run = one_run(tmp_path, params={"train.epochs": "1"})
    meta_path = next((tmp_path / run).glob("*_metadata.json"))
    meta = json.loads(meta_path.read_text())
    del meta["params_dict"]
    meta_path.write_text(json.dumps(meta))
    res = rule_result(tmp_path, "3.6.2", run)
    assert res.division is Division.INVALID
    assert res.problems()[0].file == f"{run}/dlio_config/overrides.yaml"


@pytest.mark.parametrize("model, au, division", [
    ("unet3d", 95.0, Division.CLOSED), ("unet3d", 90.0, Division.CLOSED), ("unet3d", 89.9, Division.INVALID),
    ("cosmoflow", 75.0, Division.CLOSED), ("cosmoflow", 65.0, Division.INVALID),
])
def test_au_minimum(tmp_path, model, au, division):
    run = one_run(tmp_path, model=model, au_percent=au)
    assert rule_result(tmp_path, "3.3.2", run).division is division


def test_au_null(tmp_path):
    run = one_run(tmp_path)
    path = tmp_path / run / "summary.json"
    summary = json.loads(path.read_text())
    summary["metric"]["train_au_mean_percentage"] = None
    path.write_text(json.dumps(summary))
    res = rule_result(tmp_path, "3.3.2", run)
    assert res.division is None                      # a null is a damaged file: the loader refuses it ...
    parse = rule_result(tmp_path, "H6.1", run)       # ... and the documents-parse rule names file and field
    assert parse.division is Division.INVALID
    assert (parse.problems()[0].file, parse.problems()[0].parameter) == (f"{run}/summary.json",
                                                                         "metric.train_au_mean_percentage")


@pytest.mark.parametrize("kw, division", [
    ({}, Division.CLOSED),
    ({"num_files_train": 10}, Division.INVALID),          # 10 files // (7 x 8) = 0 steps
    ({"throughput": 0.0}, Division.INVALID),
])
def test_nonzero_steps(tmp_path, kw, division):
    run = one_run(tmp_path, **kw)
    assert rule_result(tmp_path, "H2.7", run).division is division


def test_complete_run_marker(tmp_path):
    run = one_run(tmp_path)
    assert rule_result(tmp_path, "H2.0", run).division is Division.CLOSED
    (tmp_path / run / ".mlps-incomplete").write_text(json.dumps({"reason": "SIGTERM at epoch 2"}))
    res = rule_result(tmp_path, "H2.0", run)
    assert res.division is Division.INVALID and "SIGTERM" in res.problems()[0].message


def test_complete_run_without_summary(tmp_path):
    run = one_run(tmp_path)
    (tmp_path / run / "summary.json").unlink()
    res = rule_result(tmp_path, "H2.0", run)
    assert res.division is Division.INVALID and res.problems()[0].file == f"{run}/summary.json"


@pytest.mark.parametrize("kw, division", [
    ({}, Division.CLOSED),                                       # 56,000 >= 28,000 (samples bound)
    ({"num_files_train": 27_999}, Division.INVALID),
    ({"num_processes": 4, "num_files_train": 14_000}, Division.CLOSED),
    ({"host_memory_gib": 2048.0, "num_files_train": 56_000}, Division.INVALID),   # 5 x 2 TiB needs 74,994 files
])
def test_dataset_size(tmp_path, kw, division):
    run = one_run(tmp_path, **kw)
    assert rule_result(tmp_path, "3.1.2", run).division is division


@pytest.mark.parametrize("model, accel, prefix, division", [
    ("unet3d", "h100", "", Division.CLOSED),
    ("unet3d", "b200", V3, Division.CLOSED),
    ("resnet50", "b200", V3, Division.OPEN),        # not a CLOSED model in v3.0
    ("bert", "h100", "", Division.INVALID),
])
def test_model_known(tmp_path, model, accel, prefix, division):
    write_training_run(tmp_path, TrainingRunSpec(model=model, accelerator=accel), prefix)
    assert rule_result(tmp_path, "H2.2", first_run(tmp_path)).division is division


@pytest.mark.parametrize("accel, prefix, division", [
    ("h100", "", Division.CLOSED), ("b200", V3, Division.CLOSED), ("h100", V3, Division.OPEN),
    ("tpu9", "", Division.INVALID),
])
def test_accelerator_known(tmp_path, accel, prefix, division):
    write_training_run(tmp_path, TrainingRunSpec(accelerator=accel), prefix)
    assert rule_result(tmp_path, "H2.3", first_run(tmp_path)).division is division


@pytest.mark.parametrize("model, params, division", [
    ("unet3d", {"reader.odirect": "True"}, Division.CLOSED),
    ("cosmoflow", {}, Division.CLOSED),
])
def test_odirect_closed(tmp_path, model, params, division):
    run = one_run(tmp_path, model=model, params=params)
    assert rule_result(tmp_path, "H2.6", run).division is division


def test_odirect_not_allowed_for_cosmoflow(tmp_path):
    run = one_run(tmp_path, model="cosmoflow")
    path = tmp_path / run / "dlio_config" / "config.yaml"
    path.write_text(path.read_text().replace("read_threads: 4", "read_threads: 4\n    odirect: true"))
    assert rule_result(tmp_path, "H2.6", run).division is Division.INVALID


@pytest.mark.parametrize("checkpoint, division", [(True, Division.CLOSED), (False, Division.INVALID)])
def test_workflow_checkpoint_v20(tmp_path, checkpoint, division):
    run = one_run(tmp_path, checkpoint=checkpoint)
    assert rule_result(tmp_path, "H2.5", run).division is division


@pytest.mark.parametrize("procs, hosts, division", [(8, 2, Division.CLOSED), (9, 2, Division.INVALID)])
def test_accelerators_per_host(tmp_path, procs, hosts, division):
    run = one_run(tmp_path, num_processes=procs, num_hosts=hosts, num_files_train=200_000)
    assert rule_result(tmp_path, "3.3.6", run).division is division


@pytest.mark.parametrize("data_dir, division", [("/mnt/fs/data", Division.CLOSED),
                                                ("/srv/results/data", Division.INVALID)])
def test_data_dir_separate(tmp_path, data_dir, division):
    run = one_run(tmp_path, data_dir=data_dir)
    assert rule_result(tmp_path, "3.4.1", run).division is division
