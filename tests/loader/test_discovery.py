"""Discovery (layouts, ignored `datasize` leaves, deterministic order) and rules-version inference."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mlps_harness.benchmarks.training.synthetic import (
    TrainingRunSpec,
    write_training_run,
    write_training_submission,
)
from mlps_harness.loader import ResultsIndex, discover
from mlps_harness.loader.parse import probe_rules_version

V3 = "closed/acme/results/sys1"


def test_v20_layout(tmp_path):
    write_training_submission(tmp_path, runs=2)
    found = discover(tmp_path)
    assert [(r.command, r.layout_version, r.group_id, r.prefix) for r in found.runs] == [
        ("datagen", "v2.0", "training/unet3d", ""), ("run", "v2.0", "training/unet3d", ""),
        ("run", "v2.0", "training/unet3d", "")]


def test_v30_prefix(tmp_path):
    write_training_submission(tmp_path, runs=1, prefix=V3, accelerator="b200")
    write_training_submission(tmp_path, runs=1, prefix="open/acme/results/sys2", accelerator="h100")
    found = discover(tmp_path)
    assert {(r.division_dir, r.group_id, r.layout_version) for r in found.runs} == {
        ("closed", f"{V3}/training/unet3d", "v3.0"), ("open", "open/acme/results/sys2/training/unet3d", "v3.0")}


@pytest.mark.parametrize("prefix, extra, requested, expected", [
    ("", {}, "auto", "v2.0"),
    (V3, {}, "auto", "v3.0"),
    ("", {"harness": {"rules_version": "v3.0"}}, "auto", "v3.0"),     # our metadata names its ruleset
    (V3, {"harness": {"rules_version": "v2.0"}}, "auto", "v2.0"),
    ("", {"mlpstorage_version": "3.0.1"}, "auto", "v3.0"),
    ("", {"harness": {"rules_version": "v9.9"}}, "auto", "v2.0"),    # unknown: fall back to the layout
    ("", {}, "v3.0", "v3.0"),                                         # --rules-version wins
])
def test_rules_version_inference(tmp_path, prefix, extra, requested, expected):
    write_training_run(tmp_path, TrainingRunSpec(extra_metadata=extra), prefix)
    index = ResultsIndex(tmp_path, requested)
    (ref,) = index.refs
    assert probe_rules_version(ref, requested) == expected     # what collection knows before parsing...
    assert ResultsIndex(tmp_path, requested).run(ref.run_id).rules_version == expected   # ...parsing finds alone
    assert index.version(ref.run_id) == expected and index.run(ref.run_id).rules_version == expected


def test_rules_version_read_before_validation(tmp_path):
    """A metadata document that fails validation still names its ruleset: collection (which reads it unvalidated)
    and the parsed run agree on it, and the run keeps its validation finding."""
    path = write_training_run(tmp_path, TrainingRunSpec(extra_metadata={"harness": {"rules_version": "v2.0"}}), V3)
    meta = next(path.glob("*_metadata.json"))
    doc = json.loads(meta.read_text())
    doc["run_number"] = "not a number"
    meta.write_text(json.dumps(doc))
    index = ResultsIndex(tmp_path)
    (ref,) = index.refs
    run = index.run(ref.run_id)
    assert run.metadata is None and any("run_number" in f.message for f in run.load_findings)
    assert run.rules_version == index.version(ref.run_id) == probe_rules_version(ref) == "v2.0"


@pytest.mark.parametrize("damage", ["missing", "not json", "a list"])
def test_rules_version_without_readable_metadata_is_the_layouts(tmp_path, damage):
    path = write_training_run(tmp_path, TrainingRunSpec(extra_metadata={"harness": {"rules_version": "v2.0"}}), V3)
    meta = next(path.glob("*_metadata.json"))
    if damage == "missing":
        meta.unlink()
    else:
        meta.write_text("{truncated" if damage == "not json" else "[1, 2]")
    index = ResultsIndex(tmp_path)
    (ref,) = index.refs
    assert probe_rules_version(ref) == index.run(ref.run_id).rules_version == "v3.0"


def test_group_version_follows_runs(tmp_path):
    write_training_submission(tmp_path, runs=2, extra_metadata={"harness": {"rules_version": "v3.0"}})
    assert ResultsIndex(tmp_path).group("training/unet3d").rules_version == "v3.0"


def test_datasize_leaves_are_not_runs(tmp_path):
    """Upstream issue #760: a leftover `datasize` leaf must not count as a run or invocation."""
    write_training_submission(tmp_path, runs=6)
    leaf = tmp_path / "training" / "unet3d" / "datasize" / "20250613_090000"
    leaf.mkdir(parents=True)
    (leaf / "training_20250613_090000_metadata.json").write_text(json.dumps({"benchmark_type": "training"}))
    found = discover(tmp_path)
    assert not [r for r in found.runs if "datasize" in r.run_id]
    assert ("training/unet3d/datasize/20250613_090000", "'datasize' output is not a run") in found.ignored
    assert len(ResultsIndex(tmp_path).group("training/unet3d").by_command("run")) == 6


