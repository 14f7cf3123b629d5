"""Fixtures for multi-host tests: hosts made of network namespaces on this machine (see netns_hosts).

* ``netns_hosts`` (session): a :class:`NetnsCluster` of ``MLPS_NETNS_HOSTS`` hosts (default 2),
  named and hostnamed h1..hN. ``cluster.hosts``, ``cluster.ssh(host, cmd)``, ``cluster.mpi_params``
  (mpirun argv), ``cluster.mpi_env`` / ``cluster.env()`` (the same as OMPI_* variables),
  ``cluster.mpi_hosts()``, ``cluster.stop_sshd(host)``, ``cluster.processes_left(host)``.
* ``netns_cluster_factory``: build extra clusters inside one test, torn down when it ends, e.g.
  ``netns_cluster_factory(hostnames=["h1", "h1"])`` for two hosts with the same hostname.
* ``openmpi``: skips unless an Open MPI ``mpirun`` is on PATH; its value is the version string.

Tests using them are skipped, with the reason, when the machine can't build namespace hosts
(not root, no sshd/ip/unshare, namespaces not permitted). Mark them ``@pytest.mark.multihost``
so ``-m "not multihost"`` leaves them out.
"""

from __future__ import annotations

import contextlib
import os

import pytest

from .netns_hosts import (
    NetnsUnavailable,
    check_available,
    mpirun_version,
    netns_cluster,
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "multihost: builds hosts out of network namespaces with their own sshd (root only; skipped otherwise)",
    )


_availability: list[str | None] = []


def _skip_unless_available() -> None:
    if not _availability:
        _availability.append(check_available())
    if _availability[0]:
        pytest.skip(f"netns hosts unavailable: {_availability[0]}")


@pytest.fixture(scope="session")
def netns_hosts():
    _skip_unless_available()
    n = int(os.environ.get("MLPS_NETNS_HOSTS", "2"))
    try:
        with netns_cluster(n) as cluster:
            yield cluster
    except NetnsUnavailable as exc:
        pytest.skip(f"netns hosts unavailable: {exc}")


@pytest.fixture
def netns_cluster_factory():
    _skip_unless_available()
    with contextlib.ExitStack() as stack:

        def make(n: int | None = None, **kw):
            return stack.enter_context(netns_cluster(n, **kw))

        yield make


@pytest.fixture(scope="session")
def openmpi() -> str:
    version = mpirun_version()
    if version is None:
        pytest.skip("no Open MPI mpirun on PATH (apt-get install -y openmpi-bin libopenmpi-dev)")
    return version
