"""KV cache run rules on the Option parameters and flags (Rules.md section 6 and upstream's run checker; rules.md
section 5): which Options ran, with which values, seeds, flags, delays, paths and minimums. The rules on results
(completeness, aggregation, headline figures, per-client isolation) are in `rules_results`. Upstream has no rule ids
for the KV cache benchmark, so most ids are ours (`H7.<n>`); rules added from Rules.md §6 keep its section number.
One run directory holds the whole Option sequence. Every rule reads both summary shapes (ours and upstream's v3.0
`summary.json`; see `documents`), and names the file a value came from."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from typing import Any

from mlps_harness.benchmarks.kv_cache.documents import (
    DOC,
    DOC_FILE,
    DOC_SHAPE,
    DOC_SOURCES,
    SUMMARY_NAME,
    KvRunSummary,
    OptionRecord,
)
from mlps_harness.benchmarks.kv_cache.ruleset import KV, kvcache_exists, kvcache_rules
from mlps_harness.model import Run
from mlps_harness.outcomes import (
    Finding,
    NotApplicable,
    closed,
    invalid,
    open_,
    warning,
)
from mlps_harness.rules.evidence import shared_filesystem
from mlps_harness.rules.registry import rule

V3 = ("v3.0",)
PARAMS = ("model", "num_users", "duration_s", "gpu_mem_gb", "cpu_mem_gb", "max_concurrent_allocs", "generation_mode")
UNRECORDED = ("upstream's summary records no per-Option parameters and the metadata has no command_output_files; "
              "the tool locks the CLOSED values (Rules.md §6.3.1.1)")


def run_summary(run: Run) -> KvRunSummary:
    summary = run.documents.get(DOC)
    if summary is None:
        raise NotApplicable("no usable run summary (see the complete-run and documents-parse rules)")
    return summary


def summary_file(run: Run) -> str:
    return f"{run.run_id}/{run.documents.get(DOC_FILE, SUMMARY_NAME)}"


def params_file(run: Run) -> str:
    """Where the Options' parameters were read (the summary, or upstream's metadata commands)."""
    return run.documents.get(DOC_SOURCES, {}).get("parameters") or summary_file(run)


def is_upstream(run: Run) -> bool:
    return run.documents.get(DOC_SHAPE) == "upstream"


def _args(run: Run) -> dict:
    args = run.metadata.args if run.metadata else None
    if args is None:
        raise NotApplicable("no metadata args recorded")
    return args.model_dump()


def _not_recorded(run: Run, name: str, key: str, expected: Any) -> Iterator[Finding]:
    """A parameter the summary lacks: INVALID for our summary (it always records them); for upstream's shape the
    rule cannot judge it, which `_judged` turns into a named not-applicable."""
    if not is_upstream(run):
        yield invalid(f"Option {name}: {key} not recorded", parameter=key, expected=str(expected),
                      file=summary_file(run), fix="re-run with the harness, which records each Option")


def _judged(run: Run, options: dict[str, OptionRecord], key: str) -> None:
    if is_upstream(run) and all(getattr(o, key) is None for o in options.values()):
        raise NotApplicable(f"{key}: {UNRECORDED}")


@rule("H7.0", "benchmark-in-ruleset", benchmark=KV, commands=None)
def benchmark_in_ruleset(run: Run) -> Iterator[Finding]:
    """The KV cache benchmark is part of the ruleset the run is judged by (it arrived with v3.0)."""
    info = kvcache_exists(run.rules_version)
    if not info.exists:
        yield invalid(info.note or f"no KV cache benchmark in {run.rules_version}", parameter="rules_version",
                      expected="v3.0", actual=run.rules_version, file=run.run_id,
                      fix="audit KV cache runs with --rules-version v3.0")


@rule("H7.2", "model-known", benchmark=KV, versions=V3)
def model_known(run: Run) -> Iterator[Finding]:
    """Every Option's model is one of the benchmark's KV cache models."""
    rs = kvcache_rules(run.rules_version)
    options = run_summary(run).options
    _judged(run, options, "model")
    for name, opt in sorted(options.items()):
        if opt.model is None:
            yield from _not_recorded(run, name, "model", ", ".join(rs.models))
        elif opt.model not in rs.models:
            yield invalid(f"Option {name}: unknown model {opt.model!r}", parameter="model",
                          expected=", ".join(rs.models), actual=opt.model, file=params_file(run),
                          fix="use one of the KV cache models")


@rule("H7.3", "closed-options", benchmark=KV, versions=V3)
def closed_options(run: Run) -> Iterator[Finding]:
    """The run holds exactly the three CLOSED Options with their locked parameters (model, users, duration,
    GPU/CPU tier sizes, max concurrent allocations, generation mode)."""
    rs = kvcache_rules(run.rules_version)
    summary = run_summary(run)
    for name in sorted(set(rs.options) - set(summary.options)):
        yield open_(f"Option {name} was not run", parameter="options", expected=", ".join(sorted(rs.options)),
                    actual=", ".join(sorted(summary.options)), file=summary_file(run), fix="run every Option (1, 2, 3)")
    for name in sorted(set(summary.options) - set(rs.options)):
        yield open_(f"Option {name} is not a CLOSED Option", parameter="options", file=summary_file(run),
                    expected=", ".join(sorted(rs.options)), actual=name, fix="run only Options 1, 2 and 3")
    common = sorted(set(rs.options) & set(summary.options))
    if is_upstream(run) and all(getattr(summary.options[n], k) is None for n in common for k in PARAMS):
        raise NotApplicable(f"the Options' parameters: {UNRECORDED}")
    for name in common:
        want, have = rs.options[name], summary.options[name]
        for key in PARAMS:
            expected, actual = getattr(want, key), getattr(have, key)
            if actual is None:
                yield from _not_recorded(run, name, key, expected)
            elif actual != expected:
                yield open_(f"Option {name}: {key} {actual} differs from the CLOSED value {expected}",
                            parameter=key, expected=str(expected), actual=str(actual), file=params_file(run),
                            fix=f"run Option {name} with {key} {expected} for CLOSED")


@rule("H7.4", "trials-per-option", benchmark=KV, versions=V3)
def trials_per_option(run: Run) -> Iterator[Finding]:
    """Each Option runs the ruleset's number of trials (3)."""
    rs = kvcache_rules(run.rules_version)
    summary = run_summary(run)
    if summary.trials_per_option != rs.trials_per_option:
        yield open_(f"{summary.trials_per_option} trial(s) per Option", parameter="trials_per_option",
                    expected=str(rs.trials_per_option), actual=str(summary.trials_per_option), file=summary_file(run),
                    fix=f"run {rs.trials_per_option} trials per Option (drop --kv-trials)")


