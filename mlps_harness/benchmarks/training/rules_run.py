"""Training single-run rules (rules.md §2). Ids are upstream's; `H`-prefixed ids are ours where upstream has none."""

from __future__ import annotations

from collections.abc import Iterator

from mlps_harness.benchmarks.training.datasize import training_datasize
from mlps_harness.benchmarks.training.documents import recorded_num_files
from mlps_harness.benchmarks.training.ruleset import training_rules
from mlps_harness.model import Run
from mlps_harness.outcomes import (
    Finding,
    NotApplicable,
    closed,
    invalid,
    open_,
    warning,
)
from mlps_harness.rules.evidence import (
    cluster_memory,
    fs_separation_findings,
    host_count,
)
from mlps_harness.rules.registry import rule

T = "training"


def _meta(run: Run) -> str:
    """The run's metadata file (or the run dir when it has none), for findings about recorded arguments."""
    return f"{run.run_id}/{run.metadata_file}" if run.metadata_file else run.run_id


def _config(run: Run) -> str:
    return f"{run.run_id}/dlio_config/config.yaml"


def _summary_file(run: Run) -> str:
    return f"{run.run_id}/summary.json"


def _summary(run: Run):
    if run.summary is None:
        raise NotApplicable("summary.json is missing or unusable (see the documents-parse rule)")
    return run.summary


@rule("H2.0", "complete-run", benchmark=T, commands=("run", "datagen"))
def complete_run(run: Run) -> Iterator[Finding]:
    """The run finished: it was not interrupted and DLIO wrote its summary."""
    marker = run.documents.get("incomplete") or run.incomplete
    if marker:
        yield invalid(f"incomplete run: {marker.get('reason', 'interrupted')}", parameter="run",
                      fix="re-run the benchmark; an interrupted run cannot be submitted", file=run.run_id)
    if run.ref.command == "run" and "summary.json" not in run.file_names():
        yield invalid("incomplete run: DLIO wrote no summary.json", file=f"{run.run_id}/summary.json",
                      fix="check the run's stderr log, fix the cause and re-run")
    elif run.ref.command == "run" and run.summary is not None and (run.summary.start is None
                                                                  or run.summary.end is None):
        yield invalid("incomplete run: summary.json has no start or end time", parameter="start/end",
                      expected="ISO 8601 timestamps", actual="missing or null", file=_summary_file(run),
                      fix="restore the summary.json DLIO wrote, or re-run the benchmark")


@rule("H2.1", "benchmark-type", benchmark=T, commands=("run", "datagen"))
def benchmark_type(run: Run) -> Iterator[Finding]:
    """The metadata says this is a training run."""
    if run.metadata is None:
        raise NotApplicable("no usable metadata file")
    if run.metadata.benchmark_type not in (None, T):
        yield invalid("metadata benchmark_type is not training", parameter="benchmark_type", expected=T,
                      actual=run.metadata.benchmark_type, file=f"{run.run_id}/{run.metadata_file}",
                      fix="move the run under the results tree of its own benchmark")


@rule("H2.2", "model-known", benchmark=T, commands=("run", "datagen"))
def model_known(run: Run) -> Iterator[Finding]:
    """The model is a training model of this ruleset, and a CLOSED one for the CLOSED division."""
    rs = training_rules(run.rules_version)
    model = run.ref.model
    if model not in rs.models:
        yield invalid(f"unknown training model {model!r}", parameter="model", expected=", ".join(rs.models),
                      actual=model, file=run.run_id,
                      fix="use one of the ruleset's models (directory name under training/)")
    elif model not in rs.closed_models:
        yield open_(f"{model} is not a CLOSED model in {run.rules_version}", parameter="model",
                    expected=", ".join(rs.closed_models), actual=model, file=run.run_id,
                    fix="submit it in the OPEN division")


