"""`KvCachePlan`: every decision of a KV cache suite session, made and checked before anything runs.

Without options the suite runs the embedded default (three tiny Options, one short trial each, 2 ranks). Any KV
cache option starts from the v3.0 CLOSED sequence (ruleset `options`) and changes only what was given.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import ConfigDict

from mlps_harness.benchmarks.kv_cache.ruleset import (
    KvCacheRules,
    OptionValues,
    kvcache_rules,
)
from mlps_harness.launch import build_mpirun_argv
from mlps_harness.suite.options import mpi_launch
from mlps_harness.suite.plan import MpiSuitePlan, common_settings, usage

#: The embedded default: every Option on tiny-1b with 2 users for 10 s, one trial, 2 s apart, 2 ranks.
EMBEDDED = {"model": "tiny-1b", "num_users": 2, "duration_s": 10.0, "trials": 1, "delay": 2.0, "num_processes": 2,
            "cpu_mem_gb": {"2": 0.25}}
#: Our options -> the OptionSpec field they set.
OPTION_FIELDS = {"kv_model": "model", "kv_users": "num_users", "kv_duration": "duration_s",
                 "kv_gpu_mem_gb": "gpu_mem_gb", "kv_cpu_mem_gb": "cpu_mem_gb",
                 "kv_max_concurrent_allocs": "max_concurrent_allocs", "kv_generation_mode": "generation_mode"}
#: kv-cache.py flags -> the suite option that sets them (for usage errors).
FLAG_NAMES = {"--model": "--kv-model", "--num-users": "--kv-users", "--duration": "--kv-duration",
              "--gpu-mem-gb": "--kv-gpu-mem-gb", "--cpu-mem-gb": "--kv-cpu-mem-gb", "--seed": "--kv-seed",
              "--max-concurrent-allocs": "--kv-max-concurrent-allocs", "--generation-mode": "--kv-generation-mode",
              "--cache-dir": "--kv-cache-dir", "--prefill-only/--decode-only": "--kv-prefill-only/--kv-decode-only"}
KV_OPTIONS = ("cache_dir", "kv_options", "kv_trials", "kv_duration", "kv_users", "kv_delay_between_options",
              "kv_model", "kv_gpu_mem_gb", "kv_cpu_mem_gb", "kv_max_concurrent_allocs", "kv_generation_mode",
              "kv_seed", "kv_extra_args", "prefill_only", "decode_only")


def option_name(field: str) -> str:
    """The suite option of a KV_OPTIONS field: every KV cache option carries the `--kv-` prefix."""
    return "--" + (field if field.startswith("kv_") else f"kv_{field}").replace("_", "-")


class OptionSpec(OptionValues):
    """One Option of the sequence: the ruleset's parameters for it, as every rank of every trial uses them."""

    model_config = ConfigDict(frozen=True)

    name: str

    def args(self) -> list[str]:
        return ["--model", self.model, "--num-users", str(self.num_users), "--duration", f"{self.duration_s:g}",
                "--gpu-mem-gb", f"{self.gpu_mem_gb:g}", "--cpu-mem-gb", f"{self.cpu_mem_gb:g}",
                "--max-concurrent-allocs", str(self.max_concurrent_allocs),
                "--generation-mode", self.generation_mode]


@dataclass(kw_only=True)
class KvCachePlan(MpiSuitePlan):
    """What the suite will do; `argv` gives the exact mpirun command of a trial (shown by --what-if)."""

    options: list[OptionSpec]
    trials: int
    delay_s: float
    base_seed: int
    extra_args: list[str]
    cache_dir: Path
    recorded_args: dict[str, Any]

    @property
    def model(self) -> str:
        """The model directory of the run: the first Option's model."""
        return self.options[0].model

    @property
    def slots(self) -> list[str]:
        """One slot per trial: `option_<O>/trial_<T>`."""
        return [f"option_{o.name}/trial_{t}" for o in self.options for t in range(1, self.trials + 1)]

    def benchmark_args(self, option: OptionSpec) -> list[str]:
        return [*option.args(), *self.extra_args]

    def argv(self, option: OptionSpec, trial_dir: Path) -> list[str]:
        """mpirun + the rank launcher for one trial writing into `trial_dir`."""
        command = [sys.executable, "-m", "mlps_harness.benchmarks.kv_cache.rank", "--trial-dir", str(trial_dir),
                   "--cache-dir", str(self.cache_dir), "--base-seed", str(self.base_seed), "--",
                   *self.benchmark_args(option)]
        return build_mpirun_argv(self.mpi, command)

    def option_record(self, option: OptionSpec) -> dict[str, Any]:
        return {"name": option.name, **option.model_dump(), "args": self.benchmark_args(option)}



