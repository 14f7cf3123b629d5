"""Every checkpointing single-run rule, each with at least one CLOSED and one non-CLOSED case, on both versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SAMPLES

from .builders import division, filesystems, result, write_run

SAMPLE = SAMPLES / "upstream-v2.0-llama3-8b-checkpointing"


def test_complete_run(tmp_path: Path) -> None:
    run = write_run(tmp_path / "a")
    assert division(tmp_path / "a", "H4.0") == "CLOSED"
    (run / ".mlps-incomplete").write_text('{"reason": "interrupted by SIGINT"}')
    res = result(tmp_path / "a", "H4.0")
    assert res.division.value == "INVALID" and "SIGINT" in res.problems()[0].message
    write_run(tmp_path / "b", skip=("summary.json",))
    assert division(tmp_path / "b", "H4.0") == "INVALID"


def test_model_known(tmp_path: Path) -> None:
    write_run(tmp_path / "a")
    assert division(tmp_path / "a", "4.3.3") == "CLOSED"
    write_run(tmp_path / "b", model="gpt3-175b")
    res = result(tmp_path / "b", "4.3.3")
    assert res.division.value == "INVALID" and res.problems()[0].actual == "gpt3-175b"


@pytest.mark.parametrize("model, procs, mode, want", [
    ("llama3-8b", 8, None, "CLOSED"), ("llama3-70b", 64, None, "CLOSED"), ("llama3-405b", 512, None, "CLOSED"),
    ("llama3-1t", 1024, None, "CLOSED"), ("llama3-70b", 8, "subset", "CLOSED"), ("llama3-8b", 16, None, "OPEN"),
    ("llama3-70b", 16, None, "OPEN"), ("llama3-70b", 16, "subset", "OPEN")])
def test_closed_process_count(tmp_path: Path, model: str, procs: int, mode: str | None, want: str) -> None:
    write_run(tmp_path, model=model, procs=procs, mode=mode)
    assert division(tmp_path, "4.6.1") == want


@pytest.mark.parametrize("version, model, procs, want", [
    ("v2.0", "llama3-8b", 16, "CLOSED"), ("v2.0", "llama3-8b", 12, "INVALID"), ("v2.0", "llama3-8b", 4, "INVALID"),
    ("v3.0", "llama3-8b", 12, "CLOSED"), ("v3.0", "llama3-8b", 2, "CLOSED"), ("v3.0", "llama3-70b", 12, "INVALID"),
    ("v3.0", "llama3-405b", 256, "CLOSED"), ("v3.0", "llama3-405b", 128, "INVALID")])
def test_open_process_count(tmp_path: Path, version: str, model: str, procs: int, want: str) -> None:
    """v2.0 [R2]: a multiple of GPUs per DP (8 for 8b); v3.0 Rules.md 4.6.4: a multiple of TP x PP (1 for 8b)."""
    write_run(tmp_path, model=model, procs=procs)
    assert division(tmp_path, "4.6.4", version) == want


@pytest.mark.parametrize("version, model, procs, want", [
    ("v2.0", "llama3-8b", 8, "OPEN"),         # v2.0: subset is not a CLOSED configuration for 8B
    ("v2.0", "llama3-70b", 8, "CLOSED"),
    ("v2.0", "llama3-405b", 8, "CLOSED"),
    ("v3.0", "llama3-8b", 8, "CLOSED"),       # v3.0 (the round, #841): subset ONLY for 8B
    ("v3.0", "llama3-70b", 8, "OPEN"),        # a violation denies CLOSED only: upstream checks 4.3.5 for CLOSED
    ("v3.0", "llama3-70b", 16, "OPEN"),       # the tool labels every OPEN scale-down "subset"
    ("v3.0", "llama3-405b", 256, "OPEN"),
    ("v2.0", "llama3-405b", 16, "OPEN"),      # subset needs exactly 8 processes for CLOSED
])
def test_subset_mode(tmp_path: Path, version: str, model: str, procs: int, want: str) -> None:
    write_run(tmp_path, model=model, procs=procs, mode="subset")
    assert division(tmp_path, "4.3.5", version) == want


def test_subset_mode_not_applicable_and_unknown_mode(tmp_path: Path) -> None:
    write_run(tmp_path / "a")
    assert division(tmp_path / "a", "4.3.5") == "N/A"
    write_run(tmp_path / "b", mode="fast")
    assert division(tmp_path / "b", "4.3.5") == "INVALID"


@pytest.mark.parametrize("version", ["v2.0", "v3.0"])
def test_allowed_params(tmp_path: Path, version: str) -> None:
    write_run(tmp_path / "a", params={"storage.storage_root": "/mnt"})
    assert division(tmp_path / "a", "4.6.3-allowed-params", version) == "CLOSED"
    write_run(tmp_path / "b", params={"model.num_layers": 2})
    res = result(tmp_path / "b", "4.6.3-allowed-params", version=version)
    assert res.division.value == "INVALID"
    assert [f.parameter for f in res.problems()] == ["model.num_layers"]


def test_allowed_params_from_overrides_yaml(tmp_path: Path) -> None:
    """Upstream runs without params_dict: the overrides come from dlio_config/overrides.yaml."""
    write_run(tmp_path, params={"model.transformer.hidden_size": 64}, use_overrides_only=True)
    res = result(tmp_path, "4.6.3-allowed-params")
    assert res.division.value == "INVALID"
    assert res.problems()[0].file.endswith("dlio_config/overrides.yaml")


@pytest.mark.parametrize("model, procs, mode, size, want", [
    ("llama3-8b", 8, None, 105.0, "CLOSED"),
    ("llama3-8b", 8, None, 104.0, "CLOSED"),                 # within 2 %
    ("llama3-8b", 8, None, 0.0027, "INVALID"),               # model.* overrides shrink it (the sample)
    ("llama3-70b", 64, None, 911.0, "CLOSED"),
    ("llama3-70b", 8, "subset", 911.0 / 8, "CLOSED"),        # ZeRO-3 subset: 8 of 64 shards
    ("llama3-405b", 8, "subset", 4533 * 8 / 512 + 755 * 8 / 256, "CLOSED"),   # ZeRO-1: optimizer split, model on DP
    ("llama3-405b", 8, "subset", 5288 * 8 / 512, "INVALID"),  # ZeRO-3 maths on a ZeRO-1 model
])
def test_checkpoint_size(tmp_path: Path, model: str, procs: int, mode: str | None, size: float, want: str) -> None:
    write_run(tmp_path, model=model, procs=procs, mode=mode, size_GB=size)
    assert division(tmp_path, "H4.2") == want


def test_checkpoint_size_scaled_run_is_open(tmp_path: Path) -> None:
    write_run(tmp_path / "a", procs=2, size_GB=105 * 0.001, ours={"size_scale": 0.001})
    res = result(tmp_path / "a", "H4.2", version="v3.0")
    assert res.division.value == "OPEN" and "scaled" in res.problems()[0].message
    write_run(tmp_path / "b", procs=2, size_GB=105 * 0.01, ours={"size_scale": 0.001})
    assert division(tmp_path / "b", "H4.2", "v3.0") == "INVALID"


def test_fsync(tmp_path: Path) -> None:
    write_run(tmp_path / "a")
    assert division(tmp_path / "a", "4.3.2", "v3.0") == "CLOSED"
    write_run(tmp_path / "b", fsync=False)
    assert division(tmp_path / "b", "4.3.2", "v3.0") == "INVALID"


def test_clear_cache(tmp_path: Path) -> None:
    write_run(tmp_path / "big", size_GB=105.0, host_memory=[64.0])             # 64 < 3 x 105: no caching
    assert division(tmp_path / "big", "4.3.1") == "CLOSED"
    write_run(tmp_path / "tiny", size_GB=0.5, procs=2, host_memory=[64.0])     # upstream: nothing drops the cache
    res = result(tmp_path / "tiny", "4.3.1")
    assert res.division.value == "INVALID" and "64.0 GiB memory" in res.problems()[0].message
    drops = {"cache_drop_method": "fadvise_dontneed", "cache_drop_methods_per_load": ["fadvise_dontneed"] * 10}
    write_run(tmp_path / "ours", size_GB=0.5, procs=2, host_memory=[64.0], ours=drops)
    assert division(tmp_path / "ours", "4.3.1") == "CLOSED"
    write_run(tmp_path / "partial", size_GB=0.5, procs=2, host_memory=[64.0],
              ours={**drops, "cache_drop_methods_per_load": ["drop_caches"] * 3})
    assert division(tmp_path / "partial", "4.3.1") == "INVALID"
    write_run(tmp_path / "writes", size_GB=0.5, procs=2, host_memory=[64.0], reads=0)
    assert division(tmp_path / "writes", "4.3.1") == "CLOSED"


def test_clear_cache_read_only_invocation(tmp_path: Path) -> None:
    """Read-only: INVALID only when the host's page cache (meminfo Cached) could hold the checkpoint data."""
    write_run(tmp_path / "cold", size_GB=0.5, procs=2, host_memory=[64.0], writes=0, cached_kb=100)
    assert division(tmp_path / "cold", "4.3.1") == "CLOSED"
    write_run(tmp_path / "warm", size_GB=0.5, procs=2, host_memory=[64.0], writes=0, cached_kb=8 * 1024 ** 2)
    assert division(tmp_path / "warm", "4.3.1") == "INVALID"


