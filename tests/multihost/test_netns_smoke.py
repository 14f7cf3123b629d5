"""Smoke test of the namespace hosts: ssh reaches each, mpirun spans them, teardown leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from . import netns_hosts as nh

pytestmark = pytest.mark.multihost


def _wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_ssh_prints_each_hosts_own_hostname(netns_hosts):
    for host in netns_hosts.hosts:
        out = netns_hosts.ssh(host, "hostname", check=True)
        assert out.stdout.strip() == host.hostname == host.name
        by_alias = subprocess.run(
            [*netns_hosts.ssh_command, host.name, "hostname"], check=False, capture_output=True, text=True
        )
        assert by_alias.stdout.strip() == host.hostname


def test_mpirun_runs_hostname_on_each_host(netns_hosts, openmpi):
    hosts = netns_hosts.hosts
    argv = [
        "mpirun",
        *netns_hosts.mpi_params,
        "-np",
        str(2 * len(hosts)),
        "-H",
        netns_hosts.mpi_hosts(slots=2),
        "hostname",
    ]
    out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert sorted(out.stdout.split()) == sorted(2 * [h.hostname for h in hosts])
    # the same through the environment only, and oversubscribed (3 ranks a host, 1 slot each)
    argv = ["mpirun", "-np", str(3 * len(hosts)), "-H", netns_hosts.mpi_hosts(), "hostname"]
    out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120, env=netns_hosts.env())
    assert out.returncode == 0, out.stderr
    assert sorted(out.stdout.split()) == sorted(3 * [h.hostname for h in hosts])

    # orted and the ranks are gone from every host once mpirun returns
    def nothing_left():
        return not any(netns_hosts.processes_left(h) for h in hosts)

    assert _wait_until(nothing_left), {h.name: netns_hosts.processes_left(h) for h in hosts}


def _gone(pid: int) -> bool:
    """Exited (a zombie not yet reaped by init counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_same_hostname_hosts_and_unreachable_host_then_teardown_leaves_nothing():
    nh.check_available() and pytest.skip(nh.check_available())
    with nh.same_hostname_cluster("h1", 2) as cluster:
        h1, h2 = cluster.hosts
        assert (h1.name, h2.name) == ("h1", "h2") and h1.address != h2.address
        assert [cluster.ssh(h, "hostname").stdout.strip() for h in cluster.hosts] == ["h1", "h1"]

        # a stray process outlives its ssh session; processes_left sees it
        cluster.ssh(h2, "nohup sleep 600 >/dev/null 2>&1 &", check=True)
        assert _wait_until(lambda: any("sleep 600" in c for c in cluster.processes_left(h2).values()))
        stray = [p for p, c in cluster.processes_left(h2).items() if "sleep 600" in c]

        cluster.stop_sshd(h2)  # h2 now refuses ssh: an unreachable host
        t0 = time.monotonic()
        refused = cluster.ssh(h2, "hostname")
        assert refused.returncode == 255 and time.monotonic() - t0 < 5, refused
        assert cluster.ssh(h1, "hostname").returncode == 0
        slot = cluster.slot
    assert nh.leftovers(slot) == {k: [] for k in nh.leftovers(slot)}
    assert _wait_until(lambda: all(_gone(p) for p in stray), timeout=5)


_CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {dir!r})
    import netns_hosts as nh
    with nh.netns_cluster(2, authorized_keys={mode!r}) as c:
        c.ssh(c.hosts[0], "nohup sleep 600 >/dev/null 2>&1 &", check=True)
        print(c.slot, flush=True)
        time.sleep(600)
    """
)


@pytest.mark.parametrize(
    ("sig", "mode"), [(signal.SIGTERM, "private"), (signal.SIGINT, "home"), (signal.SIGKILL, "home")]
)
def test_interrupted_or_killed_run_leaves_nothing(sig, mode):
    nh.check_available() and pytest.skip(nh.check_available())
    ak = Path("/root/.ssh/authorized_keys")

    def others():  # authorized_keys minus lines of netns runs (a parallel worker may have one in)
        return None if not ak.exists() else [ln for ln in ak.read_text().splitlines() if nh.KEY_MARKER not in ln]

    before = others()
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(dir=str(Path(__file__).parent), mode=mode)],
        stdout=subprocess.PIPE,
        text=True,
    )
    slot = int(child.stdout.readline())
    assert nh.leftovers(slot)["netns"]
    if mode == "home":
        assert any(line.endswith(nh._key_marker(slot)) for line in ak.read_text().splitlines())
    child.send_signal(sig)
    child.wait(30)
    if sig == signal.SIGKILL:  # nothing ran in the child: the next run's stale cleanup takes it
        assert nh.leftovers(slot)["netns"]
        with nh._state_lock():
            assert slot in nh.clean_stale()
    assert nh.leftovers(slot) == {k: [] for k in nh.leftovers(slot)}
    assert others() in (before, [] if before is None else before)
    assert _wait_until(
        lambda: (
            not [
                p
                for p in os.listdir("/proc")
                if p.isdigit() and "sleep 600" in nh._cmdline(int(p)) and not _gone(int(p))
            ]
        ),
        timeout=5,
    )
