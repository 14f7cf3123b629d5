"""Cluster information: real ``mpirun -n 2`` gathering, local and declared fallbacks, bad input."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mlps_harness.cluster import (
    declared_cluster_info,
    describe_filesystem,
    local_cluster_info,
    merge_host_reports,
    read_meminfo,
)
from mlps_harness.launch import MpiLaunchSpec, build_mpirun_argv

from .conftest import subprocess_env

SHM = Path("/dev/shm")


def _proc_meminfo_total_kb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    raise AssertionError("no MemTotal in /proc/meminfo")


def _st_dev(path: Path) -> str:
    device = os.stat(path).st_dev
    return f"{os.major(device)}:{os.minor(device)}"


def _run_cluster(args: list[str], mpi_ranks: int | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "mlps_harness.cluster", *args]
    if mpi_ranks:
        command = build_mpirun_argv(MpiLaunchSpec(num_ranks=mpi_ranks, hosts=f"127.0.0.1:{mpi_ranks}"),
                                    command)
    return subprocess.run(command, capture_output=True, text=True, env=subprocess_env(), timeout=90)


@pytest.mark.skipif(not SHM.is_dir(), reason="needs /dev/shm (tmpfs) as a second filesystem")
def test_two_ranks_under_mpirun_give_one_deduplicated_host(mpirun_path, tmp_path):
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    output = tmp_path / "out" / "cluster.json"
    completed = _run_cluster(["--data-dir", str(SHM), "--results-dir", str(results_dir),
                              "--output", str(output)], mpi_ranks=2)
    assert completed.returncode == 0, completed.stderr
    document = json.loads(output.read_text())
    assert document["source"] == "mpi" and document["num_ranks"] == 2
    assert document["warnings"] == []
    assert len(document["hosts"]) == 1
    host = document["hosts"][0]
    assert host["hostname"] == socket.gethostname()
    assert host["ranks"] == [0, 1]
    assert host["cpu_count"] == os.cpu_count()
    assert isinstance(host["cpu_model"], str)
    meminfo = host["meminfo_kB"]
    assert meminfo["MemTotal"] == _proc_meminfo_total_kb()
    assert len(meminfo) >= 20 and all(isinstance(value, int) for value in meminfo.values())
    assert abs(host["memory_total_bytes"] - meminfo["MemTotal"] * 1024) <= 0.01 * host["memory_total_bytes"]
    data_fs, results_fs = host["filesystems"]["data_dir"], host["filesystems"]["results_dir"]
    assert data_fs["fstype"] == "tmpfs" and data_fs["mount_point"] == "/dev/shm"
    assert results_fs["st_dev"] == _st_dev(results_dir)
    assert data_fs["st_dev"] != results_fs["st_dev"]
    assert results_fs["fstype"] and results_fs["device"] and results_fs["exists"] is True


def test_missing_results_dir_is_described_by_its_parent(tmp_path):
    info = describe_filesystem(tmp_path / "not" / "yet")
    assert info["exists"] is False
    assert info["st_dev"] == _st_dev(tmp_path)
    assert info["mount_point"] and Path(str(tmp_path)).as_posix().startswith(info["mount_point"].rstrip("/"))


def test_local_collector_without_mpi(tmp_path):
    document = local_cluster_info(tmp_path, tmp_path, warnings=["no MPI"])
    assert document["source"] == "local" and document["warnings"] == ["no MPI"]
    (host,) = document["hosts"]
    assert host["hostname"] == socket.gethostname()
    assert host["meminfo_kB"]["MemTotal"] == _proc_meminfo_total_kb()


def test_declared_fallback_builds_hosts_and_warns():
    document = declared_cluster_info(64, 3)
    assert document["source"] == "declared"
    assert len(document["hosts"]) == 3
    assert {host["memory_total_bytes"] for host in document["hosts"]} == {64 * 1024 ** 3}
    assert all(host["source"] == "declared" for host in document["hosts"])
    assert document["warnings"] and "declared, not measured" in document["warnings"][0]
    with pytest.raises(ValueError, match="--num-client-hosts"):
        declared_cluster_info(64, 0)


def test_cli_no_mpi_uses_declared_values_when_given(tmp_path):
    output = tmp_path / "c.json"
    completed = _run_cluster(["--data-dir", str(tmp_path), "--results-dir", str(tmp_path), "--output",
                              str(output), "--no-mpi", "--client-host-memory-gb", "16",
                              "--num-client-hosts", "2"])
    assert completed.returncode == 0, completed.stderr
    document = json.loads(output.read_text())
    assert document["source"] == "declared" and len(document["hosts"]) == 2
    assert "warning" in completed.stderr


@pytest.mark.parametrize("extra, option", [(["--num-client-hosts", "0"], "--num-client-hosts"),
                                           (["--client-host-memory-gb", "-1"], "--client-host-memory-gb")])
def test_cli_bad_values_exit_2_with_the_option_named(tmp_path, extra, option):
    completed = _run_cluster(["--data-dir", str(tmp_path), "--results-dir", str(tmp_path), "--output",
                              str(tmp_path / "c.json"), "--no-mpi", *extra])
    assert completed.returncode == 2
    assert option in completed.stderr and "Traceback" not in completed.stderr


def test_merge_keeps_one_entry_per_host_with_all_ranks():
    reports = [(2, {"hostname": "b"}), (0, {"hostname": "a"}), (1, {"hostname": "b"}),
               (3, {"hostname": "a"})]
    merged = merge_host_reports(reports)
    assert [(host["hostname"], host["ranks"]) for host in merged] == [("a", [0, 3]), ("b", [1, 2])]


def test_read_meminfo_parses_units_and_plain_counts(tmp_path):
    fake = tmp_path / "meminfo"
    fake.write_text("MemTotal:       16384 kB\nHugePages_Total:       4\nbroken line\n")
    assert read_meminfo(str(fake)) == {"MemTotal": 16384, "HugePages_Total": 4}
