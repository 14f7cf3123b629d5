"""Checkpointing single-run rules (rules.md §4). Ids are upstream's (Rules.md §4); `H4.<n>` ids are ours.

Every rule reads both our checkpoint workload's results and upstream DLIO-branch results (metadata args and
`params_dict`, `dlio_config/{config,overrides}.yaml`, `summary.json`).
"""

from __future__ import annotations

from collections.abc import Iterator

from mlps_harness.benchmarks.checkpointing.documents import (
    checkpoint_counts,
    checkpoint_mode,
    flatten,
    same_value,
    size_scale,
    workload_record,
)
from mlps_harness.benchmarks.checkpointing.ruleset import (
    CheckpointRules,
    ModelValues,
    checkpoint_rules,
)
from mlps_harness.model import Run
from mlps_harness.outcomes import (
    Finding,
    NotApplicable,
    closed,
    invalid,
    open_,
    warning,
)
from mlps_harness.rules.evidence import fs_separation_findings, host_count, meminfo_kib
from mlps_harness.rules.registry import rule

C = "checkpointing"
GIB_PER_KIB = 1024 ** 2


def _model(run: Run) -> tuple[CheckpointRules, ModelValues]:
    rs = checkpoint_rules(run.rules_version)
    values = rs.models.get(run.ref.model or "")
    if values is None:
        raise NotApplicable(f"unknown model {run.ref.model!r} (see the model-known rule)")
    return rs, values


def _procs(run: Run) -> int:
    procs = run.num_processes
    if not procs:
        raise NotApplicable("process count not recorded (metadata args.num_processes / summary num_accelerators)")
    return procs


def _subset(run: Run) -> bool:
    return checkpoint_mode(run) == "subset"


@rule("H4.0", "complete-run", benchmark=C)
def complete_run(run: Run) -> Iterator[Finding]:
    """The invocation finished: it was not interrupted and wrote its summary."""
    marker = run.documents.get("incomplete") or run.incomplete
    if marker:
        yield invalid(f"incomplete run: {marker.get('reason', 'interrupted')}", parameter="run", file=run.run_id,
                      fix="re-run the benchmark; an interrupted run cannot be submitted")
    if "summary.json" not in run.file_names():
        yield invalid("incomplete run: no summary.json", file=f"{run.run_id}/summary.json",
                      fix="check the run's stderr log, fix the cause and re-run")


@rule("4.3.3", "model-known", benchmark=C)
def model_known(run: Run) -> Iterator[Finding]:
    """The model is one of llama3-8b, 70b, 405b, 1t and the metadata says checkpointing."""
    rs = checkpoint_rules(run.rules_version)
    if run.ref.model not in rs.models:
        yield invalid(f"unknown checkpointing model {run.ref.model!r}", parameter="model",
                      expected=", ".join(rs.models), actual=run.ref.model,
                      fix="use one of the llama3 models (directory name under checkpointing/)")
    if run.metadata and run.metadata.benchmark_type not in (None, C):
        yield invalid("metadata benchmark_type is not checkpointing", parameter="benchmark_type", expected=C,
                      actual=run.metadata.benchmark_type, file=f"{run.run_id}/{run.metadata_file}",
                      fix="move the run under the results tree of its own benchmark")


@rule("4.6.1", "closed-process-count", benchmark=C)
def closed_process_count(run: Run) -> Iterator[Finding]:
    """CLOSED runs use the model's CLOSED process count (8/64/512/1024), or 8 in subset mode where allowed."""
    rs, model = _model(run)
    procs, subset = _procs(run), _subset(run) and run.ref.model in rs.subset_models
    want = rs.subset_num_processes if subset else model.closed_num_processes
    mode = "subset mode" if subset else "default mode"
    if procs == want:
        yield closed(f"{procs} processes is {run.ref.model}'s CLOSED count in {mode}", parameter="num_processes",
                     expected=str(want), actual=str(procs))
    else:
        yield open_(f"{procs} processes is not {run.ref.model}'s CLOSED count in {mode}", parameter="num_processes",
                    expected=str(want), actual=str(procs),
                    fix=f"run {model.closed_num_processes} processes (or {rs.subset_num_processes} in subset mode) "
                        "for CLOSED; other counts can only be OPEN")


