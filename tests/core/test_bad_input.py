"""Bad input: usage errors for a bad --results-dir; every defect inside the tree is an INVALID finding that names
the file, while the other runs are still audited; never an INTERNALERROR or a traceback."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from mlps_harness.benchmarks.training.synthetic import write_training_submission
from mlps_harness.loader.safe_io import MAX_DOCUMENT_BYTES, read_json, read_text

RUN = "training/unet3d/run"


# ---------------------------------------------------------------- --results-dir itself

@pytest.mark.parametrize("make, expected", [
    (lambda p: p / "nope", "no such directory"),
    (lambda p: (p / "file.txt").write_text("x") and p / "file.txt", "not a directory"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "no runs found"),
    (lambda p: (p / "other" / "deep").mkdir(parents=True) or p / "other", "no runs found"),
])
def test_bad_results_dir_is_a_usage_error(audit, tmp_path, make, expected):
    target = make(tmp_path)
    res = audit(target, subprocess=True)
    assert res.result.ret == pytest.ExitCode.USAGE_ERROR
    err = res.result.stderr.str()
    assert str(target) in err and expected in err
    assert "training/<model>" in err                           # says what was expected
    res.assert_clean()
    assert not res.data


def test_missing_results_dir_option(pytester):
    from tests.helpers import COMPLIANCE

    res = pytester.runpytest_subprocess(str(COMPLIANCE), "-p", "no:cacheprovider")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "--results-dir is required" in res.stderr.str()


# ---------------------------------------------------------------- defects inside the tree

def _json_edit(rel: str, fn: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        path = next(run.glob(rel))
        data = json.loads(path.read_text())
        fn(data)
        path.write_text(json.dumps(data))
    return edit


def _set(path: str, value) -> Callable[[dict], None]:
    def fn(data: dict) -> None:
        *parents, last = path.split(".")
        for p in parents:
            data = data[p]
        data[last] = value
    return fn


def _truncate(run: Path) -> None:
    path = run / "summary.json"
    text = path.read_text()
    path.write_text(text[: len(text) // 2])


def _nan(run: Path) -> None:
    path = run / "summary.json"
    data = json.loads(path.read_text())
    data["metric"]["train_au_mean_percentage"] = float("nan")
    path.write_text(json.dumps(data))          # Python writes the bare token NaN, as DLIO's json.dump would


def _second_metadata(run: Path) -> None:
    meta = next(run.glob("*_metadata.json"))
    shutil.copy(meta, run / "training_20990101_000000_metadata.json")


def _symlink_loop(run: Path) -> None:
    (run / "summary.json").unlink()
    (run / "summary.json").symlink_to("summary.json")


def _dir_loop(run: Path) -> None:
    (run / "dlio_config" / "loop").symlink_to("..", target_is_directory=True)


def _fifo(run: Path) -> None:
    (run / "summary.json").unlink()
    os.mkfifo(run / "summary.json")


def _dangling(run: Path) -> None:
    (run / "summary.json").unlink()
    (run / "summary.json").symlink_to("/nonexistent/summary.json")


def _non_utf8(run: Path) -> None:
    meta = next(run.glob("*_metadata.json"))
    meta.write_bytes(meta.read_bytes().replace(b'"training"', b'"tr\xff\xfeining"', 1))


def _huge(run: Path) -> None:
    with open(run / "summary.json", "r+b") as fh:       # sparse: costs no disk, would cost 40 MiB to read
        fh.truncate(MAX_DOCUMENT_BYTES + 8 * 1024 * 1024)


def _wrong_top_level(run: Path) -> None:
    (run / "summary.json").write_text("[1, 2, 3]")


def _shell_params(run: Path) -> None:
    marker = run.parent.parent.parent.parent / "pwned"
    meta = next(run.glob("*_metadata.json"))
    data = json.loads(meta.read_text())
    data["params_dict"][f"reader.read_threads;touch {marker}"] = "$(touch {marker})"
    data["args"]["params"].append(f"`touch {marker}`=1")
    meta.write_text(json.dumps(data))


def _rename(new: str) -> Callable[[Path], None]:
    return lambda run: run.rename(run.parent / new)


def _move_model(model: str) -> Callable[[Path], None]:
    def move(run: Path) -> None:
        target = run.parent.parent.parent / model / "run" / run.name
        target.parent.mkdir(parents=True)
        run.rename(target)
    return move


def _move_benchmark(run: Path) -> None:
    target = run.parents[3] / "bogus" / "unet3d" / "run" / run.name
    target.parent.mkdir(parents=True)
    run.rename(target)


def _empty_dir(run: Path) -> None:
    (run.parent / "20250613_235959").mkdir()


# (id, break the 3rd run dir, run id that must be INVALID (None: the broken run), text naming the file)
DEFECTS = [
    ("missing-summary", lambda r: (r / "summary.json").unlink(), None, "summary.json"),
    ("missing-metadata", lambda r: next(r.glob("*_metadata.json")).unlink(), None, "_metadata.json"),
    ("missing-config", lambda r: (r / "dlio_config" / "config.yaml").unlink(), None, "dlio_config/config.yaml"),
    ("truncated-json", _truncate, None, "summary.json"),
    ("empty-json", lambda r: (r / "summary.json").write_text(""), None, "summary.json"),
    ("wrong-top-level", _wrong_top_level, None, "summary.json"),
    ("string-number", _json_edit("summary.json", _set("num_accelerators", "8")), None, "summary.json"),
    ("string-au", _json_edit("summary.json", _set("metric.train_au_mean_percentage", "95")), None, "summary.json"),
    ("list-as-args", _json_edit("*_metadata.json", _set("args", [1, 2])), None, "_metadata.json"),
    ("nan-metric", _nan, None, "summary.json"),
    ("null-metric", _json_edit("summary.json", _set("metric.train_au_mean_percentage", None)), None,
     "summary.json"),
    ("null-start", _json_edit("summary.json", _set("start", None)), None, "summary.json"),
    ("two-metadata", _second_metadata, None, "training_20990101_000000_metadata.json"),
    ("empty-run-dir", _empty_dir, f"{RUN}/20250613_235959", f"{RUN}/20250613_235959"),
    ("unknown-model", _move_model("bert"), "training/bert/run/20250613_112100", "training/bert/run/20250613_112100"),
    ("unknown-benchmark", _move_benchmark, "bogus/unet3d/run/20250613_112100", "bogus"),
    ("bad-datetime-name", _rename("latest"), f"{RUN}/latest", f"{RUN}/latest"),
    ("space-in-name", _rename("20250613_112100 copy"), f"{RUN}/20250613_112100 copy", "20250613_112100 copy"),
    ("newline-in-name", _rename("20250613_112100\nx"), f"{RUN}/20250613_112100\nx", "20250613_112100\nx"),
    ("symlink-loop", _symlink_loop, None, "summary.json"),
    ("dir-symlink-loop", _dir_loop, None, "dlio_config"),
    ("fifo", _fifo, None, "summary.json"),
    ("dangling-link", _dangling, None, "summary.json"),
    ("non-utf8", _non_utf8, None, "_metadata.json"),
    ("huge-file", _huge, None, "summary.json"),
    ("shell-metachars", _shell_params, None, "_metadata.json"),
]


@pytest.fixture
def submission(tmp_path) -> tuple[Path, list[Path]]:
    root = tmp_path / "results"
    return root, write_training_submission(root, runs=6)


@pytest.mark.parametrize("name, breaker, bad_run, file_text", DEFECTS, ids=[d[0] for d in DEFECTS])
def test_defect_is_an_invalid_finding(audit, submission, name, breaker, bad_run, file_text):
    root, runs = submission
    victim = runs[2]
    breaker(victim)
    bad_run = bad_run or str(victim.relative_to(root))
    res = audit(root)
    res.assert_clean()
    assert res.result.ret == pytest.ExitCode.TESTS_FAILED
    assert res.data["verdict"] == "INVALID"
    assert res.runs.get(bad_run) == "INVALID", (bad_run, res.runs)
    named = [f for f in res.findings(run=bad_run) if file_text in (f.get("file") or "")]
    assert named, (file_text, res.findings(run=bad_run))
    assert all(f.get("fix") for f in res.findings(run=bad_run) if f.get("division") == "INVALID")
    others = {r: v for r, v in res.runs.items() if r != bad_run and r != str(victim.relative_to(root))}
    assert len(others) == 6 and set(others.values()) == {"CLOSED"}, others   # the rest is still audited
    assert not (root.parent / "pwned").exists()


def test_huge_file_is_not_read(tmp_path, monkeypatch):
    path = tmp_path / "summary.json"
    path.write_text("{}")
    with open(path, "r+b") as fh:
        fh.truncate(MAX_DOCUMENT_BYTES + 1)
    monkeypatch.setattr("builtins.open", lambda *a, **k: pytest.fail("opened a file over the limit"))
    data, problem = read_json(str(path), "x/summary.json")
    assert data is None and "over the" in problem.message and problem.file == "x/summary.json"


def test_fifo_is_never_opened(tmp_path):
    os.mkfifo(tmp_path / "f")
    text, problem = read_text(str(tmp_path / "f"), "f")     # would block forever if opened
    assert text is None and problem.actual == "fifo"


@pytest.mark.parametrize("extra", [(), ("-p", "no:mlps_audit_pool")], ids=["pool", "xdist"])
def test_undecodable_names_and_escapes_under_n_2(audit, submission, extra):
    """Non-UTF-8 bytes in a directory name, a newline in one, and a lone-surrogate JSON escape: all reach the
    audit pool's results and the xdist controller (which only ships UTF-8) as INVALID runs, with the same verdict as
    a serial run."""
    root, runs = submission
    os.rename(bytes(runs[1]), bytes(runs[1].parent) + b"/20250613_111030\xff")
    runs[2].rename(runs[2].parent / "20250613_112100\nx")
    _json_edit("*_metadata.json", _set("args.accelerator_type", "h100\udcff"))(runs[3])
    parallel = audit(root, "-n", "2", *extra, subprocess=True)
    parallel.assert_clean()
    assert parallel.runs[f"{RUN}/20250613_111030\\xff"] == "INVALID"
    assert parallel.runs[f"{RUN}/20250613_112100\nx"] == "INVALID"
    assert parallel.runs[f"{RUN}/20250613_113130"] == "INVALID"
    (accel,) = parallel.findings(run=f"{RUN}/20250613_113130", rule="H2.3")
    assert accel["actual"] == "h100\\xff"
    assert parallel.data == audit(root).data