@rule("H7.5", "rank-seeds", benchmark=KV, versions=V3)
def rank_seeds(run: Run) -> Iterator[Finding]:
    """Every rank used seed 42 + its rank number."""
    rs = kvcache_rules(run.rules_version)
    for name, opt in sorted(run_summary(run).options.items()):
        for trial in opt.trials:
            for r in trial.ranks:
                want = rs.base_seed + r.rank
                if r.seed != want:
                    yield open_(f"Option {name} trial {trial.trial} rank {r.rank}: seed {r.seed}",
                                parameter="seed", expected=str(want), actual=str(r.seed),
                                file=f"{run.run_id}/{r.file}" if r.file else summary_file(run),
                                fix="use the base seed 42 (drop --kv-seed); the harness adds the rank")


def _extra_flags(opt: OptionRecord) -> list[str]:
    """The flags of an Option's recorded argv beyond its seven locked Option flags (and their values)."""
    from mlps_harness.benchmarks.kv_cache.documents import OPTION_FLAGS

    out, i = [], 0
    while i < len(opt.args):
        token = opt.args[i]
        if token in OPTION_FLAGS:
            i += 2
            continue
        if token.startswith("--"):
            out.append(token)
        i += 1
    return out


@rule("H7.6", "closed-flags", benchmark=KV, versions=V3)
def closed_flags(run: Run) -> Iterator[Finding]:
    """Rules.md §6.6.1 is an allow-list: a CLOSED run may set only the system name, the cache and results dirs and
    the client topology (hosts, processes per node, processes, MPI parameters); any other recorded parameter, and
    any kv-cache.py flag beyond the seven Option flags, makes the run OPEN."""
    rs = kvcache_rules(run.rules_version)
    summary = run_summary(run)
    for name, opt in sorted(summary.options.items()):
        for flag in _extra_flags(opt):
            if flag in rs.forbidden_flags:
                continue  # H7.7 names it with its reason
            yield open_(f"Option {name} ran kv-cache.py with {flag}, which a CLOSED run may not set (§6.6.1)",
                        parameter=flag, expected="only the Option's seven flags", actual=flag,
                        file=params_file(run), fix=f"drop {flag} for a CLOSED run")
        seed_base = (opt.model_extra or {}).get("seed_base")
        if seed_base is not None and str(seed_base) != str(rs.base_seed):
            yield open_(f"Option {name} ran with --seed-base {seed_base}", parameter="--seed-base",
                        expected=str(rs.base_seed), actual=str(seed_base), file=params_file(run),
                        fix=f"use the base seed {rs.base_seed} for CLOSED")
    if is_upstream(run):
        return  # upstream's args hold CLI defaults the wrapper does not pass in CLOSED; its argv was judged above
    args = _args(run)
    where = f"{run.run_id}/{run.metadata_file}"
    allowed = set(rs.topology_args) | set(rs.plumbing_args)
    for key in sorted(args):
        value = args[key]
        if key in allowed or value in (None, False, "", [], {}):
            continue
        if key in rs.locked_args:
            yield open_(f"--{key.replace('_', '-')} changes the locked sequence", parameter=key,
                        expected="not set", actual=str(value), file=where,
                        fix=f"drop --{key.replace('_', '-')} for a CLOSED run")
        else:
            yield open_(f"{key}={value} is not a parameter a CLOSED run may set (§6.6.1 allows "
                        f"{', '.join(rs.topology_args)})", parameter=key, expected="not set", actual=str(value),
                        file=where, fix=f"drop {key} for a CLOSED run, or submit to OPEN")


