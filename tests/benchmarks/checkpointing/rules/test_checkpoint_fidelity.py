"""Issue #16 checkpointing items: each fix on hand-built trees for every version it affects, the case from the
issue plus its mirror, and a case on each side of every threshold (4.3.1 3x, H4.2 +/-2 %, 4.3.4, 4.6.2, 4.7.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .builders import division, result, write_run
from .test_checkpoint_v3_group_rules import _pair, _system_yaml

DROPS = {"cache_drop_method": "fadvise_dontneed", "cache_drop_methods_per_load": ["fadvise_dontneed"] * 10}


# -- 4.3.1: v3.0 clears unless data per node > 3 x memory per node; v2.0 keeps [R2] -----------------------------

@pytest.mark.parametrize("size, want", [(192.0, "INVALID"), (192.5, "CLOSED")])
def test_clear_cache_v3_threshold(tmp_path: Path, size: float, want: str) -> None:
    """1 host of 64 GiB: 3 x memory = 192 GiB; the text says *more than* 3x, so 192.0 still needs clearing."""
    write_run(tmp_path, size_GB=size, host_memory=[64.0])
    assert division(tmp_path, "4.3.1", "v3.0") == want


def test_clear_cache_reversal_llama3_8b(tmp_path: Path) -> None:
    """The issue's case: 105 GiB on a 256 GiB host, one combined invocation, no flush: INVALID in v3.0; the same run
    under v2.0's checker (memory > 3 x data?) stays CLOSED (256 < 315)."""
    write_run(tmp_path, size_GB=105.0, host_memory=[256.0])
    res = result(tmp_path, "4.3.1", version="v3.0")
    assert res.division.value == "INVALID" and "105 GiB of checkpoint data per node" in res.problems()[0].message
    assert division(tmp_path, "4.3.1", "v2.0") == "CLOSED"


@pytest.mark.parametrize("version", ["v2.0", "v3.0"])
def test_clear_cache_tiny_data_both_versions(tmp_path: Path, version: str) -> None:
    write_run(tmp_path / "none", size_GB=0.5, procs=2, host_memory=[64.0])
    assert division(tmp_path / "none", "4.3.1", version) == "INVALID"
    write_run(tmp_path / "drops", size_GB=0.5, procs=2, host_memory=[64.0], ours=DROPS)
    assert division(tmp_path / "drops", "4.3.1", version) == "CLOSED"


def test_clear_cache_v3_split_pair_is_the_rounds_warning(tmp_path: Path) -> None:
    """A read-only invocation cannot show the flush between invocations: the review's 4.3.1 advisory, CLOSED."""
    write_run(tmp_path / "w", size_GB=104.7, host_memory=[377.0], reads=0)
    assert division(tmp_path / "w", "4.3.1", "v3.0") == "CLOSED"
    write_run(tmp_path / "r", size_GB=104.7, host_memory=[377.0], writes=0)
    res = result(tmp_path / "r", "4.3.1", version="v3.0")
    assert res.division.value == "CLOSED" and res.warnings() and "4.3.1" in res.warnings()[0].message


def test_clear_cache_v3_uses_memory_sums_not_positions(tmp_path: Path) -> None:
    """Upstream #669: host_memory_GB is positionally wrong on multi-rank hosts; only its sum is used."""
    write_run(tmp_path, size_GB=400.0, host_memory=[128.0, 0.0])     # 200 GiB/node > 3 x 64 GiB/node
    assert division(tmp_path, "4.3.1", "v3.0") == "CLOSED"


# -- 4.3.5 / 4.6.4 / 4.6.1: subset violations deny CLOSED only -------------------------------------------------

