"""KV cache run rules (Rules.md section 6 and upstream's run checker; rules.md section 5). Upstream has no rule ids
for the KV cache benchmark, so every id is ours (`H7.<n>`). One run directory holds the whole Option sequence."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from mlps_harness.benchmarks.kv_cache.aggregate import option_aggregate
from mlps_harness.benchmarks.kv_cache.ruleset import KV, kvcache_exists, kvcache_rules
from mlps_harness.benchmarks.kv_cache.documents import DOC, DOC_FILE, DOC_RANK_FILES, KvRunSummary, OptionRecord
from mlps_harness.model import Run
from mlps_harness.outcomes import Finding, NotApplicable, closed, invalid, open_
from mlps_harness.rules.evidence import shared_filesystem
from mlps_harness.rules.registry import rule

V3 = ("v3.0",)
PARAMS = ("model", "num_users", "duration_s", "gpu_mem_gb", "cpu_mem_gb", "max_concurrent_allocs", "generation_mode")


def _summary(run: Run) -> KvRunSummary:
    summary = run.documents.get(DOC)
    if summary is None:
        raise NotApplicable("no usable kvcache_run_summary_*.json (see the complete-run and documents-parse rules)")
    return summary


def _file(run: Run) -> str:
    return f"{run.run_id}/{run.documents.get(DOC_FILE, 'kvcache_run_summary_<datetime>.json')}"


def _args(run: Run) -> dict:
    args = run.metadata.args if run.metadata else None
    if args is None:
        raise NotApplicable("no metadata args recorded")
    return args.model_dump()


@rule("H7.0", "benchmark-in-ruleset", benchmark=KV, commands=None)
def benchmark_in_ruleset(run: Run) -> Iterator[Finding]:
    """The KV cache benchmark is part of the ruleset the run is judged by (it arrived with v3.0)."""
    info = kvcache_exists(run.rules_version)
    if not info.exists:
        yield invalid(info.note or f"no KV cache benchmark in {run.rules_version}", parameter="rules_version",
                      expected="v3.0", actual=run.rules_version, file=run.run_id,
                      fix="audit KV cache runs with --rules-version v3.0")


@rule("H7.1", "complete-run", benchmark=KV, versions=V3)
def complete_run(run: Run) -> Iterator[Finding]:
    """Every planned trial finished on every rank: no incomplete marker, a summary, no partial failure, no
    missing rank result file."""
    marker = run.documents.get("incomplete") or run.incomplete
    if marker:
        yield invalid(f"incomplete run: {marker.get('reason', 'interrupted')}", parameter="run", file=run.run_id,
                      fix="re-run the sequence; an interrupted or failed run cannot be submitted")
    summary = run.documents.get(DOC)
    if summary is None:
        yield invalid("no usable run summary", parameter="kvcache_run_summary", expected="present", actual="absent",
                      file=run.run_id, fix="check the trials' stderr logs, fix the cause and re-run")
        return
    if summary.partial_failure:
        yield invalid("the summary reports a partial failure", parameter="partial_failure", expected="false",
                      actual="true", file=_file(run), fix="re-run; every rank of every trial must succeed")
    on_disk = set(run.documents.get(DOC_RANK_FILES, []))
    for name, opt in sorted(summary.options.items()):
        if opt.missing_files:
            yield invalid(f"Option {name}: {len(opt.missing_files)} rank result file(s) missing",
                          parameter="missing_files", expected="none", actual=", ".join(opt.missing_files[:5]),
                          file=_file(run), fix="re-run; each rank must write its kvcache_results JSON")
        if opt.trial_count < summary.trials_per_option or len(opt.trials) < summary.trials_per_option:
            yield invalid(f"Option {name}: {opt.trial_count} of {summary.trials_per_option} trials completed",
                          parameter="trial_count", expected=str(summary.trials_per_option),
                          actual=str(opt.trial_count), file=_file(run), fix="re-run the whole sequence")
        for trial in opt.trials:
            if len(trial.ranks) != summary.total_ranks:
                yield invalid(f"Option {name} trial {trial.trial}: {len(trial.ranks)} of {summary.total_ranks} "
                              "ranks reported", parameter="ranks", expected=str(summary.total_ranks),
                              actual=str(len(trial.ranks)), file=_file(run), fix="re-run; a rank failed")
            for r in trial.ranks:
                if r.file and r.file not in on_disk:
                    yield invalid(f"{r.file} is listed in the summary but absent", parameter="rank result",
                                  expected="present", actual="absent", file=f"{run.run_id}/{r.file}",
                                  fix="restore the rank's result JSON from the run")


@rule("H7.2", "model-known", benchmark=KV, versions=V3)
def model_known(run: Run) -> Iterator[Finding]:
    """Every Option's model is one of the benchmark's KV cache models."""
    rs = kvcache_rules(run.rules_version)
    for name, opt in sorted(_summary(run).options.items()):
        if opt.model is None:
            yield invalid(f"Option {name}: model not recorded", parameter="model", file=_file(run),
                          expected=", ".join(rs.models), fix="re-run with the harness, which records each Option")
        elif opt.model not in rs.models:
            yield invalid(f"Option {name}: unknown model {opt.model!r}", parameter="model",
                          expected=", ".join(rs.models), actual=opt.model, file=_file(run),
                          fix="use one of the KV cache models")


@rule("H7.3", "closed-options", benchmark=KV, versions=V3)
def closed_options(run: Run) -> Iterator[Finding]:
    """The run holds exactly the three CLOSED Options with their locked parameters (model, users, duration,
    GPU/CPU tier sizes, max concurrent allocations, generation mode)."""
    rs = kvcache_rules(run.rules_version)
    summary = _summary(run)
    for name in sorted(set(rs.options) - set(summary.options)):
        yield open_(f"Option {name} was not run", parameter="options", expected=", ".join(sorted(rs.options)),
                    actual=", ".join(sorted(summary.options)), file=_file(run), fix="run every Option (1, 2, 3)")
    for name in sorted(set(summary.options) - set(rs.options)):
        yield open_(f"Option {name} is not a CLOSED Option", parameter="options", file=_file(run),
                    expected=", ".join(sorted(rs.options)), actual=name, fix="run only Options 1, 2 and 3")
    for name in sorted(set(rs.options) & set(summary.options)):
        want, have = rs.options[name], summary.options[name]
        for key in PARAMS:
            expected, actual = getattr(want, key), getattr(have, key)
            if actual is None:
                yield invalid(f"Option {name}: {key} not recorded", parameter=key, expected=str(expected),
                              file=_file(run), fix="re-run with the harness, which records each Option")
            elif actual != expected:
                yield open_(f"Option {name}: {key} {actual} differs from the CLOSED value {expected}",
                            parameter=key, expected=str(expected), actual=str(actual), file=_file(run),
                            fix=f"run Option {name} with {key} {expected} for CLOSED")


@rule("H7.4", "trials-per-option", benchmark=KV, versions=V3)
def trials_per_option(run: Run) -> Iterator[Finding]:
    """Each Option runs the ruleset's number of trials (3)."""
    rs = kvcache_rules(run.rules_version)
    summary = _summary(run)
    if summary.trials_per_option != rs.trials_per_option:
        yield open_(f"{summary.trials_per_option} trial(s) per Option", parameter="trials_per_option",
                    expected=str(rs.trials_per_option), actual=str(summary.trials_per_option), file=_file(run),
                    fix=f"run {rs.trials_per_option} trials per Option (drop --kv-trials)")