@rule("4.6.4", "open-process-count", benchmark=C)
def open_process_count(run: Run) -> Iterator[Finding]:
    """The process count is a positive multiple of the model's parallelism unit (v2.0 GPUs per DP, v3.0 TP x PP)."""
    rs, model = _model(run)
    procs = _procs(run)
    unit = rs.open_unit(model)
    what = "TP x PP" if rs.open_process_unit == "tp_pp" else "GPUs per data-parallel instance"
    if _subset(run) and run.ref.model in rs.subset_models and procs == rs.subset_num_processes:
        return
    if procs < unit or procs % unit:
        yield invalid(f"{procs} processes is not a positive multiple of {what} = {unit} for {run.ref.model}",
                      parameter="num_processes", expected=f"a multiple of {unit}", actual=str(procs),
                      fix=f"run a multiple of {unit} processes")


@rule("4.3.5", "subset-mode", benchmark=C)
def subset_mode(run: Run) -> Iterator[Finding]:
    """Subset mode runs exactly 8 processes, and only for the models this ruleset allows it for (else not CLOSED).

    Upstream checks 4.3.5 for CLOSED runs only, and the tool labels every run below the CLOSED count "subset", so a
    violation denies CLOSED (OPEN); whether the process count is valid at all is 4.6.4's call."""
    rs, _ = _model(run)
    mode = checkpoint_mode(run)
    if mode in (None, "", "default"):
        raise NotApplicable("not a subset-mode run")
    if mode != "subset":
        yield invalid(f"unknown checkpoint.mode {mode!r}", parameter="checkpoint.mode", expected="subset or unset",
                      actual=mode, file=run.params_file, fix="drop the checkpoint.mode override")
        return
    procs = _procs(run)
    if procs != rs.subset_num_processes:
        yield open_(f"subset mode with {procs} processes is not a CLOSED subset run", parameter="num_processes",
                    expected=str(rs.subset_num_processes), actual=str(procs),
                    fix=f"CLOSED subset runs use exactly {rs.subset_num_processes} processes; other counts are OPEN")
    if run.ref.model not in rs.subset_models:
        yield open_(f"subset mode is not a CLOSED configuration for {run.ref.model} in {run.rules_version}",
                    parameter="checkpoint.mode", expected=f"subset only for {', '.join(rs.subset_models)}",
                    actual="subset", fix="run the model's full CLOSED process count for CLOSED")
    else:
        yield closed(f"subset mode allowed for {run.ref.model}", parameter="checkpoint.mode", actual="subset")


@rule("4.6.3", "allowed-params", benchmark=C)
def allowed_params(run: Run) -> Iterator[Finding]:
    """Only the checkpoint folder (and the keys the tool injects) may be overridden; anything else is INVALID.

    `workflow.*` overrides are not exempt (unlike training): a checkpointing run must keep the reference workflow."""
    rs = checkpoint_rules(run.rules_version)
    for key, value in sorted(run.params.items()):
        if key in rs.closed_params or key in rs.injected_params:
            yield closed(f"{key} may be changed in CLOSED", parameter=key, actual=value, file=run.params_file)
        else:
            yield invalid(f"{key!r} may not be changed for checkpointing", parameter=key, actual=value,
                          expected="reference value", file=run.params_file,
                          fix=f"remove the override {key}={value}; only {', '.join(rs.closed_params)} may change")


@rule("4.6.3", "reference-config", benchmark=C)
def reference_config(run: Run) -> Iterator[Finding]:
    """The resolved workload config equals the model's reference workload YAML in every key it records.

    Only `checkpoint.checkpoint_folder` is free; counts and subset keys are judged by 4.7.1 / H4.10 / 4.3.5. A key
    the reference does not have is INVALID; a different pause between checkpoints is OPEN (every checkpoint is
    still measured on its own), any other difference INVALID."""
    rs = checkpoint_rules(run.rules_version)
    reference = rs.reference_config.get(run.ref.model or "")
    if not reference:
        raise NotApplicable(f"no reference workload for {run.ref.model!r}")
    if run.workload_raw is None:
        raise NotApplicable("no resolved config (dlio_config/config.yaml)")
    shown = f"{run.run_id}/dlio_config/config.yaml"
    checked = 0
    for key, value in sorted(flatten(run.workload_raw).items()):
        if any(key == free or (free.endswith(".") and key.startswith(free)) for free in rs.reference_free_keys):
            continue
        if key not in reference:
            yield invalid(f"{key} is not a key of the reference {run.ref.model} workload", parameter=key,
                          actual=str(value), expected="absent", file=shown,
                          fix=f"run the reference workload; remove {key}")
        elif not same_value(value, reference[key]):
            make = open_ if key == "checkpoint.time_between_checkpoints" else invalid
            yield make(f"{key} differs from the reference {run.ref.model} workload", parameter=key,
                       expected=str(reference[key]), actual=str(value), file=shown,
                       fix=f"run the reference workload ({key}={reference[key]}); only the checkpoint folder may change")
        else:
            checked += 1
    yield closed(f"{checked} recorded key(s) equal the reference {run.ref.model} workload", parameter="config.yaml")