def test_clear_cache_per_host(tmp_path: Path) -> None:
    """Ranks go round-robin to hosts: with 2 hosts each holds half of the checkpoint."""
    write_run(tmp_path / "a", size_GB=105.0, host_memory=[100.0, 100.0])     # 52.5 GiB per host, 100 < 157.5
    assert division(tmp_path / "a", "4.3.1") == "CLOSED"
    write_run(tmp_path / "b", size_GB=105.0, host_memory=[100.0, 200.0])     # host 1: 200 > 157.5
    res = result(tmp_path / "b", "4.3.1")
    assert res.division.value == "INVALID" and res.problems()[0].message.startswith("host 1")


def test_accelerator_memory_v3_only(tmp_path: Path) -> None:
    write_run(tmp_path / "a")
    assert division(tmp_path / "a", "4.3.4", "v3.0") == "CLOSED"
    assert division(tmp_path / "a", "4.3.4", "v2.0") == "N/A"
    write_run(tmp_path / "b", model="llama3-70b", procs=16, size_GB=911 / 8)    # 16 x 80 = 1280 GB >= 113.9 GB
    res = result(tmp_path / "b", "4.3.4", version="v3.0")
    assert res.division.value == "CLOSED" and res.warnings()[0].parameter == "accelerator_type"   # h100 assumed
    write_run(tmp_path / "d", model="llama3-70b", procs=8, size_GB=911.0)
    res = result(tmp_path / "d", "4.3.4", version="v3.0")
    assert res.division.value == "INVALID" and "640 GB" in res.problems()[0].actual
    write_run(tmp_path / "c", model="llama3-70b", procs=8, mode="subset", size_GB=911 / 8, accelerator="mi355")
    assert division(tmp_path / "c", "4.3.4", "v3.0") == "CLOSED"      # 8 x 288 GB >= 911 GB


