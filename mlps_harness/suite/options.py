"""Suite options shared by every benchmark; each benchmark adds its own through `BenchmarkSpec.add_options`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mlps_harness.argtypes import positive_float, positive_int

if TYPE_CHECKING:
    from mlps_harness.launch import MpiLaunchSpec

GROUP = "mlperf-storage-suites"
#: upstream v3's environment defaults: an explicit option wins, else the variable, else the option's default
ENV_DEFAULTS = {
    "--results-dir": "MLPSTORAGE_RESULTS_DIR",
    "--data-dir": "MLPSTORAGE_DATA_DIR",
    "--checkpoint-folder": "MLPSTORAGE_CHECKPOINT_FOLDER",
    "--org": "MLPSTORAGE_ORGNAME",
    "--system": "MLPSTORAGE_SYSTEMNAME",
}
SOURCES_KEY = pytest.StashKey[dict]()


def default_data_dir() -> Path:
    """Where a suite keeps its data when neither --data-dir nor $MLPSTORAGE_DATA_DIR is given: below the system's
    temporary directory (as upstream v2.0's default results dir), never inside the checkout."""
    return Path(tempfile.gettempdir()) / "mlps-harness" / "data"


def apply_env_defaults(config: pytest.Config) -> dict[str, str]:
    """Fill each option of `ENV_DEFAULTS` not given on the command line from its environment variable and record
    where every value came from ("command line", "$MLPSTORAGE_...", or "default"); idempotent."""
    if SOURCES_KEY in config.stash:
        return config.stash[SOURCES_KEY]
    sources: dict[str, str] = {}
    for option, variable in ENV_DEFAULTS.items():
        try:
            value = config.getoption(option)
        except ValueError:      # an option not registered in this session (e.g. a benchmark plugin disabled)
            continue
        if value is not None:
            sources[option] = "command line"
        elif os.environ.get(variable):
            setattr(config.option, option.lstrip("-").replace("-", "_"), os.environ[variable])
            sources[option] = f"${variable}"
        else:
            sources[option] = "default"
    config.stash[SOURCES_KEY] = sources
    return sources


def settings_header(config: pytest.Config) -> list[str]:
    """One header line naming each environment-backed option that is set, with its value and source (none when
    every one is at its default, as in a plain test run)."""
    sources = apply_env_defaults(config)
    shown = [f"{option.lstrip('-')}={config.getoption(option)} ({source})"
             for option, source in sources.items() if source != "default"]
    return ["settings: " + ", ".join(shown)] if shown else []


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
    group.addoption("--data-dir", default=None, help="dataset directory on the storage under test (default "
                                                     "$MLPSTORAGE_DATA_DIR, else <tmp>/mlps-harness/data)")
    group.addoption("--params", action="append", default=[], metavar="KEY=VALUE",
                    help="workload override (repeatable; checked against the ruleset's allowed lists)")
    group.addoption("--loops", type=int, default=None,
                    help="number of measured runs (each suite's default is in its header and README; a suite whose "
                         "rules want a warm-up run adds it before these)")
    group.addoption("--what-if", action="store_true", default=False,
                    help="print the datasize and every exact command; run nothing")
    group.addoption("--allow-invalid-params", action="store_true", default=False,
                    help="launch even when an override makes the run INVALID")
    group.addoption("--mpi-params", default=None, help="extra mpirun arguments, e.g. '--mca btl tcp,self'")
    group.addoption("--mpi-bin", default="mpirun", choices=("mpirun", "mpiexec"), help="MPI launcher")
    group.addoption("--run-timeout", type=positive_float, default=None, help="seconds after which a launch is stopped")
    group.addoption("--no-host-check", action="store_true", default=False,
                    help="skip the pre-launch check that every remote host in --hosts answers mpirun's rsh agent "
                         "(for launchers that do not use ssh)")
    group.addoption("--org", default=None, metavar="ORG",
                    help="submitter: with --system, write runs into the submission tree "
                         "<results-dir>/<closed|open>/<ORG>/results/<NAME>/ plus systems/<NAME>.yaml "
                         "(default $MLPSTORAGE_ORGNAME)")
    group.addoption("--system", default=None, metavar="NAME", help="system name in the submission tree (with --org; "
                                                                   "default $MLPSTORAGE_SYSTEMNAME)")


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
    from mlps_harness.launch import (
        LaunchConfigError,
        MpiLaunchSpec,
        build_mpirun_argv,
        parse_hosts,
    )

    opt = config.getoption
    try:
        hosts = [name for name, _ in parse_hosts(opt("--hosts"))]
        spec = MpiLaunchSpec(num_ranks=num_ranks, hosts=opt("--hosts"), mpi_params=opt("--mpi-params"),
                             mpi_bin=opt("--mpi-bin"), export_variables=("PYTHONPATH", "PATH"))
        build_mpirun_argv(spec, ["true"])
    except LaunchConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not opt("--what-if") and not opt("--no-host-check"):
        check_hosts_or_fail(hosts, spec)
    return hosts, spec


def check_hosts_or_fail(hosts: list[str], spec: "MpiLaunchSpec") -> None:
    """Before anything is launched: every remote host answers mpirun's agent within seconds, else a usage error
    naming each bad host and the fix. Ctrl-C/SIGTERM during the check ends the session (return code 130)."""
    import signal
    import threading

    from mlps_harness.launch.hostcheck import check_hosts
    from mlps_harness.launch.mpi import _split_mpi_params

    def to_interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, to_interrupt) if main else None
    try:
        problems = check_hosts(hosts, _split_mpi_params(spec.mpi_params))
    except KeyboardInterrupt:
        pytest.exit("host check interrupted; nothing was run", returncode=130)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
    if problems:
        lines = "\n".join(f"  {problem}" for problem in problems)
        raise pytest.UsageError(f"--hosts: {len(problems)} host(s) cannot be reached by mpirun, so nothing was "
                                f"launched:\n{lines}\n(--no-host-check skips this check)")