@rule("H7.5", "rank-seeds", benchmark=KV, versions=V3)
def rank_seeds(run: Run) -> Iterator[Finding]:
    """Every rank used seed 42 + its rank number."""
    rs = kvcache_rules(run.rules_version)
    for name, opt in sorted(_summary(run).options.items()):
        for trial in opt.trials:
            for r in trial.ranks:
                want = rs.base_seed + r.rank
                if r.seed != want:
                    yield open_(f"Option {name} trial {trial.trial} rank {r.rank}: seed {r.seed}",
                                parameter="seed", expected=str(want), actual=str(r.seed),
                                file=f"{run.run_id}/{r.file}" if r.file else _file(run),
                                fix="use the base seed 42 (drop --kv-seed); the harness adds the rank")


@rule("H7.6", "closed-flags", benchmark=KV, versions=V3)
def closed_flags(run: Run) -> Iterator[Finding]:
    """Only topology flags were set (systemname, cache dir, results dir, hosts, processes, MPI parameters)."""
    rs = kvcache_rules(run.rules_version)
    args = _args(run)
    where = f"{run.run_id}/{run.metadata_file}"
    for key in rs.locked_args:
        if args.get(key) not in (None, False, ""):
            yield open_(f"--{key.replace('_', '-')} changes the locked sequence", parameter=key,
                        expected="not set", actual=str(args[key]), file=where,
                        fix=f"drop --{key.replace('_', '-')} for a CLOSED run")


