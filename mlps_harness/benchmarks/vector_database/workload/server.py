"""Milvus endpoints: the embedded milvus-lite server and reachability checks."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Iterator, Optional

from .options import DEFAULT_MILVUS_PORT, VectorDBError

LOOPBACK = "127.0.0.1"


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

    def start(self) -> MilvusEndpoint:
        """Start the server and block until it accepts connections."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = self.port or find_free_port()
        command = [sys.executable, "-m", "milvus_lite", "server", "--data-dir",
                   str(self.data_dir), "--host", LOOPBACK, "--port", str(port)]
        self._log_file = open(self.log_path, "ab")
        self._process = subprocess.Popen(command, stdout=self._log_file,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            status = self._process.poll()
            if status is not None:
                self.stop()
                raise VectorDBError(
                    f"the embedded milvus-lite server exited with status "
                    f"{status} while starting on {LOOPBACK}:{port} "
                    f"(data dir {self.data_dir}); see {self.log_path}. Is the "
                    "`vectordb` extra (pymilvus, milvus-lite) installed?"
                )
            if is_port_open(LOOPBACK, port, timeout_s=0.2):
                return MilvusEndpoint(LOOPBACK, port, str(self.data_dir))
            time.sleep(0.05)
        self.stop()
        raise VectorDBError(
            f"the embedded milvus-lite server did not listen on {LOOPBACK}:{port} "
            f"within {self.startup_timeout_s:.0f} s; see {self.log_path}."
        )

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
