"""Suite options shared by every benchmark; each benchmark adds its own through `BenchmarkSpec.add_options`."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mlps_harness.launch import MpiLaunchSpec

GROUP = "mlperf-storage-suites"


def positive_int(text: str) -> int:
    """argparse type: a whole number > 0 (0 or a negative count is a usage error, never a silent default)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (memory sizes, timeouts)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def add_suite_options(parser: pytest.Parser) -> None:
    """Options every benchmark suite understands (registered once, by the plugin)."""
    group = parser.getgroup(GROUP, "MLPerf Storage benchmark suites (suites/<benchmark>)")
    group.addoption("--model", default=None, help="model to run (e.g. unet3d, llama3-8b); default: the suite's "
                                                  "embedded default")
    group.addoption("--hosts", default=None, help="comma-separated client hosts, optionally host:slots "
                                                  "(default 127.0.0.1)")
    group.addoption("--num-processes", type=positive_int, default=None, help="MPI ranks, for suites whose ranks are not accelerators")
    group.addoption("--client-host-memory-gb", type=positive_float, default=None,
                    help="memory per client host in GiB (used when it cannot be measured over MPI)")
    group.addoption("--num-client-hosts", type=positive_int, default=None, help="number of client hosts")
    group.addoption("--data-dir", default=None, help="dataset directory on the storage under test")
    group.addoption("--params", action="append", default=[], metavar="KEY=VALUE",
                    help="workload override (repeatable; checked against the ruleset's allowed lists)")
    group.addoption("--loops", type=int, default=5, help="measured runs after the warm-up (default 5)")
    group.addoption("--what-if", action="store_true", default=False,
                    help="print the datasize and every exact command; run nothing")
    group.addoption("--allow-invalid-params", action="store_true", default=False,
                    help="launch even when an override makes the run INVALID")
    group.addoption("--mpi-params", default=None, help="extra mpirun arguments, e.g. '--mca btl tcp,self'")
    group.addoption("--mpi-bin", default="mpirun", choices=("mpirun", "mpiexec"), help="MPI launcher")
    group.addoption("--run-timeout", type=positive_float, default=None, help="seconds after which a launch is stopped")


def parse_params(values: list[str]) -> dict[str, str]:
    """`--params k=v` values as a dict; a usage error names the bad value and the expected form."""
    params: dict[str, str] = {}
    for raw in values:
        for item in raw.split() if " " in raw.strip() else [raw]:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise pytest.UsageError(f"--params {item!r}: expected KEY=VALUE, e.g. --params reader.read_threads=8")
            params[key.strip()] = value.strip()
    return params


def mpi_launch(config: pytest.Config, num_ranks: int) -> tuple[list[str], "MpiLaunchSpec"]:
    """The host names and the `MpiLaunchSpec` from --hosts, --mpi-params and --mpi-bin, checked (usage error)."""
    from mlps_harness.launch import LaunchConfigError, MpiLaunchSpec, build_mpirun_argv, parse_hosts

    opt = config.getoption
    try:
        hosts = [name for name, _ in parse_hosts(opt("--hosts"))]
        spec = MpiLaunchSpec(num_ranks=num_ranks, hosts=opt("--hosts"), mpi_params=opt("--mpi-params"),
                             mpi_bin=opt("--mpi-bin"), export_variables=("PYTHONPATH", "PATH"))
        build_mpirun_argv(spec, ["true"])
    except LaunchConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    return hosts, spec
