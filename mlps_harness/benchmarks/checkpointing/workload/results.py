"""Result files in the upstream DLIO checkpointing formats, plus our own ``workload`` block.

Written per run: ``summary.json`` (rank 0), ``<rank>_output.json`` and
``<rank>_per_epoch_stats.json`` (every rank), ``dlio_config/{config,hydra,overrides}.yaml``
and ``dlio.log`` (rank 0). Metric semantics: per checkpoint, duration is the
maximum over ranks and throughput is checkpoint_size_GB / that duration; the
summary reports mean and population stdev over checkpoints.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
from datetime import datetime
from pathlib import Path

import yaml

from mlps_harness.cluster.collect import node_key, read_boot_id

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
GIB = 1 << 30
PHASES = ("save", "load")


def timestamp(moment: datetime | None = None) -> str:
    """Upstream timestamp text (always with microseconds)."""
    return (moment or datetime.now()).strftime(TIME_FORMAT)


def _read_key_value_file(path: str, stop_at_blank: bool = False) -> dict[str, str]:
    entries: dict[str, str] = {}
    try:
        with open(path) as handle:
            for line in handle:
                if stop_at_blank and not line.strip():
                    break
                if ":" in line:
                    key, value = line.split(":", 1)
                    entries[key.strip()] = value.strip()
    except OSError:
        pass
    return entries


def collect_host_info() -> dict:
    """This host's name, boot id, memory, CPU count and /proc snapshots (upstream key names)."""
    meminfo = _read_key_value_file("/proc/meminfo")
    cpuinfo = _read_key_value_file("/proc/cpuinfo", stop_at_blank=True)
    cpuinfo.pop("processor", None)
    total_kb = int(meminfo.get("MemTotal", "0 kB").split()[0])
    return {
        "hostname": socket.gethostname(),
        "boot_id": read_boot_id(),
        "host_memory_GB": total_kb / (1 << 20),
        "host_cpu_count": os.cpu_count() or 0,
        "host_processor_name": "",
        "host_cpuinfo": cpuinfo,
        "host_meminfo": meminfo,
    }


def rank_node(host: dict, shared_memory_leader: int | None = None) -> str:
    """The node a rank runs on, as :mod:`mlps_harness.cluster` identifies nodes: the lowest world rank of its
    shared-memory split of COMM_WORLD when MPI gave one, else boot id + hostname (never the hostname alone)."""
    if shared_memory_leader is not None:
        return f"mpi-shm:{shared_memory_leader}"
    return node_key(host)


def hosts_by_node(rank_infos: list[dict], rank_nodes: list[str]) -> list[dict]:
    """One host info per node (the lowest rank's), ordered by the first rank on each node.

    Two nodes with the same hostname stay two hosts; ranks of one node count once."""
    if len(rank_infos) != len(rank_nodes):
        raise ValueError(f"{len(rank_infos)} host infos but {len(rank_nodes)} node ids")
    first: dict[str, dict] = {}
    for info, node in zip(rank_infos, rank_nodes):
        first.setdefault(node, info)
    return list(first.values())


def phase_metrics(phase: str, durations_by_checkpoint: list[list[float]], size_GB: float) -> dict:
    """Summary metrics of one phase; ``durations_by_checkpoint[k]`` holds every rank's duration."""
    if not durations_by_checkpoint:
        return {}
    durations = [max(per_rank) for per_rank in durations_by_checkpoint]
    throughputs = [size_GB / d if d > 0 else 0.0 for d in durations]
    return {
        f"{phase}_checkpoint_io_mean_GB_per_second": statistics.fmean(throughputs),
        f"{phase}_checkpoint_io_stdev_GB_per_second": statistics.pstdev(throughputs),
        f"{phase}_checkpoint_duration_mean_seconds": statistics.fmean(durations),
        f"{phase}_checkpoint_duration_stdev_seconds": statistics.pstdev(durations),
    }


def _write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=4))


def write_rank_files(
    output_dir: Path, rank: int, host: dict, run_start: str, run_end: str,
    records: dict[str, dict], potential_caching: int, rank_workload: dict,
) -> None:
    """``<rank>_per_epoch_stats.json`` and ``<rank>_output.json`` for one rank."""
    epoch = {"start": run_start, **records, "end": run_end}
    _write_json(output_dir / f"{rank}_per_epoch_stats.json", {"1": epoch})
    output = {
        "host_memory_GB": host["host_memory_GB"],
        "host_cpu_count": host["host_cpu_count"],
        "host_processor_name": host["host_processor_name"],
        "potential_caching": potential_caching,
        "host_cpuinfo": host["host_cpuinfo"],
        "host_meminfo": host["host_meminfo"],
        "1": {"start": run_start, "load": {}, "proc": {}, "throughput": {}, "au": {},
              "compute": {}, "end": run_end},
        "hostname": host["hostname"],
        "workload": rank_workload,
    }
    _write_json(output_dir / f"{rank}_output.json", output)


