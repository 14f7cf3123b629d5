"""The real trees written by upstream mlpstorage v2.0 (../shared/samples) give their documented verdicts."""

from __future__ import annotations

import pytest

from tests.helpers import SAMPLES

UNET3D = SAMPLES / "upstream-v2.0-unet3d-3runs"
LLAMA = SAMPLES / "upstream-v2.0-llama3-8b-checkpointing"


def _need(path):
    if not path.is_dir():
        pytest.skip(f"sample tree {path} is absent (CI keeps ../shared beside the clone)")


def test_unet3d_three_runs(audit):
    """Every run INVALID (56 < 7,000 files; AU below 90 %), the group INVALID (3 run dirs where 6 are needed)."""
    _need(UNET3D)
    res = audit(UNET3D)
    res.assert_clean()
    assert res.result.ret == pytest.ExitCode.TESTS_FAILED
    assert res.data["verdict"] == "INVALID"
    runs = {r: v for r, v in res.runs.items() if "/run/" in r}
    assert len(runs) == 3 and set(runs.values()) == {"INVALID"}
    for run in runs:
        rules = {f["rule"] for f in res.findings(run=run)}
        assert {"3.1.2-dataset-size", "3.3.2-au-minimum"} <= rules, rules
        size = next(f for f in res.findings(run=run) if f["rule"] == "3.1.2-dataset-size")
        assert (size["expected"], size["actual"]) == (">= 7000", "56")
    assert res.groups == {"training/unet3d": "INVALID"}
    (count,) = res.findings(run="training/unet3d", rule="2.1.17")
    assert count["actual"] == "3"


def test_llama3_8b_checkpointing(audit):
    """INVALID: `model.*` overrides are not on the checkpointing allowed list, and the checkpoint is far from
    llama3-8b's size (upstream v2.0 says CLOSED: its checkpointing checker is empty)."""
    _need(LLAMA)
    res = audit(LLAMA)
    res.assert_clean()
    assert res.result.ret == pytest.ExitCode.TESTS_FAILED
    assert res.data["verdict"] == "INVALID"
    (run,) = res.runs
    assert res.runs[run] == "INVALID" and res.groups == {"checkpointing/llama3-8b": "INVALID"}
    params = {f["parameter"] for f in res.findings(run=run) if f["division"] == "INVALID"}
    assert {"model.num_layers", "model.transformer.hidden_size"} <= params, params
    assert all(f.get("file", "").startswith(run) for f in res.findings(run=run))
