"""KV cache run rules on results (Rules.md section 6): the run completed on every rank, its summary has the name the
report generator reads, every Option reached storage, the aggregates follow the rank figures, the headline figure
is there, and every client had its own rank, result file and cache dir. The rules on the Option parameters and
flags are in `rules_run`, whose helpers (`run_summary`, `summary_file`) these share."""

from __future__ import annotations

from collections.abc import Iterator

from mlps_harness.benchmarks.kv_cache.documents import (
    DOC,
    DOC_FILE,
    DOC_RANK_FILES,
    SUMMARY_NAME,
    OptionRecord,
)
from mlps_harness.benchmarks.kv_cache.rules_run import V3, run_summary, summary_file
from mlps_harness.benchmarks.kv_cache.ruleset import KV
from mlps_harness.model import Run
from mlps_harness.outcomes import (
    Finding,
    NotApplicable,
    closed,
    invalid,
    open_,
    warning,
)
from mlps_harness.rules.registry import rule


@rule("H7.1", "complete-run", benchmark=KV, versions=V3)
def complete_run(run: Run) -> Iterator[Finding]:
    """Every planned trial finished on every rank: no incomplete marker, a summary, no partial failure, no failed
    trial, no missing rank result file."""
    marker = run.documents.get("incomplete") or run.incomplete
    if marker:
        yield invalid(f"incomplete run: {marker.get('reason', 'interrupted')}", parameter="run", file=run.run_id,
                      fix="re-run the sequence; an interrupted or failed run cannot be submitted")
    summary = run.documents.get(DOC)
    if summary is None:
        yield invalid("no usable run summary", parameter=SUMMARY_NAME, expected="present (summary.json, or the "
                      "older kvcache_run_summary_<datetime>.json)", actual="absent or unusable", file=run.run_id,
                      fix="check the trials' stderr logs, fix the cause and re-run")
        return
    if summary.partial_failure:
        yield invalid("the summary reports a partial failure", parameter="partial_failure", expected="false",
                      actual="true", file=summary_file(run), fix="re-run; every rank of every trial must succeed")
    for trial, why in sorted((summary.trial_failures or {}).items()):
        yield invalid(f"trial {trial} failed: {why}", parameter="trial_failures", expected="{}", actual=str(why),
                      file=summary_file(run), fix="re-run; every trial must exit 0")
    on_disk = set(run.documents.get(DOC_RANK_FILES, []))
    for name, opt in sorted(summary.options.items()):
        if opt.missing_files:
            yield invalid(f"Option {name}: {len(opt.missing_files)} rank result file(s) missing",
                          parameter="missing_files", expected="none", actual=", ".join(opt.missing_files[:5]),
                          file=summary_file(run), fix="re-run; each rank must write its kvcache_results JSON")
        done = min(opt.trial_count, len(opt.trials))
        if done < summary.trials_per_option:
            yield invalid(f"Option {name}: {done} of {summary.trials_per_option} trials completed",
                          parameter="trial_count", expected=str(summary.trials_per_option), actual=str(done),
                          file=summary_file(run), fix="re-run the whole sequence")
        for trial in opt.trials:
            if len(trial.ranks) != summary.total_ranks:
                yield invalid(f"Option {name} trial {trial.trial}: {len(trial.ranks)} of {summary.total_ranks} "
                              "ranks reported", parameter="ranks", expected=str(summary.total_ranks),
                              actual=str(len(trial.ranks)), file=summary_file(run), fix="re-run; a rank failed")
            for r in trial.ranks:
                if r.file and r.file not in on_disk:
                    yield invalid(f"{r.file} is listed in the summary but absent", parameter="rank result",
                                  expected="present", actual="absent", file=f"{run.run_id}/{r.file}",
                                  fix="restore the rank's result JSON from the run")