@rule("H4.2", "checkpoint-size", benchmark=C)
def checkpoint_size(run: Run) -> Iterator[Finding]:
    """checkpoint_size_GB matches the model's size for the run's ranks (a scaled run is OPEN, with a finding)."""
    rs, model = _model(run)
    procs = _procs(run)
    actual = run.summary.metric.checkpoint_size_GB if run.summary else None
    if actual is None:
        yield invalid("metric.checkpoint_size_GB is not recorded", parameter="checkpoint_size_GB",
                      file=f"{run.run_id}/summary.json", fix="re-run: the benchmark did not report the size")
        return
    scale = size_scale(run)
    full = model.expected_GB(procs, _subset(run))
    expected = full * scale
    if abs(actual - expected) > rs.size_tolerance * expected:
        yield invalid(f"checkpoint of {actual:.6g} GiB does not match {run.ref.model} on {procs} processes"
                      + (f" at size_scale {scale:g}" if scale != 1 else ""), parameter="checkpoint_size_GB",
                      expected=f"{expected:.6g} GiB (+/- {rs.size_tolerance:.0%})", actual=f"{actual:.6g} GiB",
                      file=f"{run.run_id}/summary.json",
                      fix="do not override model.* parameters; run the reference model size")
    elif scale != 1:
        yield open_(f"scaled run: size_scale {scale:g} writes {actual:.6g} GiB instead of {full:.6g} GiB",
                    parameter="size_scale", expected="1", actual=f"{scale:g}", file=f"{run.run_id}/summary.json",
                    fix="run without --size-scale for a CLOSED result")
    else:
        yield closed("checkpoint size matches the model", parameter="checkpoint_size_GB",
                     expected=f"{expected:.6g} GiB", actual=f"{actual:.6g} GiB")


@rule("4.3.2", "fsync", benchmark=C)
def fsync(run: Run) -> Iterator[Finding]:
    """Checkpoints are written with fsync (checkpoint.fsync true)."""
    record = workload_record(run)
    value = run.workload.fsync if run.workload and run.workload.fsync is not None else (
        record.fsync if record else None)
    if value is None:
        yield invalid("checkpoint.fsync is not recorded", parameter="checkpoint.fsync", expected="True",
                      file=f"{run.run_id}/dlio_config/config.yaml", fix="restore dlio_config/config.yaml")
    elif not value:
        yield invalid("checkpoints were written without fsync", parameter="checkpoint.fsync", expected="True",
                      actual="False", fix="run with fsync (drop --no-fsync / checkpoint.fsync=False)")


def _host_split(run: Run, model: ModelValues, procs: int) -> list[float]:
    """Checkpoint GiB per host: the model table's per-rank shares, scaled to the recorded size, ranks round-robin."""
    shares = model.rank_GB(procs, _subset(run))
    total = sum(shares)
    actual = run.summary.metric.checkpoint_size_GB if run.summary else None
    factor = (actual / total) if actual and total else 1.0
    hosts = max(len(run.summary.host_memory_GB or []) if run.summary else 0, 1)
    per_host = [0.0] * hosts
    for rank, share in enumerate(shares):
        per_host[rank % hosts] += share * factor
    return per_host


def _drop_methods(run: Run, rs: CheckpointRules, reads: int) -> list[str] | None:
    """The cache-drop methods our workload recorded before every read, or None when not every read has one."""
    record = workload_record(run)
    methods = (record.cache_drop_methods_per_load or []) if record else []
    if len(methods) >= reads and all(m in rs.cache_drop_methods for m in methods):
        return sorted(set(methods))
    return None


