"""Real 2-rank mpirun runs of the checkpoint workload at tiny size."""

import json
import statistics
from pathlib import Path

import pytest

from mlps_harness.benchmarks.checkpointing.workload import checkpoint_bytes_per_rank

from .conftest import TINY_SCALE

SUMMARY_TOP_KEYS = {"start", "end", "num_accelerators", "num_hosts", "hostname", "host_memory_GB",
                    "host_cpu_count", "host_meminfo", "metric", "workload"}
PHASE_METRICS = ["io_mean_GB_per_second", "io_stdev_GB_per_second",
                 "duration_mean_seconds", "duration_stdev_seconds"]
WORKLOAD_KEYS = {"model", "num_ranks", "subset", "size_scale", "transfer_size", "odirect", "fsync",
                 "cache_drop_method", "num_checkpoints_write", "num_checkpoints_read",
                 "checkpoint_folder", "time_between_checkpoints"}


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_two_rank_run_writes_planned_bytes_and_upstream_shaped_results(run_checkpoint_workload):
    run = run_checkpoint_workload("--num-checkpoints-write", "2", "--num-checkpoints-read", "3",
                                  "--size-scale", str(TINY_SCALE), "--transfer-size", "256K")
    assert run.returncode == 0, run.stderr
    planned = checkpoint_bytes_per_rank("llama3-8b", 2, size_scale=TINY_SCALE)
    for index in (1, 2):
        assert _bytes_under(run.checkpoint_folder / f"checkpoint_{index}") == sum(planned)
    assert not (run.checkpoint_folder / "checkpoint_3").exists()

    summary = _load(run.output_dir / "summary.json")
    assert SUMMARY_TOP_KEYS <= summary.keys()
    assert summary["num_accelerators"] == 2 and summary["num_hosts"] == 1
    metric = summary["metric"]
    assert metric["checkpoint_size_GB"] == pytest.approx(sum(planned) / 2**30)
    for phase in ("save", "load"):
        for name in PHASE_METRICS:
            assert metric[f"{phase}_checkpoint_{name}"] >= 0
    workload = summary["workload"]
    assert WORKLOAD_KEYS <= workload.keys()
    assert workload["subset"] is True and workload["size_scale"] == TINY_SCALE
    assert workload["transfer_size"] == 256 * 1024
    assert workload["cache_drop_method"] in ("drop_caches", "fadvise_dontneed")
    assert workload["load_sources"] == [1, 2, 1]
    assert workload["bytes_per_rank"] == planned
    transfer_MiB = 0.25
    assert all(0 < rss <= 2 * transfer_MiB + 100 for rss in workload["peak_rss_MB_per_rank"])

    per_rank = [_load(run.output_dir / f"{rank}_per_epoch_stats.json")["1"] for rank in (0, 1)]
    for rank, stats in enumerate(per_rank):
        names = [k for k in stats if k not in ("start", "end")]
        assert names == ["save_ckpt1", "save_ckpt2", "load_ckpt1", "load_ckpt2", "load_ckpt3"]
        for entry in (stats[n] for n in names):
            assert set(entry) == {"start", "end", "duration", "throughput"} and entry["duration"] > 0
        output = _load(run.output_dir / f"{rank}_output.json")
        assert {"host_memory_GB", "host_cpu_count", "host_meminfo", "hostname", "1"} <= output.keys()
        assert output["workload"]["rank_bytes"] == planned[rank]
    # summary duration = mean over checkpoints of the slowest rank
    slowest = [max(s[f"save_ckpt{k}"]["duration"] for s in per_rank) for k in (1, 2)]
    assert metric["save_checkpoint_duration_mean_seconds"] == pytest.approx(statistics.fmean(slowest), abs=2e-6)
    for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
        assert (run.output_dir / "dlio_config" / name).is_file()
    assert "[METRIC]" in (run.output_dir / "dlio.log").read_text()


