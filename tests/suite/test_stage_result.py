"""`StageResult`: the one record of what a suite stage did, shared by every benchmark's stages."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.launch import RunResult
from mlps_harness.suite.stage_result import StageResult, written_dirs


def _process(tmp_path: Path, returncode: int, **more) -> RunResult:
    return RunResult(["mpirun", "prog"], returncode, 3.5, tmp_path / "out.log", tmp_path / "err.log", **more)


def test_a_clean_process_is_ok_and_its_duration_is_kept(tmp_path: Path) -> None:
    done = StageResult.of_process("run/0", tmp_path, _process(tmp_path, 0), "DLIO")
    assert done.ok and done.seconds == 3.5 and done.failure() == ""


def test_a_failed_process_explains_itself_after_its_causes(tmp_path: Path) -> None:
    done = StageResult.of_process("run/1", tmp_path, _process(tmp_path, 2), "DLIO", causes=["error: rank 1 failed"],
                                  error="missing rank results: rank_1")
    lines = done.failure().splitlines()
    assert not done.ok
    assert lines[:2] == ["error: rank 1 failed", "missing rank results: rank_1"]
    assert lines[2] == "DLIO failed with exit code 2 after 3.5 s"


def test_timed_out_and_interrupted_processes_are_not_ok(tmp_path: Path) -> None:
    for flags in ({"timed_out": True}, {"interrupted_by": "SIGTERM"}):
        done = StageResult.of_process("run/0", tmp_path, _process(tmp_path, 0, **flags), "the workload")
        assert not done.ok and "the workload" in done.failure()


def test_without_a_process_ok_means_a_run_dir_and_no_error(tmp_path: Path) -> None:
    assert StageResult("datagen", tmp_path, reused=True).ok                  # reused: nothing launched
    assert StageResult("load", tmp_path, figures={"inserted_vectors": 5}).ok  # ran in this process
    assert not StageResult("load", error="no Milvus server").ok
    assert StageResult("load", error="no Milvus server").failure() == "no Milvus server"
    assert not StageResult("run/0", tmp_path, error="boom").ok
    assert not StageResult("run/0").ok                                       # it never wrote a directory


def test_written_dirs_keys_by_slot_and_skips_what_was_not_written(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    results = [StageResult("run/0", tmp_path / "a"), StageResult("load", error="x"),
               StageResult("datagen", tmp_path / "gone", reused=True)]
    assert written_dirs(results) == {"run/0": tmp_path / "a"}
