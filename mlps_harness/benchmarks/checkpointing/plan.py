"""`CheckpointPlan`: every decision of a checkpointing suite session, made and checked before anything runs."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from mlps_harness.benchmarks.checkpointing.ruleset import (
    CheckpointRules,
    checkpoint_rules,
)
from mlps_harness.benchmarks.checkpointing.workload import (
    CheckpointUsageError,
    WorkloadOptions,
    options_to_argv,
    parse_size,
    plan_checkpoint,
    prelaunch_checks,
)
from mlps_harness.benchmarks.checkpointing.workload.options import DEFAULT_TRANSFER_SIZE
from mlps_harness.launch import build_mpirun_argv
from mlps_harness.suite.options import mpi_launch, parse_params
from mlps_harness.suite.plan import MpiSuitePlan, common_settings, usage

#: the S3 client's settings every rank needs in object mode (mpirun forwards those that are set)
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
                 "AWS_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE")

#: The embedded default: llama3-8b scaled to ~32 MiB per checkpoint (10 writes + 10 reads ~ 650 MiB of I/O) on
#: 2 ranks without subset mode (the full checkpoint sharded over 2 ranks), checkpoints under <data-dir>/checkpoints.
EMBEDDED = {"model": "llama3-8b", "num_processes": 2, "size_scale": 0.0003}
DEFAULT_RULES_VERSION = "v3.0"
#: --params keys our workload can honour, and the option each one stands for
PARAM_KEYS = {"checkpoint.checkpoint_folder": "--checkpoint-folder",
              "checkpoint.num_checkpoints_write": "--num-checkpoints-write",
              "checkpoint.num_checkpoints_read": "--num-checkpoints-read",
              "checkpoint.fsync": "--no-fsync", "checkpoint.time_between_checkpoints": "--time-between-checkpoints",
              "checkpoint.mode": "--subset"}



@dataclass
class Invocation:
    """One planned launch of the workload: its slot name and checkpoint counts."""

    slot: str
    writes: int
    reads: int


@dataclass(kw_only=True)
class CheckpointPlan(MpiSuitePlan):
    """What the suite will do; `argv` gives the exact command of each invocation (shown by --what-if)."""

    model: str
    memory_gb_per_host: float | None
    num_client_hosts: int
    folder_base: Path
    options: WorkloadOptions
    params: dict[str, str]
    invocations: list[Invocation]
    accelerator: str | None
    total_bytes: int
    data_parallelism: int

    @property
    def slots(self) -> list[str]:
        return [inv.slot for inv in self.invocations]

    @property
    def subset(self) -> bool:
        return bool(self.options.subset)

    def options_for(self, invocation: Invocation, run_dir: Path) -> WorkloadOptions:
        return replace(self.options, output_dir=run_dir, num_checkpoints_write=invocation.writes,
                       num_checkpoints_read=invocation.reads)

    def argv(self, invocation: Invocation, run_dir: Path) -> list[str]:
        """The exact mpirun argv of one invocation writing its results into `run_dir`."""
        command = [sys.executable, "-m", "mlps_harness.benchmarks.checkpointing.workload",
                   *options_to_argv(self.options_for(invocation, run_dir))]
        return build_mpirun_argv(self.mpi, command)

    def params_dict(self, invocation: Invocation) -> dict[str, str]:
        """Upstream-style dotted overrides of one invocation (what mlpstorage would record)."""
        values = {**self.params, "checkpoint.checkpoint_folder": str(self.options.checkpoint_folder),
                  "checkpoint.num_checkpoints_write": str(invocation.writes),
                  "checkpoint.num_checkpoints_read": str(invocation.reads)}
        if self.subset:
            values.update({"checkpoint.mode": "subset", "model.parallelism.data": str(self.data_parallelism)})
        return values


def _int_option(opt, name: str, default: int) -> int:
    value = opt(name)
    if value is None:
        return default
    if value < 0:
        raise usage(name, f"must be 0 or more, got {value}", f"e.g. {name} 10")
    return value


def _apply_params(params: dict[str, str], options: WorkloadOptions, allow_invalid: bool) -> None:
    """Map `--params checkpoint.*` onto the workload's options; anything else cannot be honoured."""
    for key, value in params.items():
        option = PARAM_KEYS.get(key)
        if option is None:
            raise usage(f"--params {key}", "our checkpoint workload cannot apply this override (and the ruleset "
                         "allows none but the checkpoint folder)", f"use one of {', '.join(PARAM_KEYS)}")
        try:
            if key == "checkpoint.checkpoint_folder":
                options.checkpoint_folder = Path(value).expanduser().resolve()
            elif key.startswith("checkpoint.num_checkpoints_"):
                setattr(options, key.split(".", 1)[1], int(value))
            elif key == "checkpoint.time_between_checkpoints":
                options.time_between_checkpoints = float(value)
            elif key == "checkpoint.fsync":
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                options.fsync = value.lower() in ("true", "1")
                if not options.fsync and not allow_invalid:
                    raise usage(f"--params {key}={value}", "writing without fsync makes the run INVALID",
                                 "drop it, or pass --allow-invalid-params to run anyway")
            elif key == "checkpoint.mode":
                if value != "subset":
                    raise ValueError(value)
                options.subset = True
        except ValueError:
            raise usage(f"--params {key}={value}", "value has the wrong type", f"see {option} for what it takes") \
                from None


