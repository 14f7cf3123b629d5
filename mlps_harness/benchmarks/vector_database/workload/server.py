"""Milvus endpoints: the embedded milvus-lite server and reachability checks."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Iterator, Optional

from .options import DEFAULT_MILVUS_PORT, VectorDBError

LOOPBACK = "127.0.0.1"
#: Set in the embedded server's environment: the PID of the process that started it (its owner).
OWNER_VARIABLE = "MLPS_HARNESS_MILVUS_OWNER"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the server child before exec: receive SIGTERM when the parent dies (Linux), so even a SIGKILLed
    suite leaves no server behind. Best effort: ignored where prctl is unavailable."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def lock_holders(data_dir: str | os.PathLike[str]) -> list[int]:
    """PIDs holding milvus-lite's `LOCK` file in `data_dir` (from /proc/locks; empty when none or unknown)."""
    try:
        st = os.stat(Path(data_dir) / "LOCK")
        table = Path("/proc/locks").read_text()
    except OSError:
        return []
    wanted = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids = []
    for line in table.splitlines():
        fields = line.split()
        if "->" in fields:   # a waiter, not a holder
            continue
        if len(fields) >= 6 and fields[5] == wanted and fields[4].isdigit():
            pids.append(int(fields[4]))
    return sorted(set(pids))


def _describe_process(pid: int) -> tuple[str, int | None]:
    """(command line, owner PID from our environment variable or None) of a process."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = "?"
    owner = None
    try:
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if item.startswith(OWNER_VARIABLE.encode() + b"="):
                owner = int(item.split(b"=", 1)[1] or 0) or None
    except (OSError, ValueError):
        pass
    return command, owner


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_pid(pid: int, timeout_s: float = 15.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _alive(pid) or _is_zombie(pid):
                return
            time.sleep(0.05)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def clear_stale_lock(data_dir: str | os.PathLike[str]) -> list[str]:
    """Before starting a server on `data_dir`: a milvus-lite server we started for a suite that is gone (its
    owner PID is dead) still holds the lock: stop it and say so. Any other holder is a `VectorDBError` naming
    its PID and command and how to fix it."""
    notes = []
    for pid in lock_holders(data_dir):
        if pid == os.getpid():
            continue
        command, owner = _describe_process(pid)
        if owner is not None and owner != os.getpid() and not _alive(owner):
            _stop_pid(pid)
            notes.append(f"stopped a milvus-lite server (PID {pid}) left behind by a suite that is gone "
                         f"(PID {owner}); it held the lock on {data_dir}")
            continue
        raise VectorDBError(
            f"the milvus-lite data dir {data_dir} is locked by another process (PID {pid}: {command}); "
            f"stop it (kill {pid}) or choose another --data-dir"
        )
    return notes


@dataclasses.dataclass(frozen=True)
class MilvusEndpoint:
    """Where a Milvus (or milvus-lite) gRPC server listens."""

    host: str = LOOPBACK
    port: int = DEFAULT_MILVUS_PORT
    data_dir: Optional[str] = None  # local data directory if known (for diskstats)

    @property
    def uri(self) -> str:
        """The ``http://host:port`` URI pymilvus expects."""
        return f"http://{self.host}:{self.port}"


def how_to_start_milvus(port: int = DEFAULT_MILVUS_PORT) -> str:
    """A hint telling the user how to get a server on ``port``."""
    return (
        "Start one with `milvus-lite server --data-dir DIR --host 127.0.0.1 "
        f"--port {port}` (or `docker compose up -d` with the upstream vdb_benchmark "
        "compose file for a full Milvus), or drop --vdb-host/--vdb-port and pass "
        "--data-dir DIR to use the embedded milvus-lite server."
    )