@rule("H2.3", "accelerator-known", benchmark=T)
def accelerator_known(run: Run) -> Iterator[Finding]:
    """The simulated accelerator is known, and a CLOSED one for the CLOSED division."""
    rs = training_rules(run.rules_version)
    accel = run.accelerator
    if accel is None:
        yield invalid("accelerator type is not recorded", parameter="accelerator_type",
                      expected=", ".join(rs.accelerators), file=_meta(run), fix="re-run with --accelerator-type")
    elif accel not in rs.accelerators:
        yield invalid(f"unknown accelerator {accel!r}", parameter="accelerator_type",
                      expected=", ".join(rs.accelerators), actual=accel, file=_meta(run),
                      fix="use a supported accelerator type")
    elif accel not in rs.closed_accelerators:
        yield open_(f"{accel} is not a CLOSED accelerator in {run.rules_version}", parameter="accelerator_type",
                    expected=", ".join(rs.closed_accelerators), actual=accel, file=_meta(run),
                    fix="submit it in the OPEN division")


@rule("3.1.2", "dataset-size", benchmark=T)
def dataset_size(run: Run) -> Iterator[Finding]:
    """The dataset has at least the files the datasize formula requires (5x client memory, 500 steps per epoch)."""
    rs = training_rules(run.rules_version)
    wl = run.workload
    num_files, files_source = recorded_num_files(run)
    if num_files is None:
        yield invalid("dataset.num_files_train is not recorded (config.yaml, overrides, summary.json)",
                      parameter="dataset.num_files_train",
                      file=f"{run.run_id}/dlio_config/config.yaml", fix="restore dlio_config/config.yaml")
        return
    if wl is None:
        from mlps_harness.model import WorkloadConfig

        wl = WorkloadConfig()
    memory, source = cluster_memory(run)
    procs = run.num_processes
    ref = rs.workloads.get(run.ref.model or "")
    batch = wl.batch_size or (ref.batch_for(run.accelerator) if ref else None)
    spf = wl.num_samples_per_file or (ref.num_samples_per_file if ref else None)
    record = wl.record_length_bytes or (ref.record_length_bytes if ref else None)
    if memory is None or not procs or not batch or not spf or record is None:
        yield invalid("cannot compute the required dataset size: memory, process count, batch size or record"
                      " length is not recorded", parameter="dataset.num_files_train", file=_meta(run),
                      fix="re-run with the harness so cluster information and the config are recorded")
        return
    size = training_datasize(total_memory_bytes=memory, num_processes=procs, batch_size=batch,
                             num_samples_per_file=spf, record_length_bytes=record,
                             steps_per_epoch=rs.steps_per_epoch, memory_multiplier=rs.memory_multiplier)
    if num_files < size.required_files:
        make = warning if rs.dataset_too_small == "warning" else invalid
        yield make(f"dataset too small ({num_files} files, from {files_source}); {size.explain()} (memory from "
                   f"{source})" + (" (the v3.0 round's 3.3.1 warning)" if make is warning else ""),
                   parameter="dataset.num_files_train", expected=f">= {size.required_files}",
                   actual=str(num_files), file=f"{run.run_id}/{files_source}",
                   fix=f"generate at least {size.required_files} files (datagen) and run with "
                       f"--params dataset.num_files_train={size.required_files}")
    else:
        yield closed(f"dataset large enough (file count from {files_source}, memory from {source})",
                     parameter="dataset.num_files_train",
                     expected=f">= {size.required_files}", actual=str(num_files))


@rule("3.3.2", "au-minimum", benchmark=T)
def au_minimum(run: Run) -> Iterator[Finding]:
    """Mean accelerator utilisation meets the model's minimum (90 % unet3d/resnet50, 70 % cosmoflow)."""
    rs = training_rules(run.rules_version)
    summary = _summary(run)
    minimum = rs.au_minimum.get(run.ref.model or "")
    if minimum is None:
        raise NotApplicable(f"no AU minimum for model {run.ref.model!r}")
    au = summary.metric.train_au_mean_percentage
    if au is None:
        yield invalid("train_au_mean_percentage is missing or null", parameter="metric.train_au_mean_percentage",
                      file=f"{run.run_id}/summary.json", fix="re-run: DLIO did not report AU")
    elif au < minimum * 100:
        yield invalid(f"accelerator utilisation {au:.1f} % is below {minimum * 100:.0f} %",
                      parameter="train_au_mean_percentage", expected=f">= {minimum * 100:.0f} %",
                      actual=f"{au:.2f} %", file=_summary_file(run),
                      fix="the storage is too slow for the accelerators simulated: use fewer "
                      "accelerators per client, more read threads, or faster storage")
    else:
        yield closed("AU meets the minimum", parameter="train_au_mean_percentage", actual=f"{au:.2f} %")