@pytest.mark.parametrize("version, model, procs, subset, open_count, run_class", [
    ("v3.0", "llama3-70b", 16, "OPEN", "CLOSED", "OPEN"),        # the case (was INVALID)
    ("v3.0", "llama3-405b", 256, "OPEN", "CLOSED", "OPEN"),
    ("v3.0", "llama3-405b", 128, "OPEN", "INVALID", "INVALID"),  # 128 is not a multiple of TP x PP = 256
    ("v3.0", "llama3-405b", 8, "OPEN", "INVALID", "INVALID"),    # no 8-process exemption for 405b in v3.0
    ("v3.0", "llama3-70b", 8, "OPEN", "CLOSED", "OPEN"),         # a withdrawn row's shape: not CLOSED
    ("v3.0", "llama3-8b", 8, "CLOSED", "CLOSED", "CLOSED"),      # mirror
    ("v2.0", "llama3-70b", 8, "CLOSED", "CLOSED", "CLOSED"),        # mirror: v2.0 large-model subset is CLOSED
    ("v2.0", "llama3-405b", 16, "OPEN", "INVALID", "INVALID"),
])
def test_subset_outcomes(tmp_path: Path, version: str, model: str, procs: int, subset: str, open_count: str,
                         run_class: str) -> None:
    write_run(tmp_path, model=model, procs=procs, mode="subset")
    got = {rule: division(tmp_path, rule, version) for rule in ("4.3.5", "4.6.4", "4.6.1")}
    assert got["4.3.5"] == subset
    assert got["4.6.4"] == open_count
    assert max(got.values(), key=["CLOSED", "OPEN", "INVALID"].index) == run_class


# -- 4.6.3: no workflow.* hole; the resolved config against the reference workload -------------------------------

@pytest.mark.parametrize("version", ["v2.0", "v3.0"])
def test_workflow_override_is_invalid(tmp_path: Path, version: str) -> None:
    write_run(tmp_path, params={"workflow.train": "True"})
    res = result(tmp_path, "4.6.3-allowed-params", version=version)
    assert res.division.value == "INVALID" and res.problems()[0].parameter == "workflow.train"


def _edit_config(run: Path, **changes: object) -> None:
    path = run / "dlio_config" / "config.yaml"
    data = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        node = data["workload"]
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize("change, want, parameter", [
    ({}, "CLOSED", None),
    ({"checkpoint__time_between_checkpoints": 0}, "OPEN", "checkpoint.time_between_checkpoints"),
    ({"framework": "tensorflow"}, "INVALID", "framework"),
    ({"workflow__train": True}, "INVALID", "workflow.train"),
    ({"model__transformer__num_kv_heads": 16}, "INVALID", "model.transformer.num_kv_heads"),
    ({"model__transformer__num_kv_heads": 8}, "CLOSED", None),             # mirror: equal value
    ({"checkpoint__fsync": "True"}, "CLOSED", None),                        # hydra renders booleans as text
    ({"checkpoint__checkpoint_folder": "/x"}, "CLOSED", None),              # free
    ({"checkpoint__mode": "subset"}, "CLOSED", None),                       # judged by 4.3.5
    ({"checkpoint__turbo": 1}, "INVALID", "checkpoint.turbo"),              # not a reference key
])
@pytest.mark.parametrize("version", ["v2.0", "v3.0"])
def test_reference_config(tmp_path: Path, version: str, change: dict, want: str, parameter: str | None) -> None:
    run = write_run(tmp_path)
    _edit_config(run, **change)
    res = result(tmp_path, "4.6.3-reference-config", version=version)
    assert res.division.value == want
    if parameter:
        assert res.problems()[0].parameter == parameter


# -- H4.2 size tolerance (+/- 2 %) ----------------------------------------------------------------------------

@pytest.mark.parametrize("size, want", [(105 * 0.979, "INVALID"), (105 * 0.981, "CLOSED"), (105 * 1.019, "CLOSED"),
                                        (105 * 1.021, "INVALID")])
def test_checkpoint_size_tolerance(tmp_path: Path, size: float, want: str) -> None:
    write_run(tmp_path, size_GB=size)
    assert division(tmp_path, "H4.2", "v3.0") == want


# -- 4.3.4: accelerators x memory >= the size written ------------------------------------------------------------

@pytest.mark.parametrize("size, want", [(640.0, "CLOSED"), (640.5, "INVALID")])
def test_accelerator_memory_threshold(tmp_path: Path, size: float, want: str) -> None:
    write_run(tmp_path, model="llama3-70b", procs=8, size_GB=size, accelerator="h100")
    res = result(tmp_path, "4.3.4", version="v3.0")
    assert res.division.value == want and not res.warnings()