def _select_options(raw: str | None, rs: KvCacheRules) -> list[str]:
    if raw is None:
        return sorted(rs.options)
    names = [n.strip() for n in raw.split(",") if n.strip()]
    bad = [n for n in names if n not in rs.options]
    if not names or bad or len(set(names)) != len(names):
        raise usage("--kv-options", f"expected a comma list of distinct Options out of {', '.join(rs.options)}, "
                     f"got {raw!r}", "e.g. --kv-options 1,3")
    return names


def _check_numbers(opt) -> None:
    for name, low in (("--kv-trials", 1), ("--kv-users", 1), ("--num-processes", 1)):
        value = opt(name)
        if value is not None and value < low:
            raise usage(name, f"expected {low} or more, got {value}", f"e.g. {name} {max(low, 2)}")
    for name in ("--kv-duration", "--kv-delay-between-options", "--kv-gpu-mem-gb", "--kv-cpu-mem-gb",
                 "--kv-max-concurrent-allocs", "--kv-seed"):
        value = opt(name)
        if value is not None and (value < 0 or value != value or value == float("inf")):
            raise usage(name, f"expected a finite value of 0 or more, got {value}", f"pass a non-negative {name}")
    if opt("--kv-duration") == 0:
        raise usage("--kv-duration", "a trial of 0 s measures nothing", "e.g. --kv-duration 60")


def _validate_with_benchmark(plan: KvCachePlan, what_if: bool) -> None:
    """Let the benchmark's own validation check every Option (model, ranges, cache dir, flag combinations)."""
    try:
        from kv_cache import BenchmarkUsageError, parse_config
    except ImportError as exc:
        raise usage("kv_cache_benchmark", f"cannot import the benchmark ({exc})",
                     "install numpy: bash scripts/setup.sh") from None
    for option in plan.options:
        argv = [*plan.benchmark_args(option), "--cache-dir", str(plan.cache_dir),
                "--seed", str(plan.base_seed + plan.num_processes - 1)]
        try:
            parse_config(argv, create_dirs=not what_if)
        except BenchmarkUsageError as exc:
            name = FLAG_NAMES.get(exc.option, f"--kv-extra-args {exc.option}")
            raise usage(name, f"{exc.problem} (Option {option.name})", exc.fix) from None


def _trials_from_loops(loops: int | None, given: dict[str, Any], closed_trials: int, division: str | None) -> None:
    """`--loops N` is the number of measured runs in every suite: here, the trials per Option (= --kv-trials N)."""
    if loops is None:
        return
    if loops < 1:
        raise usage("--loops", f"expected 1 or more trials per Option, got {loops}", "e.g. --loops 3")
    if given["kv_trials"] is not None and given["kv_trials"] != loops:
        raise usage("--loops", f"--loops {loops} and --kv-trials {given['kv_trials']} disagree (both are the trials "
                    "per Option)", "give only one of them")
    if not (division == "closed" and loops == closed_trials):
        given["kv_trials"] = loops


