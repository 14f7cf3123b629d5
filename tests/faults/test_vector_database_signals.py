"""Issue #15 item 3: a stop signal to the vector DB suite stops every child it started (query processes, the
embedded milvus-lite server): no process and no listening port of ours is left; a lock left by a server whose
suite is gone is cleared, and any other holder is explained."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.helpers import REPO

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from mlps_harness.benchmarks.vector_database.workload import VectorDBError  # noqa: E402
from mlps_harness.benchmarks.vector_database.workload.server import (  # noqa: E402
    OWNER_VARIABLE,
    EmbeddedMilvus,
    find_free_port,
    is_port_open,
    lock_holders,
)

SUITE = str(REPO / "suites" / "vector_database")
LONG = ["--vdb-num-vectors=300", "--vdb-dimension=8", "--vdb-runtime=120", "--loops=1"]


def _listening_ports(processes: list[psutil.Process]) -> set[int]:
    ports = set()
    for process in processes:
        try:
            for conn in process.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN:
                    ports.add(conn.laddr.port)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return ports


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_during_a_run_leaves_no_process_and_no_port(tmp_path: Path, stop: signal.Signals) -> None:
    results, data = tmp_path / "results", tmp_path / "data"
    suite = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", SUITE, *LONG,
                              f"--results-dir={results}", f"--data-dir={data}"],
                             cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        runs = results / "vector_database" / "milvus-lite" / "HNSW" / "run"
        deadline = time.monotonic() + 300
        children: list[psutil.Process] = []
        while time.monotonic() < deadline and suite.poll() is None:
            children = psutil.Process(suite.pid).children(recursive=True)
            if runs.is_dir() and any(runs.iterdir()) and len(children) >= 2:   # server + query processes
                break
            time.sleep(0.2)
        assert suite.poll() is None, suite.communicate()[0][-3000:]
        time.sleep(1.0)
        children = psutil.Process(suite.pid).children(recursive=True)
        ports = _listening_ports(children)
        assert ports, "the embedded server was not listening"
        suite.send_signal(stop)   # to pytest only, as `kill` or a closing terminal would
        out, _ = suite.communicate(timeout=120)
    finally:
        if suite.poll() is None:
            os.killpg(suite.pid, signal.SIGKILL)
    time.sleep(0.5)
    left = _alive(children)
    assert left == [], [(p.pid, p.cmdline()) for p in left]
    assert not any(is_port_open("127.0.0.1", port, timeout_s=0.5) for port in ports), ports
    assert suite.returncode != 0
    assert f"interrupted by {stop.name}" in out, out[-3000:]
    (run,) = list(runs.iterdir())
    assert f"interrupted by {stop.name}" in (run / ".mlps-incomplete").read_text()
    assert not any(lock_holders(lock.parent) for lock in data.rglob("LOCK"))   # no data-dir lock held


def _server(data_dir: Path, owner: int | None) -> subprocess.Popen:
    env = dict(os.environ)
    if owner is not None:
        env[OWNER_VARIABLE] = str(owner)
    port = find_free_port()
    process = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir),
                                "--host", "127.0.0.1", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not is_port_open("127.0.0.1", port, 0.2):
        assert process.poll() is None and time.monotonic() < deadline, "milvus-lite did not start"
        time.sleep(0.1)
    assert lock_holders(data_dir) == [process.pid]
    return process


def test_a_lock_left_by_a_server_whose_suite_is_gone_is_cleared(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()                                   # a PID that no longer exists: the suite that was killed
    data_dir = tmp_path / "milvus"
    stale = _server(data_dir, owner=gone.pid)
    try:
        server = EmbeddedMilvus(data_dir)
        endpoint = server.start()
        try:
            assert stale.wait(timeout=30) is not None
            assert any(f"PID {stale.pid}" in note and "left behind" in note for note in server.notes), server.notes
            assert is_port_open(endpoint.host, endpoint.port)
        finally:
            server.stop()
    finally:
        if stale.poll() is None:
            stale.kill()
            stale.wait()


def test_a_lock_held_by_someone_else_is_explained_not_blamed_on_an_extra(tmp_path: Path) -> None:
    data_dir = tmp_path / "milvus"
    other = _server(data_dir, owner=None)         # e.g. a server the user started by hand
    try:
        with pytest.raises(VectorDBError) as caught:
            EmbeddedMilvus(data_dir).start()
        message = str(caught.value)
        assert f"locked by another process (PID {other.pid}: " in message and "--data-dir" in message, message
        assert "extra" not in message
        assert other.poll() is None                # never stopped: it is not ours
    finally:
        other.kill()
        other.wait()
