"""A fifth, toy benchmark in a temporary package, registered through an entry point only: the audit discovers its
runs, evaluates its rule from its own ruleset file, and reports its verdict, with no file of `mlps_harness` changed.

The walk-through of the same steps is docs/ADDING_A_BENCHMARK.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import COMPLIANCE, REPO

SPEC = '''
from pathlib import Path
from mlps_harness.spec import BenchmarkSpec

SPEC = BenchmarkSpec(
    name="toy",
    path_layouts=(("model", "command"),),
    rule_modules=("toybench.rules",),
    parse_hooks=("toybench.documents:parse_toy",),
    ruleset_dir=Path(__file__).parent / "rulesets",
    description="a toy benchmark: one score per run",
)
'''
DOCUMENTS = '''
from mlps_harness.model import Run

def parse_toy(run: Run) -> None:
    """The score the toy workload wrote into summary.json."""
    if isinstance(run.summary_raw, dict):
        run.documents["toy_score"] = run.summary_raw.get("score")
'''
RULES = '''
from pydantic import BaseModel
from mlps_harness import rulesets
from mlps_harness.model import Run
from mlps_harness.outcomes import NotApplicable, closed, invalid
from mlps_harness.rules import rule

class ToyRules(BaseModel):
    min_score: float

@rule("T1.1", "score-minimum", benchmark="toy")
def score_minimum(run: Run):
    """The run's score reaches the ruleset's minimum."""
    score = run.documents.get("toy_score")
    if score is None:
        raise NotApplicable("no score recorded")
    minimum = rulesets.section(run.rules_version, "toy", ToyRules).min_score
    if score < minimum:
        yield invalid(f"score {score} below {minimum}", parameter="score", expected=f">= {minimum}",
                      actual=str(score), file=f"{run.run_id}/summary.json", fix="make the storage faster")
    else:
        yield closed("score reached", parameter="score", actual=str(score))
'''


def _install_toy(site: Path) -> None:
    package = site / "toybench"
    (package / "rulesets" / "v2.0").mkdir(parents=True)
    (package / "rulesets" / "v3.0").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "spec.py").write_text(SPEC)
    (package / "documents.py").write_text(DOCUMENTS)
    (package / "rules.py").write_text(RULES)
    for version, minimum in (("v2.0", 10), ("v3.0", 20)):
        (package / "rulesets" / version / "toy.yaml").write_text(f"min_score: {minimum}\n")
    dist = site / "toybench-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toybench\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[mlps_harness.benchmarks]\ntoy = toybench.spec:SPEC\n")


def _write_run(root: Path, leaf: str, score: float) -> None:
    run = root / "toy" / "tiny" / "run" / leaf
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"score": score}))
    (run / f"toy_{leaf}_metadata.json").write_text(json.dumps({"benchmark_type": "toy", "run_datetime": leaf}))


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_a_toy_benchmark_is_audited_through_its_entry_point_alone(tmp_path: Path) -> None:
    before = _tree_digest(REPO / "mlps_harness")
    site = tmp_path / "site"
    _install_toy(site)
    results = tmp_path / "results"
    _write_run(results, "20250101_120000", 15.0)
    _write_run(results, "20250101_130000", 5.0)
    verdict = tmp_path / "verdict.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "pytest", str(COMPLIANCE), f"--results-dir={results}", "-q",
                           "-p", "no:cacheprovider", f"--mlps-json={verdict}", "-m", "rule(id='T1.1')", "-rA"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert "Traceback" not in out, out
    data = json.loads(verdict.read_text())
    assert data["runs"] == {"toy/tiny/run/20250101_120000": "CLOSED", "toy/tiny/run/20250101_130000": "INVALID"}
    assert [f["rule"] for f in data["findings"]] == ["T1.1-score-minimum"]
    assert "toy/tiny/run/20250101_130000::T1.1-score-minimum" in out
    assert done.returncode == 1
    # the v3.0 ruleset file of the toy is used when asked for: 15 is below its minimum of 20
    done = subprocess.run([sys.executable, "-m", "pytest", str(COMPLIANCE), f"--results-dir={results}", "-q",
                           "-p", "no:cacheprovider", f"--mlps-json={verdict}", "--rules-version=v3.0",
                           "-m", "rule(id='T1.1')"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert set(json.loads(verdict.read_text())["runs"].values()) == {"INVALID"}, done.stdout[-2000:]
    assert _tree_digest(REPO / "mlps_harness") == before


def test_without_the_entry_point_the_toy_tree_is_a_usage_error(tmp_path: Path) -> None:
    results = tmp_path / "results"
    _write_run(results, "20250101_120000", 15.0)
    done = subprocess.run([sys.executable, "-m", "pytest", str(COMPLIANCE), f"--results-dir={results}", "-q",
                           "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 4 and "no benchmark directory found (it holds toy)" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