@rule("H7.7", "no-autoscaling-no-config", benchmark=KV, versions=V3)
def forbidden_flags(run: Run) -> Iterator[Finding]:
    """No Option ran with autoscaling or a YAML `--config`."""
    rs = kvcache_rules(run.rules_version)
    for name, opt in sorted(_summary(run).options.items()):
        for flag, why in rs.forbidden_flags.items():
            if any(a == flag or a.startswith(flag + "=") for a in opt.args):
                yield open_(f"Option {name} ran with {flag}: {why}", parameter=flag, expected="absent",
                            actual="present", file=_file(run), fix=f"remove {flag}")


@rule("H7.8", "storage-tier-used", benchmark=KV, versions=V3)
def storage_tier_used(run: Run) -> Iterator[Finding]:
    """Every Option put KV blocks on storage: an all-CPU-tier Option (no storage entries) is invalid."""
    for name, opt in sorted(_summary(run).options.items()):
        results = [r for t in opt.trials for r in t.ranks]
        cpu_only = [f"trial {t.trial} rank {r.rank}" for t in opt.trials for r in t.ranks if r.storage_entries == 0]
        if results and len(cpu_only) == len(results):
            yield invalid(f"Option {name} kept every block in RAM: no storage entries on any rank",
                          parameter="storage_entries", expected="> 0", actual="0", file=_file(run),
                          fix="lower the CPU tier (--kv-cpu-mem-gb) or raise the load so blocks reach storage")
        elif cpu_only:
            yield open_(f"Option {name}: no storage entries on {', '.join(cpu_only[:4])}",
                        parameter="storage_entries", expected="> 0 on every rank", actual="0", file=_file(run),
                        fix="every rank must reach the storage tier; lower the CPU tier or raise the load")


@rule("H7.9", "option-delay", benchmark=KV, versions=V3)
def option_delay(run: Run) -> Iterator[Finding]:
    """Consecutive Options are at least the ruleset's delay (90 s) apart (last trial end to next first start)."""
    rs = kvcache_rules(run.rules_version)
    summary = _summary(run)
    spans = []
    for name, opt in sorted(summary.options.items()):
        starts = [t.started_at for t in opt.trials if t.started_at]
        ends = [t.ended_at for t in opt.trials if t.ended_at]
        if starts and ends:
            spans.append((name, min(starts), max(ends)))
    if len(spans) < 2:
        raise NotApplicable("fewer than two timed Options")
    for (a, _, end), (b, start, _) in pairwise(sorted(spans, key=lambda s: s[1])):
        gap = (start - end).total_seconds()
        if gap < rs.delay_between_options_s - rs.delay_tolerance_s:
            yield open_(f"{gap:.1f} s between Option {a} and Option {b}", parameter="delay_between_options",
                        expected=f">= {rs.delay_between_options_s:g} s", actual=f"{gap:.1f} s", file=_file(run),
                        fix="drop --kv-delay-between-options for a CLOSED run")


@rule("H7.10", "separate-filesystems", benchmark=KV, versions=V3)
def separate_filesystems(run: Run) -> Iterator[Finding]:
    """The cache dir and the results dir are on different filesystems (when recorded)."""
    shared = shared_filesystem(run)
    if shared is not None:
        yield invalid("the cache dir and the results dir share one filesystem", parameter="cache_dir",
                      expected="different filesystems", actual=f"both on {shared}",
                      file=f"{run.run_id}/{run.metadata_file}",
                      fix="put --cache-dir on the storage under test and --results-dir on another filesystem")


def _threshold(value: float | None, low_invalid: float, low_open: float, what: str, name: str, run: Run,
               fix: str) -> Iterator[Finding]:
    if value is None:
        yield invalid(f"Option {name}: {what} not recorded", parameter=what, file=_file(run),
                      fix="re-run with the harness, which records each Option")
    elif value < low_invalid:
        yield invalid(f"Option {name}: {what} {value:g} is below {low_invalid:g}", parameter=what,
                      expected=f">= {low_open:g}", actual=f"{value:g}", file=_file(run), fix=fix)
    elif value < low_open:
        yield open_(f"Option {name}: {what} {value:g} is below {low_open:g}", parameter=what,
                    expected=f">= {low_open:g}", actual=f"{value:g}", file=_file(run), fix=fix)


