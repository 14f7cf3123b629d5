"""The checkpoint workload's summary counts nodes, not hostnames (as mlps_harness.cluster does)."""

from __future__ import annotations

from mlps_harness.benchmarks.checkpointing.workload.results import (
    GIB,
    build_summary,
    collect_host_info,
    hosts_by_node,
    rank_node,
)


def host(name: str, memory_gb: float, boot: str | None = None) -> dict:
    return {"hostname": name, "boot_id": boot, "host_memory_GB": memory_gb, "host_cpu_count": 4,
            "host_processor_name": "", "host_cpuinfo": {}, "host_meminfo": {}}


def summary(infos: list[dict], nodes: list[str], bytes_per_rank: list[int]) -> dict:
    durations = {"save": [[1.0] * len(infos)], "load": []}
    return build_summary("s", "e", infos, nodes, sum(bytes_per_rank) / GIB, bytes_per_rank, durations, {})


def test_two_nodes_with_one_hostname_are_two_hosts():
    infos = [host("twin", 8.0, "a"), host("twin", 8.0, "a"), host("twin", 16.0, "b")]
    nodes = ["mpi-shm:0", "mpi-shm:0", "mpi-shm:2"]
    result = summary(infos, nodes, [GIB, GIB, 3 * GIB])
    assert result["num_hosts"] == 2
    assert result["num_accelerators"] == 3
    assert result["host_memory_GB"] == [8.0, 16.0]  # each node's memory, once
    assert result["data_size_per_host_GB"] == 3.0  # node 2's one rank, not 2+3 under one name
    assert result["potential_caching"] == [1, 1]


def test_ranks_of_one_node_count_once_whatever_their_order():
    infos = [host("a", 8.0), host("b", 4.0), host("a", 8.0), host("b", 4.0)]
    nodes = ["n:a", "n:b", "n:a", "n:b"]
    result = summary(infos, nodes, [GIB] * 4)
    assert result["num_hosts"] == 2 and result["host_memory_GB"] == [8.0, 4.0]
    assert result["data_size_per_host_GB"] == 2.0
    assert result["potential_caching"] == [1, 1]
    assert [h["hostname"] for h in hosts_by_node(infos, nodes)] == ["a", "b"]


def test_rank_node_prefers_the_shared_memory_split_then_boot_id():
    assert rank_node(host("twin", 1.0, "boot-1"), 3) == "mpi-shm:3"
    same_name = {rank_node(host("twin", 1.0, boot)) for boot in ("boot-1", "boot-2")}
    assert len(same_name) == 2  # no MPI split: boot id + hostname still tells the twins apart
    assert all("twin" in key for key in same_name)


def test_host_info_records_this_boot_id():
    info = collect_host_info()
    with open("/proc/sys/kernel/random/boot_id") as handle:
        assert info["boot_id"] == handle.read().strip()


def test_a_real_run_counts_one_node_and_its_rank_files_agree_with_the_summary(run_checkpoint_workload):
    import json

    from mlps_harness.dlio.rank_files import rank_file_consistency, read_rank_files

    run = run_checkpoint_workload("--num-checkpoints-write", "2", "--num-checkpoints-read", "2",
                                  "--size-scale", "0.0001", "--transfer-size", "256K", ranks=3)
    assert run.returncode == 0, run.stderr
    summary = json.loads((run.output_dir / "summary.json").read_text())
    assert summary["num_hosts"] == 1 and len(summary["host_memory_GB"]) == 1
    assert summary["workload"]["node_per_rank"] == ["mpi-shm:0"] * 3
    names = [p.name for p in run.output_dir.iterdir()]
    outputs, epochs, problems = read_rank_files(str(run.output_dir), names, "run")
    assert len(outputs) == len(epochs) == 3 and problems == []
    assert rank_file_consistency(summary, outputs, epochs, "run") == []
