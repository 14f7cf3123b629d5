"""Issue #15 item 7, property-based: mutate a valid run (the synthetic writer's and upstream's real ones) in every
field the loader reads and check that the audit never crashes, and that every corruption of a typed field yields
an INVALID finding naming the mutated file.

Bounded and reproducible: a fixed seed (derandomize) and a fixed example count per source; see docs/FAULTS.md.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mlps_harness.benchmarks.training.synthetic import TrainingRunSpec, write_training_run  # noqa: E402
from mlps_harness.loader import ResultsIndex  # noqa: E402
from mlps_harness.model.dlio import DlioMetric, DlioSummary  # noqa: E402
from mlps_harness.outcomes import Division  # noqa: E402
from mlps_harness.rules import all_rules, evaluate  # noqa: E402
from tests.helpers import REPO  # noqa: E402

SAMPLES = REPO.parent / "shared" / "samples"
EXAMPLES = 120   #: per source; with derandomize=True the same examples run every time
MISSING = object()

#: Corruptions, each a function of the original value (None for "delete the key").
CORRUPTIONS: dict[str, Any] = {
    "nan": lambda v: float("nan"), "inf": lambda v: float("inf"), "-inf": lambda v: float("-inf"),
    "huge": lambda v: 1e308, "huge-int": lambda v: 10 ** 400, "negative": lambda v: -1,
    "null": lambda v: None, "string": lambda v: "12", "list": lambda v: [v], "object": lambda v: {"x": 1},
    "bool": lambda v: True, "missing": lambda v: MISSING,
}
FILE_DAMAGE = ("truncated", "top-level-list", "empty")

#: Summary keys a rule or a report reads and the loader types: any corruption of these must be a finding.
#: ("missing" only for the keys every measured run has.)
TYPED_SUMMARY = set(DlioSummary.model_fields) - {"host_meminfo", "metric"}
TYPED_METRIC = set(DlioMetric.model_fields)
REQUIRED_SUMMARY = {"num_accelerators", "num_hosts", "host_memory_GB", "epochs"}


def _synthetic(root: Path) -> Path:
    return write_training_run(root, TrainingRunSpec(num_hosts=2))


def _sample(root: Path, relative: str) -> Path:
    source = SAMPLES / relative
    if not source.is_dir():
        pytest.skip(f"{source} is not here")
    target = root / Path(relative).relative_to(Path(relative).parts[0])
    shutil.copytree(source, target)
    return target


SOURCES = {
    "synthetic": _synthetic,
    "upstream-training": lambda root: _sample(
        root, "upstream-v2.0-unet3d-3runs/training/unet3d/run/20261129_133250"),
    "upstream-checkpointing": lambda root: _sample(
        root, "upstream-v2.0-llama3-8b-checkpointing/checkpointing/llama3-8b/20261129_134047"),
}


def _leaves(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a JSON document (first element of each list, plus the list itself)."""
    paths = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            paths.append(prefix + (key,))
            paths += _leaves(value, prefix + (key,))
    elif isinstance(doc, list) and doc:
        paths.append(prefix + (0,))
        paths += _leaves(doc[0], prefix + (0,))
    return paths


def _apply(doc: Any, path: tuple, corruption: str) -> None:
    node = doc
    for part in path[:-1]:
        node = node[part]
    new = CORRUPTIONS[corruption](node[path[-1]])
    if new is MISSING:
        if isinstance(node, dict):
            del node[path[-1]]
        else:
            node.pop(path[-1])
    else:
        node[path[-1]] = new


def _must_be_found(file: str, path: tuple, corruption: str, original: Any) -> bool:
    """Whether this corruption of this field must yield a finding naming the file."""
    if file != "summary.json":
        return False
    if corruption == "missing":
        return len(path) == 1 and path[0] in REQUIRED_SUMMARY
    typed = (len(path) in (1, 2) and path[0] in TYPED_SUMMARY) or \
            (len(path) in (2, 3) and path[0] == "metric" and path[1] in TYPED_METRIC)
    if not typed:
        return False
    if corruption == "string" and path[-1] in ("hostname", "train_au_meet_expectation", "start", "end"):
        return False   # a string is what these hold ("12" is even a valid time for pydantic)
    return True