@rule("H7.7", "no-autoscaling-no-config", benchmark=KV, versions=V3)
def forbidden_flags(run: Run) -> Iterator[Finding]:
    """No Option ran with autoscaling or a user YAML `--config` (the wrapper's own default config is not one)."""
    rs = kvcache_rules(run.rules_version)
    for name, opt in sorted(run_summary(run).options.items()):
        for flag, why in rs.forbidden_flags.items():
            if any(a == flag or a.startswith(flag + "=") for a in opt.args):
                yield open_(f"Option {name} ran with {flag}: {why}", parameter=flag, expected="absent",
                            actual="present", file=params_file(run), fix=f"remove {flag}")


@rule("H7.9", "option-delay", benchmark=KV, versions=V3)
def option_delay(run: Run) -> Iterator[Finding]:
    """Consecutive Options are at least the ruleset's delay (90 s) apart (last trial end to next first start).
    Upstream records no trial times: a trial's start is its ranks' earliest result-file time stamp and its end that
    start plus the Option's duration (the wrapper's fixed pre-run delay cancels out)."""
    rs = kvcache_rules(run.rules_version)
    summary = run_summary(run)
    spans = []
    for name, opt in sorted(summary.options.items()):
        starts = [t.started_at for t in opt.trials if t.started_at]
        ends = [t.ended_at or (t.started_at + timedelta(seconds=opt.duration_s)
                               if t.started_at and opt.duration_s is not None else None) for t in opt.trials]
        if starts and ends and all(ends):
            spans.append((name, min(starts), max(e for e in ends if e)))
    if len(spans) < 2:
        raise NotApplicable("fewer than two timed Options")
    where = summary_file(run)
    if is_upstream(run):
        where = run.documents.get(DOC_SOURCES, {}).get("trials", where)
    for (a, _, end), (b, start, _) in pairwise(sorted(spans, key=lambda s: s[1])):
        gap = (start - end).total_seconds()
        if gap < rs.delay_between_options_s - rs.delay_tolerance_s:
            yield open_(f"{gap:.1f} s between Option {a} and Option {b}", parameter="delay_between_options",
                        expected=f">= {rs.delay_between_options_s:g} s", actual=f"{gap:.1f} s", file=where,
                        fix="keep the 90 s delay between Options for a CLOSED run (drop --kv-delay-between-options)")


def _inside(path: str, base: str) -> bool:
    path, base = os.path.normpath(path), os.path.normpath(base)
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