def build_plan(config: pytest.Config) -> KvCachePlan:
    """Read and check every option; a usage error names the option, the problem and the fix."""
    opt = config.getoption
    common = common_settings(config, "v3.0")
    version = common["rules_version"]
    if version != "v3.0":
        raise usage("--rules-version", f"the KV cache benchmark does not exist in {version}", "use v3.0 (or auto)")
    rs = kvcache_rules(version)
    given = {name: opt(option_name(name)) for name in KV_OPTIONS}
    if opt("--model") is not None and given["kv_model"] is None:
        given["kv_model"] = opt("--model")
    embedded = all(v in (None, False) for k, v in given.items() if k != "cache_dir") and opt("--division") is None
    _trials_from_loops(opt("--loops"), given, rs.trials_per_option, opt("--division"))
    _check_numbers(opt)
    names = _select_options(given["kv_options"], rs)
    options = [OptionSpec(name=n, **rs.options[n].model_dump()) for n in names]
    if embedded:
        options = [o.model_copy(update={"model": EMBEDDED["model"], "num_users": EMBEDDED["num_users"],
                                        "duration_s": EMBEDDED["duration_s"],
                                        "cpu_mem_gb": EMBEDDED["cpu_mem_gb"].get(o.name, o.cpu_mem_gb)})
                   for o in options]
    changes = {f: given[k] for k, f in OPTION_FIELDS.items() if given[k] is not None}
    options = [o.model_copy(update=changes) for o in options]
    try:
        extra = shlex.split(given["kv_extra_args"] or "")
    except ValueError as exc:
        raise usage("--kv-extra-args", f"cannot split {given['kv_extra_args']!r}: {exc}", "quote it as one string")
    for flag in ("--cache-dir", "--output", "--seed"):
        if any(a == flag or a.startswith(flag + "=") for a in extra):
            raise usage("--kv-extra-args", f"{flag} is set per rank by the harness", f"remove {flag}")
    extra += ["--prefill-only"] * bool(given["prefill_only"]) + ["--decode-only"] * bool(given["decode_only"])
    division = common["division"]
    locked = [k for k in rs.locked_args if given.get(k) not in (None, False)]
    if division == "closed" and locked:
        raise usage(option_name(locked[0]), "changes the locked CLOSED sequence, and "
                     "--division=closed was given", "drop it for a CLOSED run, or submit to OPEN (--division=open)")
    procs = opt("--num-processes") or EMBEDDED["num_processes"]
    hosts, mpi = mpi_launch(config, procs)
    results_dir = common["results_dir"]
    if given["cache_dir"]:
        cache_dir = Path(given["cache_dir"]).expanduser().resolve()
        if cache_dir.exists() and not cache_dir.is_dir():
            raise usage("--kv-cache-dir", f"{cache_dir} is not a directory",
                         "point it at a directory on the storage under test")
    else:
        cache_dir = common["data_dir"] / "kv_cache"
    dir_notes: list[str] = []
    for option, path in (("--kv-cache-dir", cache_dir), ("--results-dir", results_dir)):
        if opt("--what-if"):  # create nothing
            if not path.exists():
                dir_notes.append(f"{option} {path} does not exist; a real run creates it (--what-if creates nothing)")
            continue
        existed = path.exists()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise usage(option, f"cannot create {path} ({exc.strerror})", "choose a writable directory") from None
        if not existed and option == "--kv-cache-dir" and given["cache_dir"]:
            dir_notes.append(f"created --kv-cache-dir {path} (it did not exist)")
        if not os.access(path, os.W_OK | os.X_OK):
            raise usage(option, f"{path} is not writable", "fix its permissions or choose another directory")
    trials = given["kv_trials"] or (EMBEDDED["trials"] if embedded else rs.trials_per_option)
    delay = given["kv_delay_between_options"]
    delay = delay if delay is not None else (EMBEDDED["delay"] if embedded else rs.delay_between_options_s)
    recorded = {"program": "kv_cache", "command": "run", "model": options[0].model, "hosts": hosts,
                "num_processes": procs, "results_dir": str(results_dir), "data_dir": str(cache_dir),
                "mpi_params": opt("--mpi-params"), "mpi_bin": opt("--mpi-bin"), "rules_version": version,
                "closed": division == "closed", "open": division == "open", "embedded_default": embedded,
                **{k: v for k, v in given.items() if k != "cache_dir"}, "cache_dir": str(cache_dir)}
    plan = KvCachePlan(options=options, trials=trials, delay_s=float(delay),
                       base_seed=given["kv_seed"] if given["kv_seed"] is not None else rs.base_seed,
                       extra_args=extra, num_processes=procs, hosts=hosts, cache_dir=cache_dir,
                       results_dir=results_dir, rules_version=version, embedded=embedded, division=division,
                       mpi=mpi, timeout=common["timeout"], recorded_args=recorded,
                       warnings=dir_notes + [f"{option_name(k)} makes the run OPEN" for k in locked])
    _validate_with_benchmark(plan, bool(opt("--what-if")))
    return plan