@rule("H7.17", "summary-name", benchmark=KV, versions=V3)
def summary_name(run: Run) -> Iterator[Finding]:
    """The run summary is named `summary.json`: the v3.0 report generator reads no other name (the round withheld
    a published row whose summary kept the older `kvcache_run_summary_<datetime>.json` name)."""
    name = run.documents.get(DOC_FILE)
    if name is None:
        raise NotApplicable("no usable run summary (see complete-run)")
    if name != SUMMARY_NAME:
        yield warning(f"the summary is named {name}; the v3.0 report generator reads only summary.json, so the "
                      "round's tables would show this run blank (the review withheld such a row)",
                      parameter="summary file name", expected=SUMMARY_NAME, actual=name, file=summary_file(run),
                      fix=f"rename {name} to {SUMMARY_NAME} (same content) in {run.run_id}")


@rule("H7.8", "storage-tier-used", benchmark=KV, versions=V3)
def storage_tier_used(run: Run) -> Iterator[Finding]:
    """Every Option put KV blocks on storage: an all-CPU-tier Option (no storage entries) is invalid."""
    for name, opt in sorted(run_summary(run).options.items()):
        results = [r for t in opt.trials for r in t.ranks]
        cpu_only = [f"trial {t.trial} rank {r.rank}" for t in opt.trials for r in t.ranks if r.storage_entries == 0]
        if results and len(cpu_only) == len(results):
            yield invalid(f"Option {name} kept every block in RAM: no storage entries on any rank",
                          parameter="storage_entries", expected="> 0", actual="0", file=summary_file(run),
                          fix="lower the CPU tier (--kv-cpu-mem-gb) or raise the load so blocks reach storage")
        elif cpu_only:
            yield open_(f"Option {name}: no storage entries on {', '.join(cpu_only[:4])}",
                        parameter="storage_entries", expected="> 0 on every rank", actual="0", file=summary_file(run),
                        fix="every rank must reach the storage tier; lower the CPU tier or raise the load")


SUMMED = (("aggregated_read_bandwidth_gbps", "read_bandwidth_gbps"),
          ("aggregated_write_bandwidth_gbps", "write_bandwidth_gbps"),
          ("aggregated_storage_throughput_tokens_per_sec", "storage_throughput_tokens_per_sec"))
MAXED = (("aggregated_device_read_p95_ms", "device_read_p95_ms"),
         ("aggregated_device_write_p95_ms", "device_write_p95_ms"),
         ("aggregated_p95_latency_ms", "storage_io_p95_ms"))


def recombined(opt: OptionRecord) -> dict[str, float]:
    """An Option's aggregates recomputed from its ranks (written here, not imported from the suite, so the rule
    checks the suite's aggregation instead of repeating it): rates summed over the ranks of a trial and averaged
    over trials, P95s the maximum over every rank and trial; only the aggregates the summary records."""
    trials = [t.ranks for t in opt.trials if t.ok and t.ranks]
    out: dict[str, float] = {}
    if not trials:
        return out
    for key, field in SUMMED:
        out[key] = sum(sum(getattr(r, field) for r in ranks) for ranks in trials) / len(trials)
    for key, field in MAXED:
        values = [getattr(r, field) for ranks in trials for r in ranks if getattr(r, field) is not None]
        if getattr(opt, key) is not None and values:
            out[key] = max(values)
    return out


@rule("H7.15", "aggregation", benchmark=KV, versions=V3)
def aggregation(run: Run) -> Iterator[Finding]:
    """Each Option's reported aggregates equal the per-rank figures recombined (rates summed over ranks and
    averaged over trials, P95 latencies the maximum over ranks and trials)."""
    for name, opt in sorted(run_summary(run).options.items()):
        for key, expected in recombined(opt).items():
            actual = getattr(opt, key)
            if abs(actual - expected) > 1e-6 * max(1.0, abs(expected)):
                yield invalid(f"Option {name}: {key} {actual:g} does not match the rank figures ({expected:g})",
                              parameter=key, expected=f"{expected:g}", actual=f"{actual:g}", file=summary_file(run),
                              fix="restore the summary the benchmark wrote; aggregates must follow the ranks")


