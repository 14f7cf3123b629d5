"""configview and datasize for the checkpointing suite: the workload options each invocation would use, and the
bytes the checkpoint folder and each host see (upstream's `checkpointing datasize`)."""

from __future__ import annotations

from typing import Any

import yaml

GIB = 1024 ** 3


def location(options: Any) -> str:
    """Where the shards go: the checkpoint folder, or the bucket and prefix in object mode."""
    if options.storage == "object":
        return f"s3://{options.s3_bucket}/{options.object_prefix} at {options.s3_endpoint or 'AWS'}"
    return str(options.checkpoint_folder)


def configview_lines(plan: Any) -> list[str]:
    """Header lines: the checkpoint workload options of every planned invocation."""
    lines = []
    for inv in plan.invocations:
        record = {**plan.options.as_record(), "num_checkpoints_write": inv.writes, "num_checkpoints_read": inv.reads,
                  "num_processes": plan.num_processes, "hosts": plan.hosts}
        lines.append(f"configview: {inv.slot} (checkpoint workload options):")
        lines += [f"    {line}" for line in yaml.safe_dump(record, sort_keys=False).rstrip().splitlines()]
    return lines


def datasize(plan: Any) -> dict[str, Any]:
    """The checkpoint's size and what it takes from the folder and from each host, with the inputs used."""
    from mlps_harness.benchmarks.checkpointing.workload.sizing import plan_checkpoint

    sized = plan_checkpoint(plan.model, plan.num_processes, subset=plan.options.subset,
                            size_scale=plan.options.size_scale)
    hosts = plan.hosts or ["127.0.0.1"]
    per_host: dict[str, int] = {}
    for shard in sized.shards:          # ranks go round-robin to hosts, as mpirun places them
        host = hosts[shard.rank % len(hosts)]
        per_host[host] = per_host.get(host, 0) + shard.total_bytes
    writes = sum(inv.writes for inv in plan.invocations)
    reads = sum(inv.reads for inv in plan.invocations)
    largest_host = max(per_host.values()) if per_host else 0
    memory = plan.memory_gb_per_host
    return {
        "inputs": {"model": plan.model, "num_processes": plan.num_processes, "subset": sized.subset,
                   "size_scale": plan.options.size_scale, "hosts": hosts, "writes": writes, "reads": reads,
                   "client_host_memory_gb": memory},
        "checkpoint_bytes": sized.total_bytes,
        "bytes_per_rank": {shard.rank: shard.total_bytes for shard in sized.shards},
        "bytes_per_host": per_host,
        "folder_bytes_needed": sized.total_bytes * writes,
        "bytes_written": sized.total_bytes * writes, "bytes_read": sized.total_bytes * reads,
        #: rules: a host whose memory exceeds 3x its share of a checkpoint must drop its page cache before reads
        "cache_clearing_needed": (memory * GIB > 3 * largest_host) if memory else None,
    }


def datasize_lines(size: dict[str, Any]) -> list[str]:
    """The datasize figure with its inputs, for the datasize stage's output."""
    inputs = size["inputs"]
    lines = [f"inputs: model {inputs['model']}, {inputs['num_processes']} process(es)"
             f"{' (subset mode)' if inputs['subset'] else ''}, size scale {inputs['size_scale']:g}, "
             f"{inputs['writes']} write(s) + {inputs['reads']} read(s), hosts {','.join(inputs['hosts'])}",
             f"checkpoint: {size['checkpoint_bytes']} bytes ({size['checkpoint_bytes'] / GIB:.3f} GiB)",
             f"checkpoint folder needs {size['folder_bytes_needed']} bytes free "
             f"({size['folder_bytes_needed'] / GIB:.3f} GiB); {size['bytes_read']} bytes read back"]
    lines += [f"host {host}: {count} bytes per checkpoint" for host, count in size["bytes_per_host"].items()]
    if size["cache_clearing_needed"] is not None:
        lines.append(f"page cache must be dropped before reads: {'yes' if size['cache_clearing_needed'] else 'no'} "
                     f"({inputs['client_host_memory_gb']:g} GiB per host vs 3x the largest host share)")
    return lines