@rule("H2.7", "nonzero-steps", benchmark=T)
def nonzero_steps(run: Run) -> Iterator[Finding]:
    """Every epoch ran at least two steps (DLIO exits 0 with all-zero metrics otherwise)."""
    rs = training_rules(run.rules_version)
    summary = _summary(run)
    wl, procs = run.workload, run.num_processes
    if wl and wl.num_files_train and wl.num_samples_per_file and wl.batch_size and procs:
        steps = (wl.num_files_train * wl.num_samples_per_file) // (wl.batch_size * procs)
        if steps < rs.min_steps_per_epoch:
            yield invalid(f"only {steps} step(s) per epoch: DLIO reports zero metrics below "
                          f"{rs.min_steps_per_epoch}", parameter="steps per epoch",
                          expected=f">= {rs.min_steps_per_epoch}", actual=str(steps), file=_config(run),
                          fix="generate more files or use fewer processes / a smaller batch")
            return
    throughput = summary.metric.train_throughput_mean_samples_per_second
    if throughput is not None and throughput <= 0:
        yield invalid("zero training throughput: the run read nothing", parameter="train_throughput",
                      actual=str(throughput), file=_summary_file(run),
                      fix="check the data dir and the step count, then re-run")


@rule("3.6.2", "allowed-params", benchmark=T)
def allowed_params(run: Run) -> Iterator[Finding]:
    """Every override is on the CLOSED list (CLOSED), the OPEN list (OPEN), or else INVALID."""
    rs = training_rules(run.rules_version)
    where = run.params_file
    recorded = getattr(run.metadata.args, "harness_injected_params", None) if run.metadata and run.metadata.args \
        else None
    injected = set(recorded) if isinstance(recorded, list) else set()
    for key, value in sorted(run.params.items()):
        if any(key == p or key.startswith(p + ".") for p in rs.ignored_param_prefixes):
            continue
        if key in rs.injected_params or key in rs.closed_params:
            yield closed(f"{key} may be changed in CLOSED", parameter=key, actual=value, file=where)
        elif key in rs.open_params:
            yield open_(f"{key} may only be changed in the OPEN division", parameter=key, actual=value,
                        expected="reference value", file=where,
                        fix=f"drop --params {key}=... for a CLOSED submission")
        elif key in injected:
            yield invalid(f"{key!r} may not be changed; the harness's embedded small configuration injected "
                          f"{key}={value} (no option you passed)", parameter=key, actual=value,
                          expected="reference value", file=where,
                          fix="run with --model (and your cluster's options) instead of the embedded default, which "
                              "is a small demonstration and INVALID by design")
        else:
            yield invalid(f"{key!r} may not be changed", parameter=key, actual=value, expected="reference value",
                          file=where, fix=f"remove the override {key}={value}; only the ruleset's allowed keys "
                          "may change")


@rule("H2.6", "odirect", benchmark=T)
def odirect(run: Run) -> Iterator[Finding]:
    """O_DIRECT reads are only allowed for the models the ruleset lists (unet3d)."""
    rs = training_rules(run.rules_version)
    if run.workload and run.workload.odirect and run.ref.model not in rs.odirect_models:
        yield invalid(f"reader.odirect is not allowed for {run.ref.model}", parameter="reader.odirect",
                      expected="False", actual="True", file=_config(run), fix="remove reader.odirect")