def option_headline(opt: OptionRecord) -> str:
    """An Option's headline figures (read bandwidth, P95 latencies, storage tokens/s)."""
    if opt.aggregated_device_read_p95_ms is not None or opt.aggregated_device_write_p95_ms is not None:
        p95 = (f"device P95 read {opt.aggregated_device_read_p95_ms or 0:.0f} ms / write "
               f"{opt.aggregated_device_write_p95_ms or 0:.0f} ms")
    else:
        p95 = f"storage P95 {opt.aggregated_p95_latency_ms or 0:.0f} ms"
    return (f"read {opt.aggregated_read_bandwidth_gbps:.2f} GiB/s, {p95}, "
            f"{opt.aggregated_storage_throughput_tokens_per_sec:.0f} storage tokens/s")


@rule("H7.16", "headline", benchmark=KV, versions=V3)
def headline(run: Run) -> Iterator[Finding]:
    """Each Option reports a non-zero storage read bandwidth (the headline figure)."""
    for name, opt in sorted(run_summary(run).options.items()):
        if opt.trial_count and opt.aggregated_read_bandwidth_gbps <= 0:
            yield invalid(f"Option {name}: no storage reads were measured", parameter="aggregated_read_bandwidth_gbps",
                          expected="> 0", actual=f"{opt.aggregated_read_bandwidth_gbps:g}", file=summary_file(run),
                          fix="check the cache dir and the load; the run read nothing from storage")
        elif opt.trial_count:
            yield closed(f"Option {name}: {option_headline(opt)}", parameter="headline")


@rule("6.3.3.3", "per-client-isolation", benchmark=KV, versions=V3)
def per_client_isolation(run: Run) -> Iterator[Finding]:
    """Rules.md §6.3.3.3: every client of a multi-client run has its own rank number, its own result file under
    `option_<O>/trial_<T>/rank_<N>/` and its own cache directory; two clients never share one."""
    summary = run_summary(run)
    if summary.total_ranks < 2:
        raise NotApplicable("a single client")
    fix = "launch every rank through the wrapper under MPI (it derives rank_<N> from the MPI rank) and re-run"
    for name, opt in sorted(summary.options.items()):
        for trial in opt.trials:
            where = f"Option {name} trial {trial.trial}"
            seen: dict[tuple[str, str], list[str]] = {}
            for r in trial.ranks:
                seen.setdefault(("rank", str(r.rank)), []).append(r.file or "?")
                if r.file:
                    seen.setdefault(("result file", r.file), []).append(f"rank {r.rank}")
                if r.cache_dir:
                    seen.setdefault(("cache dir", r.cache_dir), []).append(f"rank {r.rank}")
                if not 0 <= r.rank < summary.total_ranks:
                    yield invalid(f"{where}: rank {r.rank} is outside 0..{summary.total_ranks - 1}",
                                  parameter="rank", expected=f"0..{summary.total_ranks - 1}", actual=str(r.rank),
                                  file=f"{run.run_id}/{r.file}" if r.file else summary_file(run), fix=fix)
                own = f"option_{name}/trial_{trial.trial}/rank_{r.rank}/"
                if r.file and not r.file.startswith(own):
                    yield invalid(f"{where}: rank {r.rank} wrote {r.file}, outside its own {own}",
                                  parameter="rank result path", expected=own, actual=r.file,
                                  file=f"{run.run_id}/{r.file}", fix=fix)
            for (what, value), users in sorted(seen.items()):
                if len(users) > 1:
                    yield invalid(f"{where}: {what} {value} is shared by {len(users)} clients "
                                  f"({', '.join(users[:4])})", parameter=what, expected="one client each",
                                  actual=f"{len(users)} clients", file=summary_file(run), fix=fix)

