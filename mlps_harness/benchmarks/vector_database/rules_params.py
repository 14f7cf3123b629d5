"""Vector database parameter rule (Rules.md §5.6.4, with §5.6.5 for OPEN): a run may change only the parameters the
ruleset lists. The lists, the fixed values and where each file records a parameter are ruleset data
(`rulesets/<version>/vector_database.yaml`, `parameters`); this module only reads the run's records against them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlps_harness.benchmarks.vector_database.documents import (
    config,
    load_summary,
    recorded,
    summary,
)
from mlps_harness.benchmarks.vector_database.rules_run import path_engine_index
from mlps_harness.benchmarks.vector_database.ruleset import BENCHMARK as V
from mlps_harness.benchmarks.vector_database.ruleset import (
    ParameterLists,
    vectordb_rules,
)
from mlps_harness.model import Run
from mlps_harness.outcomes import Finding, NotApplicable, closed, invalid, open_
from mlps_harness.rules.registry import rule

ARGS = "metadata args"


def _lookup(doc: dict[str, Any], field: str) -> Any:
    """`field` of a document, following dots into nested mappings (`index_params.M`)."""
    value: Any = doc
    for part in field.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def overrides(run: Run) -> tuple[dict[str, Any], str]:
    """The user's overrides as dotted keys: our metadata `params_dict`, upstream's `override_parameters` and its
    `args.params` entries (`key=value`); and the file they are recorded in."""
    found: dict[str, Any] = dict(run.params)
    meta = run.metadata
    extra = (meta.model_extra or {}) if meta else {}
    if isinstance(extra.get("override_parameters"), dict):
        found.update({str(k): v for k, v in extra["override_parameters"].items()})
    for entry in (meta.args.params or []) if meta and meta.args else []:
        key, _, value = str(entry).partition("=")
        if key.strip():
            found[key.strip()] = value.strip()
    return found, f"{run.run_id}/{run.metadata_file or '<benchmark>_<datetime>_metadata.json'}"


def _recorded(run: Run, lists: ParameterLists) -> list[tuple[str, Any, str]]:
    """(parameter key, value, file) for every parameter a run's files record, per the ruleset's `recorded` map."""
    docs: dict[str, tuple[Any, str]] = {
        ARGS: (run.metadata.args if run.metadata else None, f"{run.run_id}/{run.metadata_file}"),
        "config.json": (config(run), f"{run.run_id}/config.json"),
        "summary.json": (summary(run), f"{run.run_id}/summary.json"),
        "load_summary.json": (load_summary(run), f"{run.run_id}/load_summary.json")}
    out = []
    for name, fields in lists.recorded.items():
        doc, shown = docs.get(name, (None, ""))
        if doc is None:
            continue
        data = doc.model_dump()
        for field, key in fields.items():
            value = _lookup(data, field)
            if value not in (None, ""):
                out.append((key, value, f"{shown} {field}" if name == ARGS else shown))
    return out


def _same(value: Any, want: Any) -> bool:
    """Equal as numbers when both are numbers (10, 10.0, "10"), else as case-insensitive text."""
    try:
        return float(value) == float(want)
    except (TypeError, ValueError, OverflowError):   # OverflowError: an integer too large for a float
        return str(value).strip().lower() == str(want).strip().lower()


def _judge(key: str, value: Any, where: str, override: bool, lists: ParameterLists,
           native: str | None) -> Iterator[Finding]:
    """The findings for one parameter; nothing when it is one a CLOSED run may set to this value."""
    shown = f"{key}={value}"
    if key in lists.closed:
        allowed = lists.closed_values.get(key)
        if allowed and not any(_same(value, a) for a in allowed):
            yield open_(f"{shown}: CLOSED allows {key} only as {', '.join(allowed)} (§5.6.4)", parameter=key,
                        expected=", ".join(allowed), actual=str(value), file=where,
                        fix=f"use {key} {allowed[0]} for CLOSED, or submit the run in the OPEN division")
    elif key in lists.open:
        yield open_(f"{shown}: {key} may be changed in OPEN only (§5.6.5)", parameter=key,
                    expected="not overridden", actual=str(value), file=where,
                    fix=f"drop the {key} override (pass the endpoint on the command line) for CLOSED")
    elif key in lists.fixed and (not override or _same(value, lists.fixed[key])):
        want = lists.fixed[key]
        if not _same(value, want):
            yield invalid(f"{shown}: {key} may not be changed in either division (§5.6.4, §5.6.5)", parameter=key,
                          expected=str(want), actual=str(value), file=where,
                          fix=f"re-run with {key} {want} (the benchmark's value)")
    elif native:
        yield open_(f"{shown}: a parameter outside the Milvus lists, accepted as native to {native} in OPEN "
                    "(§5.6.5)", parameter=key, expected="a §5.6.4 parameter", actual=str(value), file=where,
                    fix="submit the run in the OPEN division")
    else:
        yield invalid(f"{shown}: {key} is not a parameter a run may change (§5.6.4 lists "
                      f"{len(lists.closed)} for CLOSED, §5.6.5 adds {', '.join(lists.open)} for OPEN)",
                      parameter=key, expected="one of the listed parameters", actual=str(value), file=where,
                      fix=f"drop the {key} change and re-run")


@rule("5.6.4", "closed-parameters", benchmark=V, commands=("run", "load", "datagen"), versions=("v3.0",))
def closed_parameters(run: Run) -> Iterator[Finding]:
    """Rules.md §5.6.4: a CLOSED run changes only the 20 listed parameters (index build and search parameters, query
    processes and batch, collection and load layout, storage root and type); `run.mode` is timed or query_count.
    §5.6.5: OPEN adds the endpoint; any other change fails in both divisions, except a non-Milvus backend's own
    parameters (OPEN). Values the benchmark fixes (distribution, search limit, recall@k, query set) are compared."""
    lists = vectordb_rules(run.rules_version).parameters
    if lists is None:
        raise NotApplicable(f"no §5.6.4 parameter lists in {run.rules_version}")
    rs = vectordb_rules(run.rules_version)
    engine = recorded(run, "engine")[0] or path_engine_index(run.ref.model)[0]
    native = engine if engine in rs.native_index_engines else None
    given, where = overrides(run)
    findings: list[Finding] = []
    for key, value in sorted(given.items()):
        findings += _judge(key, value, where, True, lists, native)
    seen = _recorded(run, lists)
    judged: set[tuple[str, str]] = set()
    for key, value, shown in seen:
        if (key, str(value).lower()) not in judged:  # one finding per value, naming the first file recording it
            judged.add((key, str(value).lower()))
            findings += _judge(key, value, shown, False, lists, native)
    yield from findings
    if not findings:
        keys = sorted({k for k in given} | {k for k, _, _ in seen})
        yield closed(f"{len(keys)} parameter(s) recorded, all within §5.6.4" if keys else
                     "no parameter change recorded", parameter="parameters", actual=", ".join(keys) or "none")