def test_read_only_invocation_reuses_checkpoints_and_odirect_fadvise_path(run_checkpoint_workload, tmp_path):
    common = ("--size-scale", str(TINY_SCALE), "--transfer-size", "64K", "--odirect",
              "--cache-drop", "fadvise", "--time-between-checkpoints", "0.01")
    first = run_checkpoint_workload("--num-checkpoints-write", "2", "--num-checkpoints-read", "0", *common)
    assert first.returncode == 0, first.stderr
    assert "load_checkpoint_duration_mean_seconds" not in _load(first.output_dir / "summary.json")["metric"]
    second = run_checkpoint_workload("--num-checkpoints-write", "0", "--num-checkpoints-read", "2", *common,
                                     output_dir=tmp_path / "results-read")
    assert second.returncode == 0, second.stderr
    summary = _load(second.output_dir / "summary.json")
    assert summary["workload"]["cache_drop_method"] == "fadvise_dontneed"
    assert summary["workload"]["odirect"] is True
    assert summary["workload"]["time_between_checkpoints"] == 0.01
    assert summary["workload"]["load_sources"] == [1, 2]
    assert "save_checkpoint_duration_mean_seconds" not in summary["metric"]
    assert summary["metric"]["load_checkpoint_duration_mean_seconds"] > 0


def _assert_usage_error(run, option: str) -> None:
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr
    assert option in run.stderr


@pytest.mark.parametrize("extra, option", [
    (("--model", "llama3-9b"), "--model"),
    (("--model", "llama3-70b", "--no-subset"), "--num-processes"),
    (("--num-checkpoints-write", "-1"), "--num-checkpoints-write"),
    (("--num-checkpoints-read", "-3"), "--num-checkpoints-read"),
    (("--size-scale", "10000"), "--checkpoint-folder"),
    (("--transfer-size", "lots"), "--transfer-size"),
])
def test_bad_input_exits_2_naming_the_option(run_checkpoint_workload, extra, option):
    run = run_checkpoint_workload(*extra)
    _assert_usage_error(run, option)
    assert not any(run.checkpoint_folder.iterdir())


def test_missing_or_non_directory_checkpoint_folder(run_checkpoint_workload, tmp_path):
    _assert_usage_error(run_checkpoint_workload(checkpoint_folder=tmp_path / "absent"), "--checkpoint-folder")
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    _assert_usage_error(run_checkpoint_workload(checkpoint_folder=a_file), "--checkpoint-folder")


def test_read_only_without_checkpoints_on_disk_is_refused(run_checkpoint_workload):
    run = run_checkpoint_workload("--num-checkpoints-write", "0", "--num-checkpoints-read", "1",
                                  "--size-scale", str(TINY_SCALE))
    _assert_usage_error(run, "--num-checkpoints-read")


def test_failing_rank_fails_run_and_partial_checkpoint_is_removed(run_checkpoint_workload, tmp_path):
    folder = tmp_path / "ckpt"
    # a directory where rank 1's optimizer shard of checkpoint 2 must go makes rank 1 fail there
    (folder / "checkpoint_2" / "rank_1.optimizer.bin").mkdir(parents=True)
    run = run_checkpoint_workload("--num-checkpoints-write", "3", "--num-checkpoints-read", "1",
                                  "--size-scale", str(TINY_SCALE), checkpoint_folder=folder)
    assert run.returncode != 0
    assert "rank 1" in run.stderr and "checkpoint 2" in run.stderr
    assert "Traceback" not in run.stderr
    assert [p for p in (folder / "checkpoint_2").rglob("*") if p.is_file()] == []
    assert _bytes_under(folder / "checkpoint_1") == sum(
        checkpoint_bytes_per_rank("llama3-8b", 2, size_scale=TINY_SCALE))
    assert not (folder / "checkpoint_3").exists()
    assert not (run.output_dir / "summary.json").exists()