def build_summary(
    start: str, end: str, rank_infos: list[dict], rank_nodes: list[str], checkpoint_size_GB: float,
    bytes_per_rank: list[int], durations: dict[str, list[list[float]]], workload: dict,
) -> dict:
    """The summary.json payload from every rank's host info and node id (:func:`rank_node`);
    hosts are nodes, ordered by the first rank on each (see :func:`hosts_by_node`)."""
    metric: dict = {}
    for phase in PHASES:
        metric.update(phase_metrics(phase, durations.get(phase, []), checkpoint_size_GB))
    metric["checkpoint_size_GB"] = checkpoint_size_GB
    hosts = hosts_by_node(rank_infos, rank_nodes)
    nodes = list(dict.fromkeys(rank_nodes))
    bytes_per_host = [0] * len(hosts)
    for rank, node in enumerate(rank_nodes):
        bytes_per_host[nodes.index(node)] += bytes_per_rank[rank]
    data_per_host_GB = [b / GIB for b in bytes_per_host]
    return {
        "start": start,
        "num_accelerators": len(rank_nodes),
        "num_hosts": len(hosts),
        "hostname": hosts[0]["hostname"],
        "metric": metric,
        "num_files_train": 0,
        "num_files_eval": 0,
        "num_samples_per_file": 1,
        "host_cpu_count": [host["host_cpu_count"] for host in hosts],
        "host_processor_name": hosts[0]["host_processor_name"],
        "potential_caching": [
            int(host["host_memory_GB"] > size) for host, size in zip(hosts, data_per_host_GB)
        ],
        "host_cpuinfo": hosts[0]["host_cpuinfo"],
        "host_meminfo": hosts[0]["host_meminfo"],
        "host_memory_GB": [host["host_memory_GB"] for host in hosts],
        "data_size_per_host_GB": max(data_per_host_GB),
        "epochs": 0,
        "end": end,
        "workload": workload,
    }


def write_summary(output_dir: Path, summary: dict) -> None:
    """Write summary.json."""
    _write_json(output_dir / "summary.json", summary)


def write_dlio_config(output_dir: Path, workload: dict) -> None:
    """``dlio_config/{config,hydra,overrides}.yaml`` describing the run as upstream overrides."""
    config_dir = output_dir / "dlio_config"
    config_dir.mkdir(exist_ok=True)
    parallelism = {
        "pipeline": workload["pipeline_parallelism"],
        "tensor": workload["tensor_parallelism"],
        "zero_stage": workload["zero_stage"],
    }
    checkpoint = {
        "checkpoint_folder": workload["checkpoint_folder"],
        "time_between_checkpoints": workload["time_between_checkpoints"],
        "num_checkpoints_write": workload["num_checkpoints_write"],
        "num_checkpoints_read": workload["num_checkpoints_read"],
        "fsync": workload["fsync"],
    }
    overrides = [
        f"workload={workload['workload_config']}",
        f"++workload.checkpoint.num_checkpoints_read={workload['num_checkpoints_read']}",
        f"++workload.checkpoint.num_checkpoints_write={workload['num_checkpoints_write']}",
        f"++workload.checkpoint.checkpoint_folder={workload['checkpoint_folder']}",
    ]
    if workload["subset"]:
        checkpoint["mode"] = "subset"
        parallelism["data"] = workload["data_parallelism"]
        overrides += ["++workload.checkpoint.mode=subset",
                      f"++workload.model.parallelism.data={workload['data_parallelism']}"]
    config = {"workload": {
        "model": {"name": workload["dlio_model_name"], "type": "transformer",
                  "model_datatype": "fp16", "optimizer_datatype": "fp32", "parallelism": parallelism},
        "framework": "pytorch",
        "workflow": {"generate_data": False, "train": False, "checkpoint": True},
        "checkpoint": checkpoint,
    }}
    hydra = {"hydra": {"run": {"dir": str(output_dir)}, "output_subdir": "dlio_config",
                       "overrides": {"hydra": [], "task": overrides},
                       "runtime": {"output_dir": str(output_dir)}}}
    header = "# written by the mlps_harness checkpoint workload (DLIO-compatible layout)\n"
    for name, payload in (("config.yaml", config), ("hydra.yaml", hydra), ("overrides.yaml", overrides)):
        (config_dir / name).write_text(header + yaml.safe_dump(payload, sort_keys=False))


def metric_report_lines(num_ranks: int, metric: dict) -> list[str]:
    """The closing [METRIC] block of dlio.log."""
    lines = ["[OUTPUT] Averaged metric over all checkpoints",
             "[METRIC] ==========================================================",
             f"[METRIC] Number of Simulated Accelerators: {num_ranks} "]
    for phase, label in (("save", "save"), ("load", "load")):
        if f"{phase}_checkpoint_duration_mean_seconds" not in metric:
            continue
        lines.append(
            f"[METRIC] Checkpoint {label} duration (seconds): "
            f"{metric[f'{phase}_checkpoint_duration_mean_seconds']:.4f} "
            f"({metric[f'{phase}_checkpoint_duration_stdev_seconds']:.4f})")
        lines.append(
            f"[METRIC] Checkpoint {label} I/O Throughput (GB/second): "
            f"{metric[f'{phase}_checkpoint_io_mean_GB_per_second']:.4f} "
            f"({metric[f'{phase}_checkpoint_io_stdev_GB_per_second']:.4f})")
    lines.append("[METRIC] ==========================================================")
    return lines