def _clear_cache_per_node(run: Run, rs: CheckpointRules, writes: int, reads: int) -> Iterator[Finding]:
    """Rules.md v3.0 4.3.1: clear unless the data per node is more than 3x the memory per node (#669: sums only)."""
    assert run.summary is not None
    size = run.summary.metric.checkpoint_size_GB
    if not size:
        raise NotApplicable("checkpoint_size_GB not recorded (the checkpoint-size rule reports it)")
    memory = run.summary.host_memory_GB or []
    hosts = run.summary.num_hosts or len(memory)
    data, mem, factor = size / hosts, sum(memory) / hosts, rs.clear_cache_factor
    figures = f"{data:.4g} GiB of checkpoint data per node, {mem:.4g} GiB of memory per node ({hosts} node(s))"
    shown = f"{run.run_id}/summary.json"
    if data > factor * mem:
        yield closed(f"{figures}: more than {factor:g}x, reads cannot be served from page cache",
                     parameter="checkpoint data per node", actual=f"{data:.4g} GiB")
        return
    methods = _drop_methods(run, rs, reads)
    if methods:
        yield closed(f"{figures}; the page cache was dropped before every read ({', '.join(methods)})",
                     parameter="cache_drop_method", actual=", ".join(methods))
    elif not writes:
        yield warning(f"{figures}: not more than {factor:g}x, so the page cache must be flushed between the write "
                      "and the read invocation; this read invocation cannot show it (the v3.0 round's 4.3.1 "
                      "advisory)", parameter="checkpoint data per node", expected=f"> {factor * mem:.4g} GiB",
                      actual=f"{data:.4g} GiB", file=shown,
                      fix="flush the page cache on every client between the write and the read invocation")
    else:
        yield invalid(f"{figures}: not more than {factor:g}x, and this invocation writes and reads with no cache "
                      "drop recorded, so reads may come from page cache (Rules.md 4.3.1: the cache needs to be "
                      "cleared; stricter than the v3.0 round's advisory, which could not see a combined run's reads)",
                      parameter="cache_drop_method", expected=" or ".join(rs.cache_drop_methods),
                      actual="not recorded", file=shown,
                      fix="write and read in two invocations with the cache flushed in between, or write more than "
                          f"{factor:g}x the node memory per node")


@rule("4.3.1", "clear-cache", benchmark=C)
def clear_cache(run: Run) -> Iterator[Finding]:
    """Reads cannot come from page cache: the cache is cleared before reads unless the data outgrows memory.

    v3.0 (Rules.md): needed unless data per node > 3 x memory per node. v2.0 (review-era checker [R2]): needed when
    a host's memory > 3 x its checkpoint data (the factor on the other side; kept for v2.0 fidelity)."""
    rs, model = _model(run)
    procs = _procs(run)
    if run.summary is None or not run.summary.host_memory_GB:
        raise NotApplicable("host memory not recorded (summary.json host_memory_GB)")
    writes, reads = checkpoint_counts(run)
    if not reads:
        yield closed("no reads in this invocation: nothing can come from cache", parameter="num_checkpoints_read")
        return
    if rs.clear_cache_rule == "data_over_memory":
        yield from _clear_cache_per_node(run, rs, writes or 0, reads)
        return
    memory, per_host = run.summary.host_memory_GB, _host_split(run, model, procs)
    needing = [h for h, mem in enumerate(memory) if mem > rs.clear_cache_factor * per_host[h]]
    if not writes and needing:
        cached_kb = meminfo_kib((run.summary.host_meminfo or {}).get("Cached"))
        cached = cached_kb / GIB_PER_KIB if cached_kb is not None else 0.0
        if cached <= rs.clear_cache_factor * per_host[0]:
            needing = []
    if not needing:
        yield closed("checkpoint data per host is large enough that reads cannot be served from page cache",
                     parameter="checkpoint data per host", actual=f"{max(per_host):.3g} GiB")
        return
    record = workload_record(run)
    methods = _drop_methods(run, rs, reads)
    h = needing[0]
    detail = (f"host {h} has {memory[h]:.1f} GiB memory > {rs.clear_cache_factor:g} x {per_host[h]:.3g} GiB "
              "of checkpoint data")
    if methods:
        yield closed(f"{detail}; the page cache was dropped before every read ({', '.join(methods)})",
                     parameter="cache_drop_method", actual=", ".join(methods))
    else:
        yield invalid(f"{detail}, and nothing records that the page cache was dropped before the reads",
                      parameter="cache_drop_method", expected=" or ".join(rs.cache_drop_methods),
                      actual=(record.cache_drop_method if record else None) or "not recorded",
                      file=f"{run.run_id}/summary.json",
                      fix="write and read in two invocations with the cache dropped in between (--two-phase), or "
                          "use checkpoints of more than a third of host memory per host")