def _subset(rs: CheckpointRules, model: str, procs: int) -> bool:
    """Subset mode for exactly the subset process count below the CLOSED count (upstream auto-adds it)."""
    values = rs.models[model]
    return procs == rs.subset_num_processes and procs < values.closed_num_processes


def build_plan(config: pytest.Config) -> CheckpointPlan:
    """Read and check every option; a usage error names the option, the problem and the fix."""
    opt = config.getoption
    embedded = opt("--model") is None
    model = opt("--model") or EMBEDDED["model"]
    common = common_settings(config, DEFAULT_RULES_VERSION)
    version = common["rules_version"]
    rs = checkpoint_rules(version)
    if model not in rs.models:
        raise usage("--model", f"unknown checkpointing model {model!r}", f"use one of {', '.join(rs.models)}")
    procs = opt("--num-processes") or (EMBEDDED["num_processes"] if embedded else None)
    if procs is None:
        raise usage("--num-processes", f"how many ranks to run is required for {model}",
                     f"e.g. --num-processes {rs.models[model].closed_num_processes} (its CLOSED count)")
    if procs < 1:
        raise usage("--num-processes", f"expected 1 or more ranks, got {procs}", "e.g. --num-processes 8")
    hosts, mpi = mpi_launch(config, procs)
    scale = opt("--checkpoint-size-scale")
    scale = scale if scale is not None else (EMBEDDED["size_scale"] if embedded else 1.0)
    if not scale > 0 or scale > 1:
        raise usage("--checkpoint-size-scale", f"expected a factor in (0, 1], got {scale}", "e.g. --checkpoint-size-scale 0.001")
    try:
        transfer = parse_size(opt("--checkpoint-transfer-size")) if opt("--checkpoint-transfer-size") else DEFAULT_TRANSFER_SIZE
    except ValueError as exc:
        raise usage("--checkpoint-transfer-size", str(exc), "e.g. --checkpoint-transfer-size 16M") from None
    results_dir = common["results_dir"]
    given = opt("--checkpoint-folder")
    folder_base = Path(given).expanduser().resolve() if given else common["data_dir"] / "checkpoints"
    what_if = opt("--what-if")
    storage = _object_storage(opt)
    if storage:  # shards are objects: no folder is used or created
        folder_base = results_dir
        mpi = replace(mpi, export_variables=(*mpi.export_variables, *AWS_VARIABLES))
    created = _create_dirs(folder_base, results_dir, what_if, explicit=given is not None and not storage)
    options = WorkloadOptions(model=model, checkpoint_folder=folder_base / model, output_dir=results_dir,
                              num_checkpoints_write=_int_option(opt, "--num-checkpoints-write", 10),
                              num_checkpoints_read=_int_option(opt, "--num-checkpoints-read", 10),
                              transfer_size=transfer, odirect=opt("--checkpoint-odirect"), size_scale=scale,
                              subset=_subset(rs, model, procs), **storage)
    params = parse_params(opt("--params"))
    _apply_params(params, options, opt("--allow-invalid-params"))
    if not storage and not folder_base.is_dir() and not what_if:
        raise usage("--checkpoint-folder", f"{folder_base} is not a directory",
                     "point it at a directory on the storage under test")
    if not storage and options.checkpoint_folder == folder_base / model and not what_if:
        options.checkpoint_folder.mkdir(exist_ok=True)
    invocations = _invocations(options, opt("--checkpoint-two-phase"), opt("--loops"))
    refused = None
    try:
        sized = plan_checkpoint(model, procs, subset=options.subset, size_scale=scale)
        try:
            prelaunch_checks(options, procs)
        except CheckpointUsageError as exc:
            if not opt("--what-if"):
                raise
            refused = f"the pre-launch checks would refuse this run: {exc}"
    except CheckpointUsageError as exc:
        raise pytest.UsageError(f"{exc}") from None
    warnings = created + _warnings(options, results_dir, scale, procs, rs, model) + ([refused] if refused else [])
    if (opt("--loops") or 1) > 1:
        warnings.append(f"--loops {opt('--loops')}: rule 4.7.1 wants one invocation (or one write and one read "
                        "invocation), so the group will be INVALID; each run is still audited on its own")
    return CheckpointPlan(
        model=model, num_processes=procs, hosts=hosts, memory_gb_per_host=opt("--client-host-memory-gb"),
        num_client_hosts=opt("--num-client-hosts") or len(set(hosts)), folder_base=folder_base,
        results_dir=results_dir, options=options, params=params, invocations=invocations, rules_version=version,
        embedded=embedded, division=common["division"], accelerator=opt("--accelerator-type"), mpi=mpi,
        timeout=common["timeout"], total_bytes=sized.total_bytes, data_parallelism=sized.data_parallelism,
        warnings=warnings)