def is_port_open(host: str, port: int, timeout_s: float = 2.0) -> bool:
    """True if a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def require_reachable(endpoint: MilvusEndpoint, timeout_s: float = 3.0) -> None:
    """Raise :class:`VectorDBError` naming host and port if nothing listens there."""
    if not is_port_open(endpoint.host, endpoint.port, timeout_s):
        raise VectorDBError(
            f"cannot reach Milvus at {endpoint.host}:{endpoint.port} "
            f"(--vdb-host {endpoint.host} --vdb-port {endpoint.port}): no server is "
            f"listening there. {how_to_start_milvus(endpoint.port)}"
        )


def find_free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class EmbeddedMilvus:
    """Run ``milvus-lite server`` on 127.0.0.1 with its data in ``data_dir``.

    Use as a context manager; it yields a :class:`MilvusEndpoint`::

        with EmbeddedMilvus("/tmp/vdb") as endpoint:
            load_collection(endpoint, ...)

    The server is a child process on a free port, stopped on exit. Its
    output goes to ``<data_dir>.server.log`` (next to, not inside, the data).
    """

    def __init__(self, data_dir: str | os.PathLike[str], startup_timeout_s: float = 60.0,
                 port: Optional[int] = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.startup_timeout_s = startup_timeout_s
        self.port = port
        self.log_path = self.data_dir.with_name(self.data_dir.name + ".server.log")
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._log_file: Optional[IO[bytes]] = None
        self.notes: list[str] = []   #: what was done before starting (e.g. a stale server stopped)

    def start(self) -> MilvusEndpoint:
        """Start the server and block until it accepts connections."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.notes = clear_stale_lock(self.data_dir)
        port = self.port or find_free_port()
        command = [sys.executable, "-m", "milvus_lite", "server", "--data-dir",
                   str(self.data_dir), "--host", LOOPBACK, "--port", str(port)]
        self._log_file = open(self.log_path, "ab")
        self._log_start = self._log_file.tell()
        self._process = subprocess.Popen(command, stdout=self._log_file,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={**os.environ, OWNER_VARIABLE: str(os.getpid())},
                                         preexec_fn=_die_with_parent)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            status = self._process.poll()
            if status is not None:
                self.stop()
                raise VectorDBError(
                    f"the embedded milvus-lite server exited with status "
                    f"{status} while starting on {LOOPBACK}:{port} "
                    f"(data dir {self.data_dir}); see {self.log_path}. {self._startup_hint()}"
                )
            if is_port_open(LOOPBACK, port, timeout_s=0.2):
                return MilvusEndpoint(LOOPBACK, port, str(self.data_dir))
            time.sleep(0.05)
        self.stop()
        raise VectorDBError(
            f"the embedded milvus-lite server did not listen on {LOOPBACK}:{port} "
            f"within {self.startup_timeout_s:.0f} s; see {self.log_path}."
        )

    def _startup_hint(self) -> str:
        """Why the server would not start, from its log: a held data-dir lock, a missing module, or unknown."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(getattr(self, "_log_start", 0))
                text = log.read(200_000).decode(errors="replace")
        except OSError:
            text = ""
        if "DataDirLockedError" in text or "holds the lock" in text:
            holders = lock_holders(self.data_dir)
            who = ", ".join(f"PID {pid}: {_describe_process(pid)[0]}" for pid in holders) or "a process"
            return f"Its data dir is locked by another milvus-lite server ({who}); stop it or use another --data-dir."
        if "No module named" in text:
            return "The `vectordb` extra (pymilvus, milvus-lite) is not installed: run 'bash scripts/setup.sh'."
        return "The log says why."

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 15 s)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> MilvusEndpoint:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def milvus_endpoint(vdb_host: Optional[str] = None, vdb_port: Optional[int] = None,
                    data_dir: Optional[str | os.PathLike[str]] = None) -> Iterator[MilvusEndpoint]:
    """Yield the endpoint to use: a real Milvus if host/port are given, else embedded milvus-lite.

    With a real Milvus, ``data_dir`` (optional) only names the directory
    whose block device is reported in the disk I/O statistics.
    """
    if vdb_host or vdb_port:
        yield MilvusEndpoint(vdb_host or LOOPBACK, int(vdb_port or DEFAULT_MILVUS_PORT),
                             str(data_dir) if data_dir else None)
        return
    if not data_dir:
        raise VectorDBError(
            "no Milvus server given: pass --data-dir DIR to run the embedded milvus-lite "
            "server with its data in DIR, or --vdb-host/--vdb-port for a running Milvus."
        )
    with EmbeddedMilvus(data_dir) as endpoint:
        yield endpoint
