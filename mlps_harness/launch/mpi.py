"""Build ``mpirun`` command lines as argv lists (never shell strings).

The prefix follows the MLPerf Storage convention::

    mpirun -n N -host h1:s1[,h2:s2...] --bind-to none --map-by socket|node
           [--oversubscribe] [--allow-run-as-root] [-x VAR ...] [mpi params...]

``--map-by socket`` is used on a single host and ``--map-by node`` across
hosts.  ``--oversubscribe`` is added when the requested ranks exceed the total
slots.  ``--allow-run-as-root`` is added when the effective uid is 0.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from mlps_harness.argtypes import ascii_whole

DEFAULT_HOSTS: tuple[str, ...] = ("127.0.0.1",)

#: Variables remote ranks need to find the venv's python and our packages.
DEFAULT_EXPORTED_VARIABLES: tuple[str, ...] = ("PATH", "PYTHONPATH")

# A host name, IPv4 address or bracket-free IPv6 address; optional ":slots".
_HOST_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-:]+$")
_ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LaunchConfigError(ValueError):
    """Bad launcher input; the message names the option and how to fix it."""


@dataclass(frozen=True)
class HostSlots:
    """One host and the number of MPI slots it offers."""

    name: str
    slots: int

    def as_mpi_token(self) -> str:
        return f"{self.name}:{self.slots}"


@dataclass
class MpiLaunchSpec:
    """Everything needed to build an ``mpirun`` prefix."""

    num_ranks: int
    hosts: Sequence[str] | str | None = None
    slots_per_host: int | None = None
    export_variables: Sequence[str] = field(default_factory=tuple)
    mpi_params: Sequence[str] | str | None = None
    mpi_bin: str = "mpirun"
    allow_run_as_root: bool | None = None  # None: decide from os.geteuid()
    oversubscribe: bool | None = None  # None: decide from slots


def parse_hosts(hosts: Sequence[str] | str | None) -> list[tuple[str, int | None]]:
    """Split and validate ``--hosts`` into ``(name, slots or None)`` pairs.

    Accepts a list of names or one comma-separated string; each entry may carry
    ``:slots``.  Rejects empty entries, spaces and shell metacharacters.
    """
    if hosts is None:
        return [(name, None) for name in DEFAULT_HOSTS]
    if isinstance(hosts, str):
        raw_entries = hosts.split(",")
    else:
        raw_entries = []
        for item in hosts:
            if not isinstance(item, str):
                raise LaunchConfigError(f"--hosts: expected host names as strings, got {item!r}")
            raw_entries.extend(item.split(","))
    if not raw_entries or raw_entries == [""]:
        raise LaunchConfigError("--hosts: no host given; pass e.g. --hosts 127.0.0.1 or host1,host2")
    parsed: list[tuple[str, int | None]] = []
    for position, entry in enumerate(raw_entries, start=1):
        if entry.strip() == "":
            raise LaunchConfigError(
                f"--hosts: entry {position} is empty in {raw_entries!r}; remove the stray comma")
        if not _HOST_NAME_PATTERN.match(entry):
            raise LaunchConfigError(
                f"--hosts: {entry!r} is not a valid host name (only letters, digits, '.', '-', '_' "
                "and an optional ':slots' are allowed; no spaces or shell characters)")
        name, slots = entry, None
        if entry.count(":") == 1:  # "host:slots"; more colons means a bare IPv6 address
            name, slot_text = entry.split(":")
            if not name:
                raise LaunchConfigError(f"--hosts: {entry!r} has no host name before ':'")
            slots = ascii_whole(slot_text)
            if slots is None or slots < 1:
                raise LaunchConfigError(
                    f"--hosts: {entry!r} has slot count {slot_text!r}; expected a positive integer")
        parsed.append((name, slots))
    return parsed


def _is_local_host(name: str) -> bool:
    import socket

    return name in ("127.0.0.1", "localhost", "::1", socket.gethostname())


def resolve_host_slots(num_ranks: int, hosts: Sequence[str] | str | None,
                       slots_per_host: int | None = None) -> list[HostSlots]:
    """Decide the slots of each host.

    Explicit ``host:slots`` wins, then ``slots_per_host``; otherwise a single
    local host gets its core count and several hosts share the ranks evenly
    (rounded up).
    """
    if num_ranks < 1:
        raise LaunchConfigError(f"--num-processes: expected a positive integer, got {num_ranks!r}")
    if slots_per_host is not None and slots_per_host < 1:
        raise LaunchConfigError(f"slots per host: expected a positive integer, got {slots_per_host!r}")
    parsed = parse_hosts(hosts)
    names = [name for name, _ in parsed]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise LaunchConfigError(f"--hosts: {', '.join(duplicates)} listed more than once; list each host once")
    result = []
    for name, slots in parsed:
        if slots is None:
            if slots_per_host is not None:
                slots = slots_per_host
            elif len(parsed) == 1 and _is_local_host(name):
                slots = os.cpu_count() or 1
            else:
                slots = -(-num_ranks // len(parsed))
        result.append(HostSlots(name, slots))
    return result


def _split_mpi_params(mpi_params: Sequence[str] | str | None) -> list[str]:
    if mpi_params is None:
        return []
    if isinstance(mpi_params, str):
        try:
            return shlex.split(mpi_params)
        except ValueError as error:
            raise LaunchConfigError(f"--mpi-params: cannot split {mpi_params!r}: {error}") from None
    params: list[str] = []
    for item in mpi_params:
        params.extend(_split_mpi_params(item))
    return params


def build_mpirun_argv(spec: MpiLaunchSpec, command: Sequence[str]) -> list[str]:
    """Return ``mpirun ... <command>`` as an argv list."""
    host_slots = resolve_host_slots(spec.num_ranks, spec.hosts, spec.slots_per_host)
    total_slots = sum(host.slots for host in host_slots)
    argv: list[str] = [spec.mpi_bin, "-n", str(spec.num_ranks),
                       "-host", ",".join(host.as_mpi_token() for host in host_slots),
                       "--bind-to", "none",
                       "--map-by", "socket" if len(host_slots) == 1 else "node"]
    oversubscribe = spec.oversubscribe
    if oversubscribe is None:
        oversubscribe = spec.num_ranks > total_slots
    if oversubscribe:
        argv.append("--oversubscribe")
    run_as_root = spec.allow_run_as_root
    if run_as_root is None:
        run_as_root = os.geteuid() == 0
    if run_as_root:
        argv.append("--allow-run-as-root")
    for variable in _exported_variables(spec.export_variables):
        argv += ["-x", variable]
    argv += _split_mpi_params(spec.mpi_params)
    if not command:
        raise LaunchConfigError("mpirun: no command to launch was given")
    argv += list(command)
    return argv


def _exported_variables(extra: Iterable[str]) -> list[str]:
    """PATH/PYTHONPATH and the extra names, each only when set (``NAME=value`` always), deduplicated, validated.

    Open MPI warns on every launch about a ``-x NAME`` that is not set, so such a name is left out."""
    names: list[str] = []
    for entry in (*DEFAULT_EXPORTED_VARIABLES, *extra):
        name = entry.split("=", 1)[0]
        if not _ENV_NAME_PATTERN.match(name):
            raise LaunchConfigError(
                f"export variable: {entry!r} is not a valid environment variable name "
                "(expected NAME or NAME=value with letters, digits and '_')")
        if "=" not in entry and name not in os.environ:
            continue
        if entry not in names:
            names.append(entry)
    return names


def find_mpi_binary(mpi_bin: str = "mpirun") -> str:
    """Return the absolute path of ``mpi_bin`` or raise a helpful error."""
    override = os.environ.get("MPI_RUN_BIN") if mpi_bin == "mpirun" else os.environ.get("MPI_EXEC_BIN")
    candidate = override or mpi_bin
    path = shutil.which(candidate)
    if path is None:
        raise LaunchConfigError(
            f"--mpi-bin: {candidate!r} not found on PATH; install Open MPI with "
            "'bash scripts/setup.sh' (apt-get install openmpi-bin) or pass the binary's path")
    return path
