"""results.json / results.csv: every run's figures and every group's figures and verdict, built on the controller.

Per-run records arrive as the `mlps_metrics` user property (see `mlps_harness.metrics`); group figures are
computed here by each benchmark's metrics module, one group per submission group and accelerator type. Files are
written to `--mlps-results=DIR`, or, for a suite session, into the suite's results dir (as upstream reportgen does);
an audit writes nothing unless asked. `--mlps-compare=FILE` adds each group's change against an earlier file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mlps_harness.metrics import (
    METRICS_PROPERTY,
    SCHEMA_VERSION,
    GroupResult,
    ResultsDocument,
    ReviewFinding,
    RunResult,
    lookup,
    metrics_module,
)
from mlps_harness.verdict import book, review_level

DOC_KEY = pytest.StashKey[ResultsDocument]()
RUNS_KEY = pytest.StashKey[dict]()
DEFAULT_DIR_KEY = pytest.StashKey[Path]()
PREVIOUS_KEY = pytest.StashKey[ResultsDocument]()


def add_options(group: Any) -> None:
    """`--mlps-results` and `--mlps-compare` (in the plugin's option group)."""
    group.addoption("--mlps-results", metavar="DIR", default=None,
                    help="write results.json and results.csv (every run's figures, every group's figures and "
                         "verdict) into DIR; suites write them into their results dir by default")
    group.addoption("--mlps-compare", metavar="FILE", default=None,
                    help="an earlier results.json: print and draw each group's change against it")


def _usage(option: str, value: str, problem: str, fix: str) -> pytest.UsageError:
    return pytest.UsageError(f"{option} {value}: {problem}; {fix}")


def check_options(config: pytest.Config) -> None:
    """Refuse an unusable `--mlps-results` / `--mlps-compare` before anything runs."""
    if hasattr(config, "workerinput"):
        return
    target = config.getoption("--mlps-results", None)
    if target:
        path = Path(target).expanduser()
        fix = "give a writable directory, e.g. --mlps-results=out (it is created if missing)"
        if path.exists() and not path.is_dir():
            raise _usage("--mlps-results", target, "is a file, not a directory", fix)
        existing = path if path.exists() else next((p for p in path.parents if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise _usage("--mlps-results", target, f"{existing} is not a directory", fix)
        if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
            raise _usage("--mlps-results", target, f"{existing} is not writable", fix)
    previous = config.getoption("--mlps-compare", None)
    if previous:
        config.stash[PREVIOUS_KEY] = load_previous(previous)


def load_previous(value: str) -> ResultsDocument:
    """An earlier results.json, or a usage error naming the file and what is wrong with it."""
    path = Path(value).expanduser()
    fix = "give a results.json written by --mlps-results (or by a suite) of this harness"
    if not path.is_file():
        raise _usage("--mlps-compare", value, "no such file" if not path.exists() else "not a file", fix)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _usage("--mlps-compare", value, f"not readable JSON ({exc})", fix) from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        found = data.get("schema_version") if isinstance(data, dict) else type(data).__name__
        raise _usage("--mlps-compare", value, f"not a results file of this harness (schema_version "
                                              f"{found!r}, expected {SCHEMA_VERSION!r})", fix)
    try:
        return ResultsDocument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _usage("--mlps-compare", value, f"{'.'.join(map(str, first['loc']))}: {first['msg']}", fix) from None


def default_results_dir(config: pytest.Config, path: Path) -> None:
    """A suite's results dir: where results.json/csv go when `--mlps-results` is not given."""
    config.stash[DEFAULT_DIR_KEY] = Path(path)


class ResultsFeed:
    """Collects the per-run records from test reports (on the xdist controller, or serially)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        config.stash[RUNS_KEY] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":   # every test has a teardown report, with every property it recorded
            return
        for name, value in report.user_properties:
            if name == METRICS_PROPERTY:   # kept as its JSON text (a tenth of the parsed size) until the end
                self.config.stash[RUNS_KEY][json.loads(value)["run_id"]] = value


def document(config: pytest.Config) -> ResultsDocument:
    """The session's results (built once, after every report has arrived)."""
    if DOC_KEY in config.stash:
        return config.stash[DOC_KEY]
    b = book(config)
    runs = [RunResult.model_validate(json.loads(r)) for _, r in sorted(config.stash.get(RUNS_KEY, {}).items())]
    for run in runs:
        verdict = b.runs.get(run.run_id)
        run.category = verdict.value if verdict else None
    groups: list[GroupResult] = []
    by_group: dict[str, list[RunResult]] = {}
    for run in runs:
        by_group.setdefault(run.group, []).append(run)
    for group_id in sorted(set(by_group) | set(b.groups)):
        members = by_group.get(group_id, [])
        row = b.groups.get(group_id)
        benchmark = members[0].benchmark_type if members else (row.benchmark if row else "")
        # runs without figures by nature (datagen, load) do not split a group by accelerator type
        accelerators = sorted({r.accelerator or "" for r in members if r.metrics is not None}) or [""]
        for accel in accelerators:
            part = [r for r in members if (r.accelerator or "") == accel
                    or (r.metrics is None and accel == accelerators[0])]
            name = f"{group_id} [{accel}]" if len(accelerators) > 1 else group_id
            groups.append(_group(name, group_id, benchmark, accel or None, part,
                                 row.verdict.value if row else None, members[0].model if members else None))
    previous = config.stash.get(PREVIOUS_KEY, None)
    if previous is not None:
        for group in groups:
            compare(group, previous)
    verdict = b.verdict()
    doc = ResultsDocument(generated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                          verdict=verdict.value if verdict else None, division=config.getoption("--division"),
                          rules_versions=sorted({r.rules_version for r in runs}),
                          command_line=["pytest", *map(str, config.invocation_params.args)], runs=runs, groups=groups,
                          findings=[ReviewFinding.model_validate({**p, "review_level": review_level(p)})
                                    for p in b.sorted_problems()])
    config.stash[DOC_KEY] = doc
    return doc


def _group(name: str, group_id: str, benchmark: str, accel: str | None, runs: list[RunResult], verdict: str | None,
           model: str | None) -> GroupResult:
    group = GroupResult(group=name, group_id=group_id, benchmark_type=benchmark, model=model, accelerator=accel,
                        category=verdict, runs=[r.run_id for r in runs])
    module = metrics_module(benchmark) if benchmark else None
    if module is None or not runs:
        return group
    try:
        figures = module.group_metrics(runs)
    except Exception as exc:  # a report must never crash on figures
        group.excluded_runs = {r.run_id: f"group figures failed: {type(exc).__name__}: {exc}"[:200] for r in runs}
        return group
    group.metrics = figures.metrics.model_dump(mode="json", exclude_none=True)
    group.measured_runs = figures.measured_runs
    group.excluded_runs = figures.excluded_runs
    group.formulas = figures.formulas
    group.headlines = module.headlines(group.metrics)
    return group


def compare(group: GroupResult, previous: ResultsDocument) -> None:
    """Fill `group.change_percent` for each headline figure present now and in the earlier file's same group."""
    before = next((g for g in previous.groups if g.group == group.group), None)
    if before is None:
        return
    for headline in group.headlines:
        now, then = lookup(group.metrics, headline.key), lookup(before.metrics, headline.key)
        if isinstance(now, (int, float)) and isinstance(then, (int, float)) and not isinstance(now, bool) \
                and then != 0:
            group.change_percent[headline.key] = (now - then) / abs(then) * 100
        else:
            group.change_percent[headline.key] = None


def output_dir(config: pytest.Config) -> Path | None:
    """Where results.json/csv go: --mlps-results, else a suite's results dir, else nowhere."""
    target = config.getoption("--mlps-results", None)
    if target:
        return Path(target).expanduser()
    return config.stash.get(DEFAULT_DIR_KEY, None)


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    elif isinstance(value, list):
        out[prefix] = ";".join(json.dumps(v) if isinstance(v, (dict, list)) else str(v) for v in value)
    elif value is not None:
        out[prefix] = str(value)


def csv_text(doc: ResultsDocument) -> str:
    """results.csv: one row per run, nested fields flattened with dots (`metrics.train_au_mean_percentage`)."""
    rows = []
    for run in doc.runs:
        flat: dict[str, str] = {}
        _flatten("", run.model_dump(mode="json", exclude={"metrics", "parameters"}), flat)
        _flatten("parameters", run.parameters, flat)
        _flatten("metrics", run.metrics or {}, flat)
        rows.append(flat)
    fixed = ["run_id", "benchmark_type", "model", "command", "group", "accelerator", "category"]
    columns = fixed + sorted({k for row in rows for k in row} - set(fixed))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_files(config: pytest.Config) -> Path | None:
    """Write results.json and results.csv (atomically) where `output_dir` says; returns the directory."""
    target = output_dir(config)
    if target is None or hasattr(config, "workerinput"):
        return None
    doc = document(config)
    if not doc.runs and not doc.groups:
        return None
    target.mkdir(parents=True, exist_ok=True)
    for name, text in (("results.json", doc.model_dump_json(indent=2)), ("results.csv", csv_text(doc))):
        tmp = target / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target / name)
    return target


def schema() -> dict[str, Any]:
    """The JSON schema of results.json, with each registered benchmark's run and group metrics documented."""
    from mlps_harness.spec import benchmarks

    out = ResultsDocument.model_json_schema()
    defs = out.setdefault("$defs", {})
    for name, spec in sorted(benchmarks().items()):
        if spec.metrics is None:
            continue
        module = spec.hook(spec.metrics)
        for kind in ("RunMetrics", "GroupMetrics"):
            sub = getattr(module, kind).model_json_schema()
            defs.update(sub.pop("$defs", {}))
            defs[f"{name}.{kind}"] = sub
    out["description"] = ("results.json of mlps-harness: `runs[].metrics` follows `<benchmark>.RunMetrics` and "
                          "`groups[].metrics` follows `<benchmark>.GroupMetrics` of the run's benchmark_type "
                          "(see $defs); absent figures are omitted, never 0")
    return out


if __name__ == "__main__":  # python -m mlps_harness.reporting.results > docs/results.schema.json
    json.dump(schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
