"""Facts about a run that several rules need, each with where it came from."""

from __future__ import annotations

from mlps_harness.model import Run

GIB = 1024 ** 3


def cluster_memory(run: Run) -> tuple[int | None, str]:
    """Total client memory in bytes and its source: measured cluster info, DLIO's summary, or declared args."""
    info = run.metadata.cluster_information if run.metadata else None
    if isinstance(info, dict) and info.get("source") in ("mpi", "local"):
        hosts = info.get("hosts") or []
        total = sum(int(h.get("memory_total_bytes") or 0) for h in hosts if isinstance(h, dict))
        if total > 0:
            return total, f"cluster information collected over {info.get('source')} ({len(hosts)} host(s))"
    if run.summary and run.summary.host_memory_GB:
        return int(sum(run.summary.host_memory_GB) * GIB), "summary.json host_memory_GB"
    args = run.metadata.args if run.metadata else None
    if args and args.client_host_memory_in_gb:
        hosts = args.num_client_hosts or max(len(args.host_list), 1)
        return int(args.client_host_memory_in_gb * GIB * hosts), "declared --client-host-memory-in-gb"
    return None, "no memory information"


def host_count(run: Run) -> int | None:
    """Number of client hosts that ran the benchmark."""
    if run.summary and run.summary.num_hosts:
        return run.summary.num_hosts
    args = run.metadata.args if run.metadata else None
    if args and args.host_list:
        return len(set(args.host_list))
    return None


def filesystems(run: Run) -> dict[str, dict] | None:
    """Filesystems of the data dir and results dir per host, from our cluster information."""
    info = run.metadata.cluster_information if run.metadata else None
    if not isinstance(info, dict):
        return None
    hosts = info.get("hosts") or []
    fs = [h.get("filesystems") for h in hosts if isinstance(h, dict) and isinstance(h.get("filesystems"), dict)]
    return fs[0] if fs else None


def shared_filesystem(run: Run) -> str | None:
    """Where the data dir (or cache dir, checkpoint folder, engine storage) and the results dir share one filesystem:
    its mount point, or None when they differ. `NotApplicable` when the run did not record filesystems."""
    from mlps_harness.outcomes import NotApplicable

    fs = filesystems(run)
    if not fs or not isinstance(fs.get("data_dir"), dict) or not isinstance(fs.get("results_dir"), dict):
        raise NotApplicable("filesystem information not recorded")
    data, results = fs["data_dir"], fs["results_dir"]
    key = "st_dev" if data.get("st_dev") is not None else "device"
    if data.get(key) is not None and data.get(key) == results.get(key):
        return str(data.get("mount_point") or data.get("device"))
    return None