@rule("H7.10", "separate-filesystems", benchmark=KV, versions=V3)
def separate_filesystems(run: Run) -> Iterator[Finding]:
    """Rules.md §6.4.1: the cache dir and the results dir are both set, neither inside the other, and on different
    filesystems. Filesystems that were not recorded are a warning (the round had no evidence either)."""
    args = run.metadata.args.model_dump() if run.metadata and run.metadata.args else {}
    where = f"{run.run_id}/{run.metadata_file or '<benchmark>_<datetime>_metadata.json'}"
    cache, results = args.get("cache_dir"), args.get("results_dir")
    for key, value in (("cache_dir", cache), ("results_dir", results)):
        if not value:
            yield invalid(f"--{key.replace('_', '-')} is not recorded", parameter=key, expected="a directory",
                          actual="not recorded", file=where,
                          fix="run with --cache-dir on the storage under test and --results-dir on another "
                              "filesystem (the metadata records both)")
    if not cache or not results:
        return
    if _inside(cache, results) or _inside(results, cache):
        yield invalid("the cache dir and the results dir overlap", parameter="cache_dir",
                      expected=f"outside {results}", actual=str(cache), file=where,
                      fix="put --cache-dir on the storage under test, away from --results-dir")
        return
    try:
        shared = shared_filesystem(run)
    except NotApplicable:
        yield warning("the filesystems of the cache dir and the results dir are not recorded; separate "
                      "filesystems (§6.4.1) cannot be confirmed", parameter="cache_dir filesystem",
                      expected="different filesystems", actual="not recorded", file=where,
                      fix="run through the harness (it records both filesystems) or keep fs_separation.json")
        return
    if shared is not None:
        yield invalid("the cache dir and the results dir share one filesystem", parameter="cache_dir",
                      expected="different filesystems", actual=f"both on {shared}", file=where,
                      fix="put --cache-dir on the storage under test and --results-dir on another filesystem")
    else:
        yield closed("cache dir and results dir on different filesystems", parameter="cache_dir")


def _threshold(value: float | None, low_invalid: float, low_open: float, what: str, name: str, run: Run,
               fix: str) -> Iterator[Finding]:
    if value is None:
        yield from _not_recorded(run, name, what, f">= {low_open:g}")
    elif value < low_invalid:
        yield invalid(f"Option {name}: {what} {value:g} is below {low_invalid:g}", parameter=what,
                      expected=f">= {low_open:g}", actual=f"{value:g}", file=params_file(run), fix=fix)
    elif value < low_open:
        yield open_(f"Option {name}: {what} {value:g} is below {low_open:g}", parameter=what,
                    expected=f">= {low_open:g}", actual=f"{value:g}", file=params_file(run), fix=fix)


@rule("H7.11", "duration-minimum", benchmark=KV, versions=V3)
def duration_minimum(run: Run) -> Iterator[Finding]:
    """Each trial lasts at least 60 s (below 30 s INVALID, below 60 s OPEN)."""
    rs = kvcache_rules(run.rules_version)
    options = run_summary(run).options
    _judged(run, options, "duration_s")
    for name, opt in sorted(options.items()):
        yield from _threshold(opt.duration_s, rs.min_duration_s.invalid, rs.min_duration_s.open, "duration_s", name,
                              run, "run each trial for at least 60 s (CLOSED: 300 s)")


@rule("H7.12", "users-minimum", benchmark=KV, versions=V3)
def users_minimum(run: Run) -> Iterator[Finding]:
    """Each Option simulates at least 10 users (below 1 INVALID, below 10 OPEN)."""
    rs = kvcache_rules(run.rules_version)
    options = run_summary(run).options
    _judged(run, options, "num_users")
    for name, opt in sorted(options.items()):
        yield from _threshold(opt.num_users, rs.min_users.invalid, rs.min_users.open, "num_users", name, run,
                              "simulate at least 10 users (CLOSED: 200 / 100 / 70)")


@rule("H7.13", "generation-mode", benchmark=KV, versions=V3)
def generation_mode(run: Run) -> Iterator[Finding]:
    """The generation mode is known (else INVALID) and not one the ruleset lists as OPEN."""
    rs = kvcache_rules(run.rules_version)
    options = run_summary(run).options
    _judged(run, options, "generation_mode")
    for name, opt in sorted(options.items()):
        mode = opt.generation_mode
        if mode is None:
            yield from _not_recorded(run, name, "generation_mode", ", ".join(rs.generation_modes))
        elif mode not in rs.generation_modes:
            yield invalid(f"Option {name}: unknown generation mode {mode!r}", parameter="generation_mode",
                          expected=", ".join(rs.generation_modes), actual=str(mode), file=params_file(run),
                          fix="use none (CLOSED), fast or realistic")
        elif mode in rs.open_generation_modes:
            yield open_(f"Option {name}: generation mode {mode} is OPEN only", parameter="generation_mode",
                        expected=", ".join(m for m in rs.generation_modes if m not in rs.open_generation_modes),
                        actual=mode, file=params_file(run), fix="submit to OPEN")


@rule("H7.14", "preview", benchmark=KV, versions=V3)
def preview(run: Run) -> Iterator[Finding]:
    """The benchmark is not in preview in this ruleset (a preview benchmark is OPEN only)."""
    rs = kvcache_rules(run.rules_version)
    if rs.preview:
        yield open_(f"the KV cache benchmark is a preview in {run.rules_version}", parameter="benchmark",
                    expected="released benchmark", actual="preview", fix="submit it in the OPEN division")