def test_accelerators_per_host(tmp_path: Path) -> None:
    write_run(tmp_path / "a")
    assert division(tmp_path / "a", "4.6.2", "v3.0") == "CLOSED"
    write_run(tmp_path / "b", host_memory=[64.0] * 4)                       # 8 ranks on 4 hosts
    assert division(tmp_path / "b", "4.6.2", "v3.0") == "OPEN"
    assert division(tmp_path / "b", "4.6.2", "v2.0") == "N/A"


def test_folder_separate(tmp_path: Path) -> None:
    write_run(tmp_path / "a")
    assert division(tmp_path / "a", "4.4.1") == "CLOSED"
    write_run(tmp_path / "b", checkpoint_folder="/srv/results/ckpt")
    assert division(tmp_path / "b", "4.4.1") == "INVALID"


def test_separate_filesystems(tmp_path: Path) -> None:
    write_run(tmp_path / "a")
    assert division(tmp_path / "a", "4.4.2") == "N/A"                      # upstream: nothing recorded
    write_run(tmp_path / "b", cluster=filesystems("8:1", "8:2"))
    assert division(tmp_path / "b", "4.4.2", "v3.0") == "CLOSED"
    write_run(tmp_path / "c", cluster=filesystems("8:1", "8:1"))
    assert division(tmp_path / "c", "4.4.2", "v3.0") == "INVALID"


def test_bad_workload_block_is_a_documents_finding(tmp_path: Path) -> None:
    write_run(tmp_path, ours={"size_scale": "tiny"})
    res = result(tmp_path, "H6.1")
    assert res.division.value == "INVALID" and "size_scale" in res.problems()[0].message


def test_layout_required_files(tmp_path: Path) -> None:
    write_run(tmp_path / "a")
    assert division(tmp_path / "a", "H6.3") == "CLOSED"
    write_run(tmp_path / "b", skip=("dlio.log", "0_output.json"))
    res = result(tmp_path / "b", "H6.3")
    assert res.division.value == "INVALID" and {"dlio.log", "*_output.json"} <= {f.expected for f in res.problems()}


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="the upstream sample tree is not beside the clone")
def test_real_upstream_sample_is_invalid() -> None:
    """Upstream v2.0 said CLOSED; the model.* overrides and the 2.7 MB checkpoint make it INVALID."""
    run_id = "checkpointing/llama3-8b/20261129_134047"
    params = result(SAMPLE, "4.6.3-allowed-params", run_id)
    assert params.division.value == "INVALID"
    assert {f.parameter for f in params.problems()} == {
        "model.num_layers", "model.transformer.vocab_size", "model.transformer.hidden_size",
        "model.transformer.ffn_hidden_size", "model.transformer.num_attention_heads", "model.transformer.num_kv_heads"}
    assert division(SAMPLE, "H4.2", target=run_id) == "INVALID"
    assert division(SAMPLE, "4.6.1", target=run_id) == "CLOSED"             # 8 processes is 8b's CLOSED count
    assert division(SAMPLE, "4.3.2", target=run_id) == "CLOSED"
