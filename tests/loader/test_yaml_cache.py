"""`read_yaml` parses each distinct text once while it stays in its bounded cache (runs of one system carry
byte-identical DLIO configs); what it returns always matches the file's current text."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.loader import safe_io
from mlps_harness.loader.safe_io import read_yaml


def test_identical_texts_are_parsed_once_and_edits_are_seen(tmp_path: Path, monkeypatch) -> None:
    calls: list[str] = []
    real_load = safe_io.yaml.load

    def counting_load(text, Loader):  # noqa: N803 - yaml's own keyword
        calls.append(text)
        return real_load(text, Loader=Loader)

    monkeypatch.setattr(safe_io.yaml, "load", counting_load)
    monkeypatch.setattr(safe_io, "_yaml_cache", type(safe_io._yaml_cache)())
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("workload:\n  dataset:\n    num_files_train: 7200\n")
    second.write_text(first.read_text())
    assert read_yaml(str(first), "a.yaml") == ({"workload": {"dataset": {"num_files_train": 7200}}}, None)
    assert read_yaml(str(second), "b.yaml")[0] == {"workload": {"dataset": {"num_files_train": 7200}}}
    assert len(calls) == 1
    second.write_text("workload:\n  dataset:\n    num_files_train: 56\n")
    assert read_yaml(str(second), "b.yaml")[0] == {"workload": {"dataset": {"num_files_train": 56}}}
    assert len(calls) == 2


def test_the_cache_is_bounded_and_bad_yaml_is_never_cached(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(safe_io, "_yaml_cache", type(safe_io._yaml_cache)())
    monkeypatch.setattr(safe_io, "YAML_CACHE_SIZE", 3)
    for i in range(10):
        path = tmp_path / f"{i}.yaml"
        path.write_text(f"value: {i}\n")
        assert read_yaml(str(path), path.name) == ({"value": i}, None)
    assert len(safe_io._yaml_cache) == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text("value: [1, 2\n")
    data, problem = read_yaml(str(bad), "bad.yaml")
    assert data is None and "bad.yaml is not valid YAML" in problem.message
    assert "value: [1, 2\n" not in safe_io._yaml_cache
