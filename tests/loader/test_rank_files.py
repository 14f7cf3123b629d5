"""Issue #15 item 7: DLIO's per-rank files (`<rank>_output.json`, `<rank>_per_epoch_stats.json`) must agree with
summary.json; each disagreement is an INVALID finding naming the file and the field. Real upstream runs stay clean."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from mlps_harness.dlio.rank_files import rank_file_consistency, read_rank_files
from mlps_harness.loader import ResultsIndex
from mlps_harness.outcomes import Division

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
TRAINING = SAMPLES / "upstream-v2.0-unet3d-3runs"
CHECKPOINTING = SAMPLES / "upstream-v2.0-llama3-8b-checkpointing"

needs_samples = pytest.mark.skipif(not TRAINING.is_dir() or not CHECKPOINTING.is_dir(),
                                   reason=f"upstream samples not found under {SAMPLES}")
pytestmark = needs_samples


def _copy(sample: Path, tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / sample.name
    shutil.copytree(sample, root)
    run_dir = min(p.parent for p in root.rglob("summary.json"))
    return root, run_dir


def _edit(path: Path, change: Callable[[dict], None]) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _rank_findings(root: Path, run_dir: Path):
    index = ResultsIndex(root, "auto")
    (ref,) = [r for r in index.refs if Path(r.path) == run_dir]
    return [f for f in index.run(ref.run_id).load_findings if f.division is Division.INVALID]


@pytest.mark.parametrize("sample", [TRAINING, CHECKPOINTING], ids=["training", "checkpointing"])
def test_upstream_runs_agree_with_their_rank_files(sample: Path) -> None:
    for summary_path in sorted(sample.rglob("summary.json")):
        run_dir = summary_path.parent
        summary = json.loads(summary_path.read_text())
        names = [p.name for p in run_dir.iterdir()]
        outputs, epochs, problems = read_rank_files(str(run_dir), names, run_dir.name)
        # the checks had everything to compare: every rank's two files
        assert set(outputs) == set(epochs) == set(range(summary["num_accelerators"]))
        assert problems == [] and rank_file_consistency(summary, outputs, epochs, run_dir.name) == []


def _set_au(rank: int, epoch: int, value: float) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        doc[str(epoch)]["au"]["block1"] = value
    return change


TRAINING_CASES = [
    # (file edited, change, file named by the finding, field)
    ("1_output.json", _set_au(1, 3, 99.0), "summary.json", "metric.train_au_percentage.2"),
    ("0_output.json", lambda d: d["2"]["throughput"].update(block1=1e6), "summary.json",
     "metric.train_throughput_samples_per_second.1"),
    ("0_output.json", lambda d: d.update(host_memory_GB=512.0), "0_output.json", "host_memory_GB"),
    ("1_output.json", lambda d: d.update(host_cpu_count=128), "1_output.json", "host_cpu_count"),
    ("1_output.json", lambda d: d.update(hostname="elsewhere"), "1_output.json", "hostname"),
    ("0_per_epoch_stats.json", lambda d: d.update({"9": d["1"]}), "0_per_epoch_stats.json", "9"),
    ("summary.json", lambda d: d.update(num_accelerators=1), "1_output.json", "rank"),
]


@pytest.mark.parametrize("edited,change,named,field", TRAINING_CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in TRAINING_CASES])
def test_a_training_rank_file_that_disagrees_is_invalid(tmp_path: Path, edited: str, change, named: str,
                                                        field: str) -> None:
    root, run_dir = _copy(TRAINING, tmp_path)
    _edit(run_dir / edited, change)
    found = _rank_findings(root, run_dir)
    assert any(f.file.endswith(f"/{named}") and f.parameter == field for f in found), \
        [(f.file, f.parameter, f.message) for f in found]


def _scale_save_mean(doc: dict) -> None:
    doc["metric"]["save_checkpoint_duration_mean_seconds"] *= 10


def _double_throughput(doc: dict) -> None:
    doc["1"]["load_ckpt4"]["throughput"] *= 2


def _slow_rank_duration(doc: dict) -> None:  # the slowest-rank bound moves up, the mean now lies below the fastest
    for key, record in doc["1"].items():
        if key.startswith("save_ckpt"):
            record["duration"] = 10.0
            record["throughput"] = 0.002703070640563965 / 10.0


CHECKPOINT_CASES = [
    ("summary.json", _scale_save_mean, "summary.json", "metric.save_checkpoint_duration_mean_seconds"),
    ("3_per_epoch_stats.json", _double_throughput, "3_per_epoch_stats.json", "1.load_ckpt4.throughput"),
]


@pytest.mark.parametrize("edited,change,named,field", CHECKPOINT_CASES, ids=[c[3] for c in CHECKPOINT_CASES])
def test_a_checkpointing_rank_file_that_disagrees_is_invalid(tmp_path: Path, edited: str, change, named: str,
                                                             field: str) -> None:
    root, run_dir = _copy(CHECKPOINTING, tmp_path)
    _edit(run_dir / edited, change)
    found = _rank_findings(root, run_dir)
    assert any(f.file.endswith(f"/{named}") and f.parameter == field for f in found), \
        [(f.file, f.parameter, f.message) for f in found]


def test_every_rank_slower_than_the_summary_says_is_invalid(tmp_path: Path) -> None:
    root, run_dir = _copy(CHECKPOINTING, tmp_path)
    for path in run_dir.glob("*_per_epoch_stats.json"):
        _edit(path, _slow_rank_duration)
    found = _rank_findings(root, run_dir)
    assert [f.parameter for f in found if f.file.endswith("/summary.json")] == \
        ["metric.save_checkpoint_duration_mean_seconds"], [(f.file, f.parameter) for f in found]


def test_a_truncated_rank_file_is_named(tmp_path: Path) -> None:
    root, run_dir = _copy(TRAINING, tmp_path)
    text = (run_dir / "1_per_epoch_stats.json").read_text()
    (run_dir / "1_per_epoch_stats.json").write_text(text[: len(text) // 2])
    found = _rank_findings(root, run_dir)
    assert any(f.file.endswith("/1_per_epoch_stats.json") and "not valid JSON" in f.message for f in found)


def test_absent_fields_and_missing_ranks_are_not_compared() -> None:
    summary = {"num_accelerators": 8, "num_hosts": 1, "epochs": 5, "host_memory_GB": [100.0],
               "metric": {"train_au_percentage": [90.0] * 5, "checkpoint_size_GB": 1.0,
                          "save_checkpoint_duration_mean_seconds": 3.0}}
    stand_in = {"__STAND_IN__": "not copied"}
    assert rank_file_consistency(summary, {0: stand_in}, {0: stand_in}, "run") == []
    # one rank of eight: its AU is not the mean of all eight, so nothing is compared
    rank0 = {"host_memory_GB": 100.0, "1": {"au": {"block1": 10.0}}}
    assert rank_file_consistency(summary, {0: rank0}, {}, "run") == []
