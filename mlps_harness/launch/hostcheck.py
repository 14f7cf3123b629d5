"""Check, before anything is launched, that every remote host in ``--hosts`` answers through mpirun's rsh agent.

Open MPI starts its daemons over ``ssh`` (or whatever ``plm_rsh_agent`` names). A host that does not resolve,
refuses the connection or never answers otherwise shows up minutes later as a hung ``ssh ... orted``; here it is
a few seconds and one message naming the host, what went wrong and how to fix it.

Local hosts (loopback, this machine's hostname, any address of a local interface) are not probed: mpirun starts
no agent for them. All probes run at once; each is bounded by ``timeout`` seconds, and Ctrl-C/SIGTERM stops them.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

#: How long one host may take to accept the agent's connection and run ``true``.
DEFAULT_TIMEOUT = 8.0


@dataclass(frozen=True)
class HostProblem:
    """Why one host cannot be reached."""

    host: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.host}: {self.problem}; {self.fix}"


def local_addresses() -> set[str]:
    """Names and addresses that mean this machine to mpirun (no agent is started for them)."""
    names = {"localhost", "127.0.0.1", "::1", socket.gethostname(), socket.getfqdn()}
    try:
        for addresses in psutil.net_if_addrs().values():
            names.update(a.address.split("%")[0] for a in addresses if a.family in (socket.AF_INET, socket.AF_INET6))
    except OSError:
        pass
    return names


def rsh_agent(mpi_params: Sequence[str], environ: dict[str, str] | None = None) -> list[str]:
    """The agent mpirun uses: ``--mca plm_rsh_agent X`` in the params, else OMPI_MCA_plm_rsh_agent, else ssh."""
    environ = os.environ if environ is None else environ
    agent = None
    params = list(mpi_params)
    for i, token in enumerate(params[:-2]):
        if token in ("--mca", "-mca", "--gmca", "-gmca") and params[i + 1] in ("plm_rsh_agent", "orte_rsh_agent"):
            agent = params[i + 2]
    agent = agent or environ.get("OMPI_MCA_plm_rsh_agent") or environ.get("OMPI_MCA_orte_rsh_agent") or "ssh"
    # Open MPI accepts a colon-separated list of fallbacks ("ssh : rsh"): the first one is what it tries first.
    return shlex.split(agent.split(":")[0].strip() or "ssh")


def _probe_argv(agent: list[str], host: str, timeout: float) -> list[str]:
    if os.path.basename(agent[0]) == "ssh":
        return [*agent, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={max(1, int(timeout) - 2)}",
                "-o", "ConnectionAttempts=1", host, "true"]
    return [*agent, host, "true"]


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return True


def _diagnose(host: str, agent: list[str], returncode: int | None, stderr: str, timeout: float) -> HostProblem:
    shown = shlex.join(agent)
    text = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if "Could not resolve hostname" in stderr or (returncode is not None and "Connection" not in stderr
                                                  and not _resolves(host)):
        return HostProblem(host, "the name does not resolve",
                           "fix the name in --hosts, or add it to DNS or /etc/hosts (an ssh config alias works too)")
    if returncode is None or "timed out" in stderr:
        return HostProblem(host, f"did not answer {shown} within {timeout:g} s (host down, or traffic dropped)",
                           "check that the host is up and reachable from here, or remove it from --hosts")
    if "Connection refused" in stderr:
        return HostProblem(host, f"refused the connection ({text})",
                           "start sshd on that host, or point mpirun at its agent with --mpi-params "
                           "'--mca plm_rsh_agent ...'")
    if "Permission denied" in stderr or "Host key verification failed" in stderr:
        return HostProblem(host, f"rejected a login without password ({text})",
                           "set up passwordless ssh to that host (ssh-copy-id) and accept its host key")
    if "No route to host" in stderr or "Network is unreachable" in stderr:
        return HostProblem(host, f"cannot be reached ({text})",
                           "check the network path to it, or remove it from --hosts")
    return HostProblem(host, f"'{shown} {host} true' exited {returncode}" + (f" ({text})" if text else ""),
                       "make that command succeed without a password prompt, then run again")


def check_hosts(hosts: Sequence[str], mpi_params: Sequence[str] = (), *, timeout: float = DEFAULT_TIMEOUT,
                environ: dict[str, str] | None = None) -> list[HostProblem]:
    """Probe every remote host with mpirun's agent at once; return the problems (empty when all answered).

    KeyboardInterrupt (Ctrl-C, or SIGTERM turned into it by the caller) stops every probe before it propagates.
    """
    local = local_addresses()
    remote = list(dict.fromkeys(h for h in hosts if h not in local))
    if not remote:
        return []
    agent = rsh_agent(mpi_params, environ)
    probes: dict[str, subprocess.Popen | None] = {}
    problems: dict[str, HostProblem] = {}
    try:
        for host in remote:
            try:
                probes[host] = subprocess.Popen(_probe_argv(agent, host, timeout), stdin=subprocess.DEVNULL,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                                start_new_session=True, text=True, errors="replace")
            except OSError as exc:
                problems[host] = HostProblem(host, f"cannot start the agent {shlex.join(agent)} ({exc.strerror})",
                                             "install openssh-client or name the agent with --mpi-params "
                                             "'--mca plm_rsh_agent ...'")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(p.poll() is None for p in probes.values() if p):
            time.sleep(0.05)
        for host, proc in probes.items():
            if proc is None or host in problems:
                continue
            code = proc.poll()
            if code is None:
                _kill(proc)
                problems[host] = _diagnose(host, agent, None, "", timeout)
            elif code != 0:
                problems[host] = _diagnose(host, agent, code, proc.stderr.read() if proc.stderr else "", timeout)
    finally:
        for proc in probes.values():
            if proc is not None and proc.poll() is None:
                _kill(proc)
            if proc is not None and proc.stderr:
                proc.stderr.close()
    return [problems[h] for h in remote if h in problems]


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