def _object_storage(opt) -> dict:
    """WorkloadOptions fields of `--checkpoint-storage object` (empty in file mode); usage errors name the option."""
    if (opt("--checkpoint-storage") or "file") == "file":
        for option in ("--checkpoint-s3-bucket", "--checkpoint-s3-endpoint", "--checkpoint-s3-prefix"):
            if opt(option) is not None:
                raise usage(option, "only used with --checkpoint-storage object", f"drop {option}")
        return {}
    if not opt("--checkpoint-s3-bucket"):
        raise usage("--checkpoint-s3-bucket", "--checkpoint-storage object needs a bucket",
                    "e.g. --checkpoint-s3-bucket checkpoints --checkpoint-s3-endpoint http://10.0.0.5:9000")
    if opt("--checkpoint-odirect"):
        raise usage("--checkpoint-odirect", "O_DIRECT is a file option", "drop it with --checkpoint-storage object")
    return {"storage": "object", "s3_bucket": opt("--checkpoint-s3-bucket"),
            "s3_endpoint": opt("--checkpoint-s3-endpoint"), "s3_prefix": opt("--checkpoint-s3-prefix")}


def _create_dirs(folder_base: Path, results_dir: Path, what_if: bool, explicit: bool) -> list[str]:
    """Create the checkpoint folder and the results dir as upstream does (never under --what-if); the lines saying
    what was (or would be) created."""
    lines = []
    for option, path in (("--checkpoint-folder", folder_base), ("--results-dir", results_dir)):
        if path.exists():
            continue
        if what_if:
            lines.append(f"{option} {path} does not exist; a real run creates it (--what-if creates nothing)")
            continue
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise usage(option, f"{path} does not exist and cannot be created ({exc.strerror})",
                        "choose a writable directory on the storage under test") from None
        if option == "--checkpoint-folder" and explicit:
            lines.append(f"created --checkpoint-folder {path} (it did not exist)")
    return lines


def _invocations(options: WorkloadOptions, two_phase: bool, loops: int | None) -> list[Invocation]:
    """One invocation (or a write then a read one with two_phase); `--loops N` makes N measured invocations."""
    writes, reads = options.num_checkpoints_write, options.num_checkpoints_read
    if writes == 0 and reads == 0:
        raise usage("--num-checkpoints-write", "both checkpoint counts are 0; nothing to do",
                     "e.g. --num-checkpoints-write 10 --num-checkpoints-read 10")
    if loops is not None and loops < 1:
        raise usage("--loops", f"expected 1 or more invocations, got {loops}", "e.g. --loops 1")
    if loops and loops > 1 and two_phase:
        raise usage("--loops", "--checkpoint-two-phase is one write and one read invocation; it cannot repeat",
                    "drop --loops or --checkpoint-two-phase")
    if not two_phase:
        return [Invocation(f"run/{number}", writes, reads) for number in range(loops or 1)]
    if writes == 0 or reads == 0:
        raise usage("--checkpoint-two-phase", f"needs writes and reads (got {writes} writes, {reads} reads)",
                     "drop --checkpoint-two-phase or give both --num-checkpoints-write and --num-checkpoints-read")
    return [Invocation("run/write", writes, 0), Invocation("run/read", 0, reads)]


def _warnings(options: WorkloadOptions, results_dir: Path, scale: float, procs: int, rs: CheckpointRules,
              model: str) -> list[str]:
    notes = []
    try:
        if os.stat(options.checkpoint_folder).st_dev == os.stat(results_dir).st_dev:
            notes.append(f"the checkpoint folder {options.checkpoint_folder} is on the same filesystem as the "
                         f"results dir; rule 4.4.2 will flag it")
    except OSError:
        pass
    if scale != 1:
        notes.append(f"--checkpoint-size-scale {scale:g}: the run can only be OPEN")
    if procs != rs.models[model].closed_num_processes and not options.subset:
        notes.append(f"{procs} processes is not {model}'s CLOSED count ({rs.models[model].closed_num_processes})")
    return notes
