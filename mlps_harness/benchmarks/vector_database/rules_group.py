"""Vector database submission rules (rules.md §5): five runs per engine/index, runs that match their load."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from mlps_harness.benchmarks.vector_database.documents import config, load_summary, summary
from mlps_harness.benchmarks.vector_database.ruleset import BENCHMARK as V
from mlps_harness.benchmarks.vector_database.ruleset import vectordb_rules
from mlps_harness.model import Run, RunGroup
from mlps_harness.outcomes import Finding, NotApplicable, closed, invalid
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