def _audit(root: Path) -> list:
    """Parse every run and evaluate every rule on it and on its group; return all findings (raises on a crash)."""
    index = ResultsIndex(root, "auto")
    findings = []
    rules = all_rules()
    for ref in index.refs:
        run = index.run(ref.run_id)
        findings += run.load_findings
        for entry in rules:
            if entry.scope == "run" and entry.benchmark in (ref.benchmark, "*"):
                findings += evaluate(entry, run, run.rules_version).findings
    for group_id in index.group_ids():
        group = index.group(group_id)
        for entry in rules:
            if entry.scope == "group" and entry.benchmark in (group.benchmark, "*"):
                findings += evaluate(entry, group, group.rules_version).findings
    return findings


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, list[tuple]]]]:
    """Each source written once: its run dir and the key paths of its JSON documents."""
    made = {}
    for name, make in SOURCES.items():
        root = tmp_path_factory.mktemp(name)
        try:
            run_dir = make(root)
        except pytest.skip.Exception:
            continue
        paths = {}
        for doc in ("summary.json", *(p.name for p in run_dir.glob("*_metadata.json"))):
            paths[doc] = _leaves(json.loads((run_dir / doc).read_text()))
        made[name] = (root, paths)
    return made


def _mutation(paths: dict[str, list[tuple]]):
    file = st.sampled_from(sorted(paths))
    return file.flatmap(lambda f: st.one_of(
        st.tuples(st.just(f), st.sampled_from(paths[f]), st.sampled_from(sorted(CORRUPTIONS))),
        st.tuples(st.just(f), st.just(()), st.sampled_from(FILE_DAMAGE))))


def _check_source(name: str, pristine, tmp_path_factory, data) -> None:
    if name not in pristine:
        pytest.skip(f"source {name} is not available")
    root, paths = pristine[name]
    file, path, corruption = data.draw(_mutation(paths))
    work = tmp_path_factory.mktemp("mutated")
    shutil.copytree(root, work, dirs_exist_ok=True)
    target = next(work.rglob(file))
    if not path:
        text = target.read_text()
        target.write_text({"truncated": text[: len(text) // 2], "top-level-list": "[1, 2]", "empty": ""}[corruption])
        original = None
    else:
        doc = json.loads(target.read_text())
        node = doc
        for part in path:
            node = node[part]
        original = node
        _apply(doc, path, corruption)
        target.write_text(json.dumps(doc))   # NaN/Infinity as JSON's common extensions; 10**400 as digits
    findings = _audit(work)                     # never raises: a crash fails the property
    named = [f for f in findings if f.division is Division.INVALID and (f.file or "").endswith(file)]
    expect = (not path) or _must_be_found(file, path, corruption, original)
    if expect:
        assert named, f"{file} {'.'.join(map(str, path))} {corruption}: no INVALID finding naming {file}"
    _COUNTS[name] = _COUNTS.get(name, 0) + 1
    _COUNTS[f"{name} (finding required)"] = _COUNTS.get(f"{name} (finding required)", 0) + int(expect)


_COUNTS: dict[str, int] = {}
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(SOURCES))
@SETTINGS
@given(data=st.data())
def test_a_mutated_run_never_crashes_the_audit_and_corruptions_are_found(name: str, pristine, tmp_path_factory,
                                                                          data) -> None:
    _check_source(name, pristine, tmp_path_factory, data)


def test_the_property_ran_its_examples() -> None:
    """Runs after the property (file order): every available source was exercised a bounded number of times."""
    assert _COUNTS, "the property test did not run"
    assert all(0 < count <= EXAMPLES * 2 for count in _COUNTS.values()), _COUNTS
    print(f"mutated-run examples per source (derandomized): {_COUNTS}")
