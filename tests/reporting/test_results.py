"""results.json / results.csv, terminal figures, JUnit and --mlps-compare, on the real upstream v2.0 samples and on
trees derived from them (NaN figures, a crashed run). Expected values are read from each run's summary.json here,
independently of the harness."""

from __future__ import annotations

import csv
import json
import math
import shutil
import statistics
from pathlib import Path

import pytest

from tests.helpers import SAMPLES

UNET = SAMPLES / "upstream-v2.0-unet3d-3runs"
CKPT = SAMPLES / "upstream-v2.0-llama3-8b-checkpointing"
pytestmark = pytest.mark.skipif(not UNET.is_dir(), reason="the upstream samples are not beside this checkout")


def _summaries(root: Path, command_dir: str) -> dict[str, dict]:
    base = root / command_dir
    return {f"{command_dir}/{p.name}": json.loads((p / "summary.json").read_text())
            for p in sorted(base.iterdir()) if (p / "summary.json").is_file()}


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def test_sample_run_figures_equal_summary_and_group_is_the_mean_of_measured_runs(audit, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = audit(UNET, f"--mlps-results={out}")
    result.assert_clean()
    doc = _results(out)
    runs = {r["run_id"]: r for r in doc["runs"]}
    summaries = _summaries(UNET, "training/unet3d/run")
    assert len(summaries) == 3
    for run_id, summary in summaries.items():
        metrics = runs[run_id]["metrics"]
        for key in ("train_au_mean_percentage", "train_throughput_mean_samples_per_second",
                    "train_io_mean_MB_per_second", "train_au_percentage", "train_throughput_samples_per_second"):
            assert metrics[key] == summary["metric"][key], (run_id, key)
        assert metrics["num_accelerators"] == summary["num_accelerators"]
        assert runs[run_id]["category"] == "INVALID"
    assert runs["training/unet3d/datagen/20261129_133233"]["metrics"] is None
    # the warm-up is the earliest run directory; the group figure is the mean over the other two
    measured = [summaries[k] for k in sorted(summaries)[1:]]
    (group,) = [g for g in doc["groups"] if g["group_id"] == "training/unet3d"]
    assert group["measured_runs"] == sorted(summaries)[1:]
    assert "warm-up" in group["excluded_runs"][sorted(summaries)[0]]
    for key in ("train_au_mean_percentage", "train_io_mean_MB_per_second", "train_throughput_mean_samples_per_second"):
        assert math.isclose(group["metrics"][key], statistics.fmean(s["metric"][key] for s in measured))
    assert group["metrics"]["au_minimum_percentage"] == 90.0 and group["metrics"]["au_bar_met"] is False
    assert "accelerators_sustained" not in group["metrics"]      # AU below the bar: absent, not 0
    assert group["category"] == "INVALID"
    # the CSV holds the same figures under upstream reportgen's flattened names
    rows = {r["run_id"]: r for r in csv.DictReader((out / "results.csv").open())}
    first = sorted(summaries)[0]
    assert float(rows[first]["metrics.train_au_mean_percentage"]) == summaries[first]["metric"][
        "train_au_mean_percentage"]
    # terminal: the figures table, and the file-count finding printed once for the three runs
    assert "training figures" in result.text and "MiB/s" in result.text
    assert "3 runs:" in result.text


def test_checkpoint_sample_figures(audit, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = audit(CKPT, f"--mlps-results={out}", f"--junitxml={tmp_path / 'j.xml'}")
    result.assert_clean()
    (summary,) = _summaries(CKPT, "checkpointing/llama3-8b").values()
    (run,) = _results(out)["runs"]
    for key in ("save_checkpoint_io_mean_GB_per_second", "load_checkpoint_io_mean_GB_per_second",
                "save_checkpoint_duration_mean_seconds", "load_checkpoint_duration_mean_seconds", "checkpoint_size_GB"):
        assert run["metrics"][key] == summary["metric"][key]
    (group,) = _results(out)["groups"]
    assert group["metrics"]["save_checkpoint_io_mean_GB_per_second"] == summary["metric"][
        "save_checkpoint_io_mean_GB_per_second"]
    xml = (tmp_path / "j.xml").read_text()
    assert 'name="mlps_metric:checkpointing/llama3-8b:save_checkpoint_io_mean_GB_per_second"' in xml
    assert 'name="mlps_verdict"' in xml
    verdict = result.data   # --mlps-json gains the figures
    assert verdict["results"]["groups"][0]["metrics"]["checkpoint_size_GB"] == summary["metric"]["checkpoint_size_GB"]
    assert verdict["groups"][0]["metrics"]["checkpointing/llama3-8b"]["checkpoint_size_GB"] > 0


def _copy_unet(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(UNET, root)
    return root


def test_nan_figure_is_an_invalid_value_and_a_run_without_summary_has_no_figures(audit, tmp_path: Path) -> None:
    root = _copy_unet(tmp_path)
    runs = sorted((root / "training/unet3d/run").iterdir())
    text = (runs[1] / "summary.json").read_text()
    data = json.loads(text)
    data["metric"]["train_io_mean_MB_per_second"] = float("nan")
    (runs[1] / "summary.json").write_text(json.dumps(data))      # json writes NaN, as Python's DLIO would
    (runs[2] / "summary.json").unlink()                          # a crashed run
    out = tmp_path / "out"
    result = audit(root, f"--mlps-results={out}", "--html", str(tmp_path / "r.html"))
    result.assert_clean()
    doc = _results(out)
    by_id = {r["run_id"]: r for r in doc["runs"]}
    nan_run = by_id[f"training/unet3d/run/{runs[1].name}"]
    assert "train_io_mean_MB_per_second" not in nan_run["metrics"]
    assert nan_run["metrics"]["invalid_values"] == ["train_io_mean_MB_per_second"]
    crashed = by_id[f"training/unet3d/run/{runs[2].name}"]
    assert crashed["metrics"]["no_figures_reason"].startswith("no readable summary.json")
    assert not any(isinstance(v, (int, float)) and v == 0 for v in crashed["metrics"].values())
    (group,) = [g for g in doc["groups"] if g["group_id"] == "training/unet3d"]
    assert "train_io_mean_MB_per_second" not in group["metrics"]   # nothing valid to average
    assert "NaN" not in (out / "results.json").read_text()          # strict JSON
    assert "invalid value" in result.text
    page = (tmp_path / "r.html").read_text()
    assert "invalid value" in page and "no figures" in page


def test_compare_prints_the_change(audit, tmp_path: Path) -> None:
    root = _copy_unet(tmp_path)
    first = tmp_path / "first"
    audit(root, f"--mlps-results={first}").assert_clean()
    for run in (root / "training/unet3d/run").iterdir():
        data = json.loads((run / "summary.json").read_text())
        data["metric"]["train_io_mean_MB_per_second"] /= 2
        (run / "summary.json").write_text(json.dumps(data))
    result = audit(root, f"--mlps-results={tmp_path / 'second'}", f"--mlps-compare={first / 'results.json'}")
    result.assert_clean()
    assert "(-50.0 %)" in result.text
    (group,) = _results(tmp_path / "second")["groups"]
    assert math.isclose(group["change_percent"]["train_io_mean_MB_per_second"], -50.0)


def _file(p: Path, name: str = "file", text: str = "x") -> Path:
    (p / name).write_text(text)
    return p / name


@pytest.mark.parametrize("option, make, needle", [
    ("--mlps-results", lambda p: _file(p), "is a file"),
    ("--mlps-results", lambda p: _file(p) / "sub", "is not a directory"),
    ("--mlps-compare", lambda p: p / "missing.json", "no such file"),
    ("--mlps-compare", lambda p: _file(p, "x.json", '{"verdict": "CLOSED"}'), "not a results file"),
    ("--mlps-compare", lambda p: _file(p, "y.json", "{oops"), "not readable JSON"),
])
def test_bad_output_options_are_usage_errors_before_the_audit(audit, tmp_path: Path, option, make, needle) -> None:
    target = make(tmp_path)
    result = audit(UNET, f"{option}={target}")
    assert result.result.ret == 4, result.text[-2000:]
    assert needle in result.text and option in result.text
    assert "Traceback" not in result.text
    assert not result.data      # nothing ran


def test_xdist_gives_the_same_results(audit, tmp_path: Path) -> None:
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    audit(UNET, f"--mlps-results={serial}").assert_clean()
    audit(UNET, f"--mlps-results={parallel}", "-n", "2", subprocess=True).assert_clean()
    a, b = _results(serial), _results(parallel)
    assert a["groups"] == b["groups"] and a["runs"] == b["runs"]


def test_schema_in_docs_is_current() -> None:
    from mlps_harness.reporting.results import schema

    published = Path(__file__).resolve().parents[2] / "docs" / "results.schema.json"
    assert json.loads(published.read_text()) == schema(), \
        "regenerate: .venv/bin/python -m mlps_harness.reporting.results > docs/results.schema.json"