@rule("H7.11", "duration-minimum", benchmark=KV, versions=V3)
def duration_minimum(run: Run) -> Iterator[Finding]:
    """Each trial lasts at least 60 s (below 30 s INVALID, below 60 s OPEN)."""
    rs = kvcache_rules(run.rules_version)
    for name, opt in sorted(_summary(run).options.items()):
        yield from _threshold(opt.duration_s, rs.min_duration_s.invalid, rs.min_duration_s.open, "duration_s", name,
                              run, "run each trial for at least 60 s (CLOSED: 300 s)")


@rule("H7.12", "users-minimum", benchmark=KV, versions=V3)
def users_minimum(run: Run) -> Iterator[Finding]:
    """Each Option simulates at least 10 users (below 1 INVALID, below 10 OPEN)."""
    rs = kvcache_rules(run.rules_version)
    for name, opt in sorted(_summary(run).options.items()):
        yield from _threshold(opt.num_users, rs.min_users.invalid, rs.min_users.open, "num_users", name, run,
                              "simulate at least 10 users (CLOSED: 200 / 100 / 70)")


@rule("H7.13", "generation-mode", benchmark=KV, versions=V3)
def generation_mode(run: Run) -> Iterator[Finding]:
    """The generation mode is known (else INVALID) and not one the ruleset lists as OPEN."""
    rs = kvcache_rules(run.rules_version)
    for name, opt in sorted(_summary(run).options.items()):
        mode = opt.generation_mode
        if mode not in rs.generation_modes:
            yield invalid(f"Option {name}: unknown generation mode {mode!r}", parameter="generation_mode",
                          expected=", ".join(rs.generation_modes), actual=str(mode), file=_file(run),
                          fix="use none (CLOSED), fast or realistic")
        elif mode in rs.open_generation_modes:
            yield open_(f"Option {name}: generation mode {mode} is OPEN only", parameter="generation_mode",
                        expected=", ".join(m for m in rs.generation_modes if m not in rs.open_generation_modes),
                        actual=mode, file=_file(run), fix="submit to OPEN")


@rule("H7.14", "preview", benchmark=KV, versions=V3)
def preview(run: Run) -> Iterator[Finding]:
    """The benchmark is not in preview in this ruleset (a preview benchmark is OPEN only)."""
    rs = kvcache_rules(run.rules_version)
    if rs.preview:
        yield open_(f"the KV cache benchmark is a preview in {run.rules_version}", parameter="benchmark",
                    expected="released benchmark", actual="preview", fix="submit it in the OPEN division")


@rule("H7.15", "aggregation", benchmark=KV, versions=V3)
def aggregation(run: Run) -> Iterator[Finding]:
    """Each Option's reported aggregates equal the per-rank figures recombined (rates summed over ranks and
    averaged over trials, device P95 the maximum over ranks and trials)."""
    for name, opt in sorted(_summary(run).options.items()):
        trials = [[r.model_dump() for r in t.ranks] for t in opt.trials if t.ok]
        if not trials:
            continue
        want = option_aggregate(trials)
        for key, expected in want.items():
            if not key.startswith("aggregated_"):
                continue
            actual = getattr(opt, key)
            if abs(actual - expected) > 1e-6 * max(1.0, abs(expected)):
                yield invalid(f"Option {name}: {key} {actual:g} does not match the rank figures ({expected:g})",
                              parameter=key, expected=f"{expected:g}", actual=f"{actual:g}", file=_file(run),
                              fix="restore the summary the harness wrote; aggregates must follow the ranks")


def option_headline(opt: OptionRecord) -> str:
    """An Option's headline figures (read bandwidth, device read/write P95, storage tokens/s)."""
    return (f"read {opt.aggregated_read_bandwidth_gbps:.2f} GiB/s, device P95 read "
            f"{opt.aggregated_device_read_p95_ms:.0f} ms / write {opt.aggregated_device_write_p95_ms:.0f} ms, "
            f"{opt.aggregated_storage_throughput_tokens_per_sec:.0f} storage tokens/s")


@rule("H7.16", "headline", benchmark=KV, versions=V3)
def headline(run: Run) -> Iterator[Finding]:
    """Each Option reports a non-zero storage read bandwidth (the headline figure)."""
    for name, opt in sorted(_summary(run).options.items()):
        if opt.trial_count and opt.aggregated_read_bandwidth_gbps <= 0:
            yield invalid(f"Option {name}: no storage reads were measured", parameter="aggregated_read_bandwidth_gbps",
                          expected="> 0", actual=f"{opt.aggregated_read_bandwidth_gbps:g}", file=_file(run),
                          fix="check the cache dir and the load; the run read nothing from storage")
        elif opt.trial_count:
            yield closed(f"Option {name}: {option_headline(opt)}", parameter="headline")