def test_order_is_sorted_and_independent_of_creation_order(tmp_path):
    starts = [datetime(2025, 6, 13) + timedelta(hours=i) for i in range(8)]
    models = ["unet3d", "resnet50", "cosmoflow"]
    orders = []
    for attempt in range(2):
        root = tmp_path / str(attempt)
        combos = [(m, s) for m in models for s in starts]
        random.Random(attempt).shuffle(combos)
        for model, start in combos:
            write_training_run(root, TrainingRunSpec(model=model, start=start))
        ids = [r.run_id for r in discover(root).runs]
        assert ids == sorted(ids)
        orders.append(ids)
    assert orders[0] == orders[1] and len(orders[0]) == 24


def test_checkpointing_layouts(tmp_path):
    for path in ("checkpointing/llama3-8b/20250613_120000", "checkpointing/llama3-70b/run/20250613_120000"):
        (tmp_path / path).mkdir(parents=True)
        (tmp_path / path / "summary.json").write_text("{}")
    refs = discover(tmp_path).runs
    assert [(r.model, r.command, r.group_id) for r in refs] == [
        ("llama3-70b", "run", "checkpointing/llama3-70b"), ("llama3-8b", "run", "checkpointing/llama3-8b")]


def test_symlinked_run_dir_is_a_run_never_followed(tmp_path):
    (run,) = write_training_submission(tmp_path, runs=1, datagen=False)
    (run.parent / "20250614_000000").symlink_to(run.parent, target_is_directory=True)   # a loop
    refs = discover(tmp_path).runs
    link = next(r for r in refs if r.leaf == "20250614_000000")
    assert link.is_symlink
    parsed = ResultsIndex(tmp_path).run(link.run_id)
    assert parsed.files == [] and "symbolic link" in parsed.load_findings[0].message
    for requested, expected in (("auto", "v2.0"), ("v3.0", "v3.0")):   # never read: the layout's, or the one asked
        index = ResultsIndex(tmp_path, requested)
        assert probe_rules_version(link, requested) == index.version(link.run_id) == expected
        assert index.run(link.run_id).rules_version == expected


def test_index_parses_each_run_once(tmp_path):
    write_training_submission(tmp_path, runs=3)
    index = ResultsIndex(tmp_path)
    for ref in index.refs:
        index.run(ref.run_id)
        index.run(ref.run_id)
    index.group("training/unet3d")
    assert index.parse_count == 4


def test_unknown_benchmark_dir_is_discovered(tmp_path: Path):
    write_training_run(tmp_path, TrainingRunSpec())
    (tmp_path / "training").rename(tmp_path / "trainingz")
    (ref,) = discover(tmp_path).runs
    assert ref.benchmark == "trainingz" and ref.command == "run"