def test_accelerator_memory_unknown_accelerator(tmp_path: Path) -> None:
    write_run(tmp_path, model="llama3-70b", procs=8, size_GB=113.9, accelerator="tpu")
    assert division(tmp_path, "4.3.4", "v3.0") == "INVALID"


# -- 4.6.2: at least 4 accelerators per host (Table 3) -----------------------------------------------------------

@pytest.mark.parametrize("procs, want", [(12, "OPEN"), (16, "CLOSED"), (20, "CLOSED")])
def test_accelerators_per_host_threshold(tmp_path: Path, procs: int, want: str) -> None:
    write_run(tmp_path, procs=procs, host_memory=[64.0] * 4)     # 3, 4 and 5 per host
    assert division(tmp_path, "4.6.2", "v3.0") == want


# -- 4.7.2 total duration (informational) and 4.7.4 capabilities -------------------------------------------------

def test_total_test_duration(tmp_path: Path) -> None:
    _pair(tmp_path / "split", gap=10)                 # write 12:00:00-12:01:00, read 12:01:10-12:02:10
    res = result(tmp_path / "split", "4.7.2", version="v3.0")
    assert res.division.value == "CLOSED" and "130.0 s" in res.findings[0].message
    assert "remap interval 10.0 s" in res.findings[0].message
    write_run(tmp_path / "one")
    res = result(tmp_path / "one", "4.7.2", version="v3.0")
    assert "60.0 s" in res.findings[0].message and "remap" not in res.findings[0].message
    assert division(tmp_path / "one", "4.7.2", "v2.0") == "N/A"


def _caps(**caps: object) -> str:
    body = "".join(f"      {k}: {v}\n" for k, v in caps.items())
    return f"system_under_test:\n  solution:\n    capabilities:\n{body}"


@pytest.mark.parametrize("caps, want, warned", [
    ({"multi_host": "true", "simultaneous_write": "true", "simultaneous_read": "true", "remap_time_in_seconds": 0},
     "CLOSED", False),
    ({"multi_host": "true", "simultaneous_write": "true", "remap_time_in_seconds": 0}, "INVALID", False),
    ({"multi_host": "true", "simultaneous_write": '"yes"', "simultaneous_read": "true"}, "INVALID", False),
    ({"multi_host": "true", "simultaneous_write": "false", "simultaneous_read": "true", "remap_time_in_seconds": 0},
     "INVALID", True),                                                   # Rule 13: false needs a remap time
    ({"multi_host": "false", "simultaneous_write": "false", "simultaneous_read": "true", "remap_time_in_seconds": 22},
     "CLOSED", True),                                                    # NewFW's declaration: the round's warning
    ({"multi_host": "true", "simultaneous_write": "true", "simultaneous_read": "true", "remap_time_in_seconds": 5},
     "INVALID", False),
])
def test_simultaneous_rw_support(tmp_path: Path, caps: dict, want: str, warned: bool) -> None:
    tree = tmp_path / "tree"
    _pair(tree / "closed" / "acme" / "results" / "sys1", gap=5)
    _system_yaml(tree, _caps(**caps))
    res = result(tree, "4.7.4", version="v3.0")
    assert res.division.value == want
    assert bool(res.warnings()) == warned


def test_simultaneous_rw_support_needs_a_system_yaml(tmp_path: Path) -> None:
    _pair(tmp_path, gap=5)
    assert division(tmp_path, "4.7.4", "v3.0") == "N/A"


@pytest.mark.parametrize("folder, results, want", [
    ("/srv/ckpt", "/srv/results", "CLOSED"),
    ("/srv/results/ckpt", "/srv/results", "INVALID"),       # the folder inside the results dir
    ("/srv/ckpt", "/srv/ckpt/results", "INVALID"),          # the results dir inside the folder (added)
])
def test_folder_separate_both_containments(tmp_path: Path, folder: str, results: str, want: str) -> None:
    write_run(tmp_path, checkpoint_folder=folder, results_dir=results)
    assert division(tmp_path, "4.4.1", "v3.0") == want
