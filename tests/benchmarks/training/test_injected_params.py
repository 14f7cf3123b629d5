"""Rule 3.6.2 on overrides the harness itself injected (the embedded small configuration): still INVALID, but the
finding says the harness injected them instead of telling the user to remove an option they never passed."""

from __future__ import annotations

import json
from pathlib import Path

from mlps_harness.benchmarks.training.synthetic import TrainingRunSpec, write_training_run
from mlps_harness.outcomes import Division
from tests.helpers import rule_result, run_ids


def _run(tmp_path: Path, injected: list[str] | None) -> str:
    run_dir = write_training_run(tmp_path, TrainingRunSpec(params={"checkpoint.model_size": "1024"}))
    if injected is not None:
        meta_path = next(run_dir.glob("*_metadata.json"))
        meta = json.loads(meta_path.read_text())
        meta["args"]["harness_injected_params"] = injected
        meta_path.write_text(json.dumps(meta))
    return next(r for r in run_ids(tmp_path) if "/run/" in r)


def test_injected_override_is_invalid_and_named_as_injected(tmp_path: Path) -> None:
    res = rule_result(tmp_path, "3.6.2", _run(tmp_path, ["checkpoint.model_size", "dataset.num_files_train"]))
    assert res.division is Division.INVALID
    (problem,) = [p for p in res.problems() if p.parameter == "checkpoint.model_size"]
    assert "embedded small configuration injected checkpoint.model_size=1024" in problem.message
    assert "remove the override" not in (problem.fix or "")


def test_user_override_keeps_the_remove_advice(tmp_path: Path) -> None:
    res = rule_result(tmp_path, "3.6.2", _run(tmp_path, None))
    assert res.division is Division.INVALID
    (problem,) = [p for p in res.problems() if p.parameter == "checkpoint.model_size"]
    assert "remove the override checkpoint.model_size=1024" in (problem.fix or "")
    assert "injected" not in problem.message
