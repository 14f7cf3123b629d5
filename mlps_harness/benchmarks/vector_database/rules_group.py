"""Vector database submission rules (rules.md §5): five runs per engine/index, runs that match their load, and the
load's index-build record (Rules.md §5.2.2)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from mlps_harness.benchmarks.vector_database.documents import (
    config,
    load_summary,
    summary,
)
from mlps_harness.benchmarks.vector_database.ruleset import BENCHMARK as V
from mlps_harness.benchmarks.vector_database.ruleset import vectordb_rules
from mlps_harness.model import Run, RunGroup
from mlps_harness.outcomes import Finding, NotApplicable, closed, invalid, warning
from mlps_harness.rules.registry import rule

#: What every run of a group must share, and must share with the load that built the collection.
SHARED = ("engine", "index_type", "metric_type", "dimension", "num_vectors", "collection")


def _value(run: Run, key: str) -> Any:
    """`key` as summary.json records it, else config.json, else load_summary.json; index types upper-cased."""
    for doc in (summary(run), config(run), load_summary(run)):
        value = getattr(doc, key, None) if doc is not None else None
        if value is not None:
            return value.upper() if key == "index_type" and isinstance(value, str) else value
    return None


@rule("H5.10", "run-count", benchmark=V, scope="group")
def run_count(group: RunGroup) -> Iterator[Finding]:
    """Five run directories per engine and index type (v3.0: exactly five under .../run/)."""
    sub = vectordb_rules(group.rules_version).submission
    need = sub.measured_runs
    n = len(group.by_command("run"))
    where = f"{group.group_id}/run"
    if n == 0:
        yield invalid("no run directories", parameter="run/", expected=str(need), actual="0", file=where,
                      fix=f"run the benchmark {need} times against the loaded collection")
    elif n < need or (sub.exact_run_dirs and n > need):
        too_many = n > need
        yield invalid(f"{n} run director{'y' if n == 1 else 'ies'}; {need} are required", parameter="run/",
                      expected=str(need) if sub.exact_run_dirs else f">= {need}", actual=str(n), file=where,
                      fix=f"keep exactly {need} runs of one sequence and remove the others" if too_many
                      else f"run {need - n} more time(s) against the same collection")
    else:
        yield closed(f"{n} runs", parameter="run/", actual=str(n))


@rule("H5.11", "load-matches-run", benchmark=V, scope="group")
def load_matches_run(group: RunGroup) -> Iterator[Finding]:
    """Every run searched the collection its load directory built (same dimension, index, vectors, metric)."""
    loads = [r for r in group.by_command("load") + group.by_command("datagen") if load_summary(r) is not None]
    if not loads:
        raise NotApplicable("no load directory with a usable load_summary.json")
    load = max(loads, key=lambda r: r.ref.leaf)
    for run in group.by_command("run"):
        for key in SHARED:
            want, have = _value(load, key), _value(run, key)
            if want is not None and have is not None and want != have:
                yield invalid(f"{key} of the run differs from the load ({load.ref.leaf})", parameter=key,
                              expected=str(want), actual=str(have), file=f"{run.run_id}/summary.json",
                              fix="run against the collection that the load directory built, or include the "
                                  "matching load output")


@rule("H5.12", "consistent-parameters", benchmark=V, scope="group")
def consistent_parameters(group: RunGroup) -> Iterator[Finding]:
    """Every run of the group used the same engine, index, metric, dimension, vector count and collection."""
    runs = group.by_command("run")
    if len(runs) < 2:
        raise NotApplicable("fewer than two runs")
    for key in SHARED:
        values = [(run, _value(run, key)) for run in runs]
        common, count = Counter(str(v) for _, v in values).most_common(1)[0]
        for run, value in values:
            if str(value) != common:
                yield invalid(f"{key} of {run.ref.leaf} differs from the other runs ({count} of {len(runs)} "
                              f"use {common})", parameter=key, expected=common, actual=str(value),
                              file=f"{run.run_id}/summary.json",
                              fix="all runs of a submission must search the same collection with the same setup")


def _ours(run: Run) -> bool:
    """Whether our suite wrote this build directory (its metadata has our `harness` block, or a load_summary.json)."""
    return bool(run.metadata and run.metadata.harness) or "load_summary.json" in run.file_names()


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _build_findings(build: Run, record: Any, shown: str, finished: list[str]) -> Iterator[Finding]:
    """INVALID findings when the record shows an unfinished build; a CLOSED one naming what shows it finished."""
    fix = "wait until the index build finishes (no pending rows) before the runs; reload with load --force"
    pending, state = getattr(record, "pending_index_rows", None), getattr(record, "index_state", None)
    seconds = getattr(record, "index_build_seconds", None)
    if pending:
        yield invalid(f"{pending} rows were still waiting for the index when the load ended", file=shown,
                      parameter="pending_index_rows", expected="0", actual=str(pending), fix=fix)
    elif state not in (None, ""):
        if str(state) in finished:
            yield closed(f"index state {state}", parameter="index_state", actual=str(state))
        else:
            yield invalid(f"the index state is {state}, not finished", parameter="index_state",
                          expected=", ".join(finished), actual=str(state), file=shown, fix=fix)
    elif seconds is not None:
        if _positive(seconds):
            yield closed(f"index built in {seconds:g} s", parameter="index_build_seconds", actual=f"{seconds:g}")
        else:
            yield invalid(f"index build time {seconds:g} s: no build was recorded", parameter="index_build_seconds",
                          expected="> 0", actual=f"{seconds:g}", file=shown, fix=fix)
    elif not _ours(build) and getattr(record, "index_type", None):
        yield closed(f"datagen recorded index type {record.index_type} (upstream's index-build record)",
                     parameter="index_type", actual=str(record.index_type))
    else:
        yield invalid("the load output records no index build (no index_state, no index_build_seconds)",
                      parameter="index_state", expected=", ".join(finished), actual="not recorded", file=shown,
                      fix="re-run the load with a tool that records the index build")


def _compaction_findings(build: Run, record: Any, shown: str, rs: Any) -> Iterator[Finding]:
    """When the load was asked to compact, a compaction record must be there."""
    args = build.metadata.args.model_dump() if build.metadata and build.metadata.args else {}
    configured = getattr(record, "compact", None) is True or args.get("compact") is True or \
        str(build.params.get("workflow.compact", "")).lower() == "true"
    if not configured:
        return
    if getattr(record, "compacted", None) is True or _positive(getattr(record, "compaction_seconds", None)) or \
            str(getattr(record, "compaction_state", "") or "") in rs.finished_states:
        yield closed("compaction recorded", parameter="compaction")
        return
    message = "the load was configured to compact, but no compaction is recorded"
    fix = "record the compaction (compaction_seconds / compaction_state) or load without --compact"
    if _ours(build) or rs.upstream_missing_record == "INVALID":
        yield invalid(message, parameter="compaction", expected="a compaction record", actual="absent",
                      file=shown, fix=fix)
    else:
        yield warning(message + " (upstream's load writes none; the v3.0 review did not check it)",
                      parameter="compaction", expected="a compaction record", actual="absent", file=shown, fix=fix)


@rule("5.2.2", "index-build-record", benchmark=V, scope="group", versions=("v3.0",))
def index_build_record(group: RunGroup) -> Iterator[Finding]:
    """Rules.md §5.2.2: the collection was fully indexed (and compacted, when configured) before querying: the
    newest load / datagen directory records a finished index build, and its index type is the runs' index type.
    A submission group without a load directory is INVALID (§2.1.27 requires `<INDEX>/datagen/<datetime>/`); a
    results dir outside a submission tree may hold runs alone (the load was earlier), so the rule does not apply."""
    rs = vectordb_rules(group.rules_version).index_build
    if rs is None:
        raise NotApplicable(f"no §5.2.2 in {group.rules_version}")
    builds = group.by_command("load") + group.by_command("datagen")
    if not builds:
        if not any(r.ref.prefix for r in group.runs):
            raise NotApplicable("no load or datagen directory, and not a submission tree (runs audited alone)")
        yield invalid("no datagen (load) directory: the index build is not recorded", parameter="datagen/",
                      expected="<INDEX>/datagen/<datetime>/summary.json", actual="absent",
                      file=f"{group.group_id}/datagen",
                      fix="include the datagen directory of the load that built the collection the runs searched")
        return
    build = max(builds, key=lambda r: r.ref.leaf)
    ours = load_summary(build)
    record, name = (ours, "load_summary.json") if ours is not None else (summary(build), "summary.json")
    shown = f"{build.run_id}/{name}"
    if record is None:
        if "load_summary.json" in build.file_names() or "summary.json" in build.file_names():
            raise NotApplicable(f"{shown} is unusable (see documents-parse)")
        message = f"{build.ref.command} directory {build.ref.leaf} records no index build (no {name})"
        if _ours(build) or rs.upstream_missing_record == "INVALID":
            yield invalid(message, parameter=name, expected="present", actual="absent", file=shown,
                          fix="re-run the load; its summary records the index build")
        else:
            yield warning(message + " (the v3.0 review published such rows)", parameter=name, expected="present",
                          actual="absent", file=shown, fix="keep the summary.json the datagen wrote")
        return
    yield from _build_findings(build, record, shown, rs.finished_states)
    yield from _compaction_findings(build, record, shown, rs)
    built = record.index_type.upper() if record.index_type else None
    for run in group.by_command("run"):
        searched = _value(run, "index_type")
        if built and searched and searched != built:
            yield invalid(f"the run searched a {searched} index, the load built {built} ({build.ref.leaf})",
                          parameter="index_type", expected=built, actual=str(searched),
                          file=f"{run.run_id}/summary.json", fix="run against the index the load built")