@rule("4.3.4", "accelerator-memory", benchmark=C, versions=("v3.0",))
def accelerator_memory(run: Run) -> Iterator[Finding]:
    """The simulated accelerators can hold the checkpoint: accelerators x memory (Table 3) >= the size written.

    The size is the checkpoint the run represents (checkpoint_size_GB / size_scale). v3.0 checkpointing results
    record no accelerator; then the round's 80 GB (h100) is assumed, and a warning says so."""
    rs, model = _model(run)
    procs = _procs(run)
    accel = run.accelerator or rs.default_accelerator
    memory = rs.accelerator_memory_GB.get(accel)
    if memory is None:
        yield invalid(f"unknown accelerator {accel!r}", parameter="accelerator_type",
                      expected=", ".join(rs.accelerator_memory_GB), actual=accel, fix="use a Table 3 accelerator")
        return
    written = run.summary.metric.checkpoint_size_GB if run.summary else None
    size = written / size_scale(run) if written else model.expected_GB(procs, _subset(run))
    source = "checkpoint_size_GB" if written else "the model table (checkpoint_size_GB not recorded)"
    if not run.accelerator:
        yield warning(f"no accelerator type recorded: assuming {accel} ({memory:g} GB), as the v3.0 round did",
                      parameter="accelerator_type", expected=", ".join(rs.accelerator_memory_GB), actual="absent",
                      file=f"{run.run_id}/{run.metadata_file}" if run.metadata_file else run.run_id,
                      fix="run with --accelerator-type so 4.3.4 judges the real accelerator")
    if procs * memory < size:
        yield invalid(f"{procs} x {memory:g} GB of {accel} memory cannot hold the {size:.6g} GB checkpoint "
                      f"({source})", parameter="num_processes", expected=f">= {size:.6g} GB",
                      actual=f"{procs * memory:g} GB", fix="run more processes (the model's CLOSED count)")
    else:
        yield closed(f"{procs} x {memory:g} GB >= {size:.6g} GB ({source})", parameter="num_processes")


@rule("4.6.2", "accelerators-per-host", benchmark=C, versions=("v3.0",))
def accelerators_per_host(run: Run) -> Iterator[Finding]:
    """CLOSED runs use at least 4 accelerators (processes) per host."""
    rs = checkpoint_rules(run.rules_version)
    hosts, procs = host_count(run), _procs(run)
    if rs.min_accelerators_per_host is None or not hosts:
        raise NotApplicable("host count not recorded")
    per_host = procs / hosts
    if per_host < rs.min_accelerators_per_host:
        yield open_(f"{per_host:g} accelerators per host", parameter="num_processes / num_hosts",
                    expected=f">= {rs.min_accelerators_per_host}", actual=f"{per_host:g}",
                    fix=f"run at least {rs.min_accelerators_per_host} processes per host for CLOSED")


@rule("4.4.1", "folder-separate", benchmark=C)
def folder_separate(run: Run) -> Iterator[Finding]:
    """The checkpoint folder and the results dir are both recorded and are different directories."""
    args = run.metadata.args if run.metadata else None
    if args is None:
        raise NotApplicable("no usable metadata file")
    if not args.checkpoint_folder or not args.results_dir:
        yield invalid("checkpoint folder or results dir not recorded", parameter="checkpoint_folder",
                      file=f"{run.run_id}/{run.metadata_file}", fix="run with --checkpoint-folder and --results-dir")
        return
    folder, results = args.checkpoint_folder.rstrip("/"), args.results_dir.rstrip("/")
    if folder == results or folder.startswith(results + "/"):
        yield invalid("the checkpoint folder lives inside the results dir", parameter="checkpoint_folder",
                      actual=args.checkpoint_folder, expected=f"outside {args.results_dir}",
                      fix="put the checkpoint folder on the storage under test, away from the results dir")
    elif results.startswith(folder + "/"):
        yield invalid("the results dir lives inside the checkpoint folder", parameter="results_dir",
                      actual=args.results_dir, expected=f"outside {args.checkpoint_folder}",
                      fix="keep the results away from the storage under test")


@rule("4.4.2", "separate-filesystems", benchmark=C)
def separate_filesystems(run: Run) -> Iterator[Finding]:
    """The checkpoint folder and the results dir are on different filesystems (fs_separation.json or our record)."""
    rs = checkpoint_rules(run.rules_version)
    folder = str(getattr(run.metadata.args, "checkpoint_folder", None) or "") if run.metadata and run.metadata.args \
        else ""
    if folder.startswith("s3://"):
        yield closed("the checkpoints are objects in a bucket and the results are files: separate by construction",
                     parameter="checkpoint_folder", actual=folder)
        return
    yield from fs_separation_findings(run, rs.fs_evidence_missing, "the checkpoint folder")