@rule("H2.5", "workflow-checkpoint", benchmark=T, versions=("v2.0",))
def workflow_checkpoint(run: Run) -> Iterator[Finding]:
    """In v2.0 unet3d runs checkpoint during training (workflow.checkpoint True)."""
    rs = training_rules(run.rules_version)
    if run.ref.model not in rs.checkpoint_required_models:
        raise NotApplicable(f"{run.ref.model} has no checkpoint requirement")
    if run.workload is None or run.workload.checkpoint is None:
        raise NotApplicable("workflow.checkpoint is not recorded")
    if not run.workload.checkpoint:
        yield invalid("workflow.checkpoint is False", parameter="workflow.checkpoint", expected="True",
                      actual="False", file=_config(run), fix="run the reference workload, which checkpoints")


@rule("3.3.4", "host-count", benchmark=T)
def host_count_matches(run: Run) -> Iterator[Finding]:
    """DLIO saw as many hosts as the run was launched on."""
    args = run.metadata.args if run.metadata else None
    if run.summary is None or run.summary.num_hosts is None or args is None or not args.host_list:
        raise NotApplicable("host counts not recorded")
    launched = len(set(args.host_list))
    if run.summary.num_hosts == 1 and launched > 1:
        yield invalid("DLIO ran on 1 host although several were given", parameter="hosts",
                      expected=str(launched), actual="1", file=_summary_file(run),
                      fix="check that mpirun reached every host")


@rule("3.3.6", "accelerators-per-host", benchmark=T)
def accelerators_per_host(run: Run) -> Iterator[Finding]:
    """Accelerators are spread evenly over the hosts."""
    hosts, procs = host_count(run), run.num_processes
    if not hosts or not procs:
        raise NotApplicable("host or process count not recorded")
    if hosts > 1 and procs % hosts:
        yield invalid(f"{procs} accelerators do not divide evenly over {hosts} hosts", parameter="num_accelerators",
                      expected=f"a multiple of {hosts}", actual=str(procs), file=_meta(run),
                      fix="use a multiple of the host count")


@rule("3.3.3", "single-host-accelerators", benchmark=T, versions=("v3.0",))
def single_host_accelerators(run: Run) -> Iterator[Finding]:
    """A single client host simulates at least 4 accelerators (the v3.0 review's advisory: a warning only)."""
    hosts, procs = host_count(run), run.num_processes
    if not hosts or not procs:
        raise NotApplicable("host or process count not recorded")
    if hosts == 1 and procs < 4:
        yield warning(f"one host simulates only {procs} accelerator(s)", parameter="num_accelerators",
                      expected=">= 4 on a single host", actual=str(procs), file=_meta(run),
                      fix="simulate at least 4 accelerators on the client, or add client hosts")
    else:
        yield closed(f"{procs} accelerators on {hosts} host(s)", parameter="num_accelerators", actual=str(procs))


@rule("3.4.1", "data-dir-separate", benchmark=T)
def data_dir_separate(run: Run) -> Iterator[Finding]:
    """The data dir and the results dir are both recorded and are different directories."""
    args = run.metadata.args if run.metadata else None
    if args is None or not args.data_dir or not args.results_dir:
        raise NotApplicable("data dir or results dir not recorded")
    data, results = args.data_dir.rstrip("/"), args.results_dir.rstrip("/")
    if data == results or data.startswith(results + "/"):
        yield invalid("the dataset lives inside the results dir", parameter="data_dir", actual=args.data_dir,
                      expected=f"outside {args.results_dir}", file=_meta(run),
                      fix="put the dataset on the storage under test, "
                      "away from the results dir")


@rule("3.4.2", "separate-filesystems", benchmark=T)
def separate_filesystems(run: Run) -> Iterator[Finding]:
    """The data dir and the results dir are on different filesystems (fs_separation.json or our record)."""
    rs = training_rules(run.rules_version)
    yield from fs_separation_findings(run, rs.fs_evidence_missing, "the data dir")
