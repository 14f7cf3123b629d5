"""`TrainingPlan`: every decision of a training suite session, made and checked before anything runs."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from mlps_harness.argtypes import ascii_whole
from mlps_harness.benchmarks.training.datasize import (
    GIB,
    TrainingDatasize,
    training_datasize,
)
from mlps_harness.benchmarks.training.ruleset import TrainingRules, training_rules
from mlps_harness.cluster.collect import total_memory_bytes
from mlps_harness.dlio.entry import PACKAGED_CONFIG_DIR, build_dlio_command
from mlps_harness.launch import MpiLaunchSpec, build_mpirun_argv
from mlps_harness.suite.options import mpi_launch, parse_params
from mlps_harness.suite.plan import MpiSuitePlan, common_settings, usage

#: The embedded default: a small unet3d run on this machine (2 ranks, 32 files of 1 MiB, tiny checkpoint).
EMBEDDED = {"model": "unet3d", "accelerator": "h100", "num_processes": 2}
EMBEDDED_PARAMS = {
    "dataset.num_files_train": "32", "dataset.record_length": "1048576", "dataset.record_length_stdev": "0",
    "dataset.record_length_resize": "1048576", "reader.read_threads": "1", "checkpoint.model_size": "1024",
}
TENSORFLOW_MODELS = ("resnet50", "cosmoflow")
DEFAULT_LOOPS = 5   #: measured runs after the warm-up
INT_KEYS = ("dataset.num_files_train", "dataset.num_subfolders_train", "dataset.num_samples_per_file",
            "reader.read_threads", "reader.computation_threads", "reader.transfer_size", "reader.prefetch_size",
            "reader.batch_size", "train.epochs", "dataset.record_length", "checkpoint.model_size")
BOOL_KEYS = ("reader.odirect",)


@dataclass(kw_only=True)
class TrainingPlan(MpiSuitePlan):
    """What the suite will do; `argv_*` give the exact commands (shown by --what-if)."""

    model: str
    accelerator: str
    memory_gb_per_host: float
    memory_source: str
    num_client_hosts: int
    data_dir: Path
    params: dict[str, str]
    harness_params: dict[str, str]
    loops: int
    datasize: TrainingDatasize
    cluster: dict | None = None  #: collected before the datasize (None under --what-if)

    @property
    def data_folder(self) -> Path:
        return self.data_dir / self.model

    @property
    def run_slots(self) -> list[str]:
        """Planned runs: the warm-up and `loops` measured runs."""
        return [f"run/{i}" for i in range(self.loops + 1)]

    def overrides(self, command: str) -> dict[str, str]:
        """DLIO `++workload.*` overrides for a command (datagen or run)."""
        values = {**self.harness_params, **self.params, "dataset.data_folder": str(self.data_folder)}
        if command == "datagen":
            keep = ("dataset.", "checkpoint.model_size", "checkpoint.checkpoint_folder")
            values = {k: v for k, v in values.items() if k.startswith(keep)}
        # DLIO creates its checkpoint folder even when it does not checkpoint (datagen): without an explicit folder
        # that is ./checkpoints/ in the directory pytest was started from, outside the data and results dirs.
        values.setdefault("checkpoint.checkpoint_folder", str(self.data_dir / "checkpoints" / self.model))
        return values

    def argv(self, command: str, run_dir: Path) -> list[str]:
        """The exact mpirun argv for a datagen or run launch into `run_dir`."""
        workload = f"{self.model}_datagen" if command == "datagen" else f"{self.model}_{self.accelerator}"
        return build_mpirun_argv(self.mpi, build_dlio_command(workload, run_dir, self.overrides(command)))

    def dataset_signature(self) -> dict[str, str]:
        """The parameters that define the generated dataset (compared with the dataset manifest)."""
        values = self.overrides("datagen")
        values.pop("dataset.data_folder", None)
        values.pop("checkpoint.checkpoint_folder", None)
        return {"model": self.model, **dict(sorted(values.items()))}



def _check_params(params: dict[str, str], rs: TrainingRules, allow_invalid: bool, division: str | None) -> list[str]:
    for key, value in params.items():
        if key in INT_KEYS and ascii_whole(value, signed=True) is None:
            raise usage(f"--params {key}={value}", "expected a whole number", f"e.g. --params {key}=8")
        if key in BOOL_KEYS and value.lower() not in ("true", "false", "0", "1"):
            raise usage(f"--params {key}={value}", "expected True or False", f"e.g. --params {key}=True")
    notes = []
    for key in sorted(params):
        if key in rs.closed_params or key in rs.injected_params or key.startswith("workflow."):
            continue
        if key in rs.open_params:
            if division == "closed":
                raise usage(f"--params {key}", "may only change in the OPEN division, and --division=closed "
                             "was given", "drop the override or submit to OPEN (--division=open)")
            notes.append(f"{key} makes the run OPEN")
        elif not allow_invalid:
            raise usage(f"--params {key}", "is not on the ruleset's allowed lists, so the run would be INVALID",
                         "drop it, or pass --allow-invalid-params to run anyway")
        else:
            notes.append(f"{key} makes the run INVALID (--allow-invalid-params)")
    return notes


Collector = Callable[[MpiLaunchSpec, Path, Path, "float | None", "int | None"], dict]


def build_plan(config: pytest.Config, collect: Collector | None = None) -> TrainingPlan:
    """Read and check every option; a usage error names the option, the problem and the fix.

    `collect(mpi, data_dir, results_dir, declared_gb, declared_hosts)` gathers the cluster information before the
    datasize is computed (not under --what-if), so the figure shown, used and audited is one."""
    opt = config.getoption
    embedded = opt("--model") is None
    model = opt("--model") or EMBEDDED["model"]
    accelerator = opt("--accelerator-type") or EMBEDDED["accelerator"]
    common = common_settings(config, "v3.0" if accelerator in ("b200", "mi355") or model == "retinanet" else "v2.0")
    version = common["rules_version"]
    rs = training_rules(version)
    if model not in rs.models or model not in rs.workloads:
        raise usage("--model", f"unknown training model {model!r} for rules {version}",
                     f"use one of {', '.join(m for m in rs.models if m in rs.workloads)}")
    if accelerator not in rs.accelerators:
        raise usage("--accelerator-type", f"unknown accelerator {accelerator!r} for rules {version}",
                     f"use one of {', '.join(rs.accelerators)}")
    if not (PACKAGED_CONFIG_DIR / "workload" / f"{model}_{accelerator}.yaml").is_file():
        raise usage("--accelerator-type", f"no workload config for {model} on {accelerator}",
                     "pick an accelerator the model is defined for (see mlps_harness/configs/dlio/workload/)")
    missing_software = []  # a dry run (--what-if) needs neither the workload's framework nor DLIO: warnings there
    if model in TENSORFLOW_MODELS and importlib.util.find_spec("tensorflow") is None:
        missing_software.append(usage("--model", f"{model} reads TFRecord data and needs TensorFlow, which is not "
                                      "installed", "install it with: bash scripts/setup.sh --with-tensorflow"))
    if importlib.util.find_spec("dlio_benchmark") is None:
        missing_software.append(usage("dlio-benchmark", "DLIO is not installed in this Python",
                                      "run: bash scripts/setup.sh"))
    if missing_software and not opt("--what-if"):
        raise missing_software[0]
    procs = opt("--num-accelerators") or opt("--num-processes") or (EMBEDDED["num_processes"] if embedded else None)
    if not procs or procs < 1:
        raise usage("--num-accelerators", "how many accelerators to simulate is required", "e.g. --num-accelerators=8")
    hosts, mpi = mpi_launch(config, procs)
    loops = opt("--loops") if opt("--loops") is not None else DEFAULT_LOOPS
    if loops < 0:
        raise usage("--loops", f"expected 0 or more measured runs, got {loops}", "e.g. --loops 5")
    warnings: list[str] = [f"a real run would stop here: {problem}" for problem in missing_software]
    data_dir = common["data_dir"]
    results_dir = common["results_dir"]
    for option, path in (("--data-dir", data_dir), ("--results-dir", results_dir)):
        if opt("--what-if"):  # create nothing: check that the directory could be created
            path = existing_ancestor(path)
        else:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise usage(option, f"cannot create {path} ({exc.strerror})", "choose a writable directory") from None
        if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
            raise usage(option, f"{path} is not a writable directory", "fix its permissions or choose another one")
    cluster = None
    if collect is not None and not opt("--what-if"):
        declared = opt("--client-host-memory-gb")
        cluster = collect(mpi, data_dir, results_dir, declared,
                          (opt("--num-client-hosts") or len(set(hosts))) if declared else None)
        warnings += [f"cluster: {w}" for w in cluster.get("warnings", [])]
    total_memory, memory, source, num_hosts, notes = host_memory(cluster, hosts, opt("--client-host-memory-gb"),
                                                                 opt("--num-client-hosts"))
    warnings += notes
    params = parse_params(opt("--params"))
    harness_params = dict(EMBEDDED_PARAMS) if embedded else {}
    division = common["division"]
    warnings += _check_params(params, rs, opt("--allow-invalid-params"), division)
    ref = rs.workloads[model]
    merged = {**harness_params, **params}
    batch = int(merged.get("reader.batch_size") or ref.batch_for(accelerator) or 1)
    spf = int(merged.get("dataset.num_samples_per_file") or ref.num_samples_per_file)
    record = float(merged.get("dataset.record_length") or ref.record_length_bytes)
    sized_for = opt("--max-accelerators") or procs
    if sized_for < procs:
        raise usage("--max-accelerators", f"{sized_for} is fewer than the {procs} accelerators this run uses",
                    f"pass --max-accelerators {procs} or more (it sizes the dataset for the largest run)")
    if sized_for != procs:
        warnings.append(f"datasize: the dataset is sized for --max-accelerators {sized_for} (this run uses {procs})")
    size = training_datasize(total_memory_bytes=total_memory, num_processes=sized_for,
                             batch_size=batch, num_samples_per_file=spf, record_length_bytes=record,
                             steps_per_epoch=rs.steps_per_epoch, memory_multiplier=rs.memory_multiplier)
    if "dataset.num_files_train" not in merged:
        params["dataset.num_files_train"] = str(size.required_files)
    files = int({**harness_params, **params}["dataset.num_files_train"])
    steps = files * spf // (batch * procs)
    if steps < rs.min_steps_per_epoch:
        raise usage("dataset.num_files_train", f"{files} files give {steps} step(s) per epoch with {procs} "
                     f"processes x batch {batch}; DLIO silently reports zero metrics below {rs.min_steps_per_epoch}",
                     f"use at least {rs.min_steps_per_epoch * batch * procs // spf} files or fewer processes")
    return TrainingPlan(
        model=model, accelerator=accelerator, num_processes=procs, hosts=hosts, memory_gb_per_host=memory,
        memory_source=source, num_client_hosts=num_hosts, data_dir=data_dir, results_dir=results_dir,
        params=params, harness_params=harness_params, loops=loops, rules_version=version, embedded=embedded,
        division=division, mpi=mpi, timeout=common["timeout"], datasize=size, warnings=warnings, cluster=cluster)


def host_memory(cluster: dict | None, hosts: list[str], declared_gb: float | None,
                declared_hosts: int | None) -> tuple[int, float, str, int, list[str]]:
    """(total client memory in bytes, GiB per host, where it came from, host count, warnings) for the datasize.

    The collected cluster information when there is one (the very figure the audit's datasize rule reads);
    otherwise (--what-if) the declared --client-host-memory-gb, else this machine's memory for every host."""
    if cluster is not None and total_memory_bytes(cluster) > 0:
        count = len(cluster["hosts"])
        total = total_memory_bytes(cluster)
        return (total, total / GIB / count, f"cluster information collected over {cluster.get('source')} "
                f"({count} host(s))", declared_hosts or count, [])
    count = declared_hosts or len(set(hosts))
    if declared_gb:
        return int(declared_gb * GIB * count), declared_gb, "declared --client-host-memory-gb", count, []
    memory = psutil.virtual_memory().total
    notes = ["--client-host-memory-gb not given and nothing collected (--what-if): assuming every host has this "
             "machine's memory"] if count > 1 else []
    return int(memory * count), memory / GIB, "this machine's memory (psutil; not collected)", count, notes


def existing_ancestor(path: Path) -> Path:
    """`path` itself, or its nearest ancestor that exists."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def python_for_ranks() -> str:
    """The interpreter remote ranks run (the same venv path must exist on every host)."""
    return sys.executable
