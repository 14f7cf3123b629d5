"""Facts about a run that several rules need, each with where it came from."""

from __future__ import annotations

import os
from collections.abc import Iterator

from mlps_harness.argtypes import ascii_whole
from mlps_harness.model import Run
from mlps_harness.outcomes import Finding, NotApplicable, closed, invalid, warning

GIB = 1024 ** 3


def cluster_memory(run: Run) -> tuple[int | None, str]:
    """Total client memory in bytes and its source: measured cluster info, DLIO's summary, or declared args."""
    info = run.metadata.cluster_information if run.metadata else None
    if isinstance(info, dict) and info.get("source") in ("mpi", "local"):
        hosts = info.get("hosts") or []
        total = sum(int(h.get("memory_total_bytes") or 0) for h in hosts if isinstance(h, dict))
        if total > 0:
            return total, f"cluster information collected over {info.get('source')} ({len(hosts)} host(s))"
    system_info = ((run.metadata.model_extra or {}) if run.metadata else {}).get("system_info")
    total = system_info.get("total_memory_bytes") if isinstance(system_info, dict) else None
    if isinstance(total, int) and not isinstance(total, bool) and total > 0:
        return total, f"{run.metadata_file} system_info.total_memory_bytes ({system_info.get('num_hosts')} host(s))"
    if run.summary and run.summary.host_memory_GB:
        return int(sum(run.summary.host_memory_GB) * GIB), "summary.json host_memory_GB"
    staged = _cluster_info_memory(run)
    if staged is not None:
        return staged
    args = run.metadata.args if run.metadata else None
    if args and args.client_host_memory_in_gb:
        hosts = args.num_client_hosts or max(len(args.host_list), 1)
        return int(args.client_host_memory_in_gb * GIB * hosts), "declared --client-host-memory-in-gb"
    return None, "no memory information"


CLUSTER_INFO = "collector-staging/cluster_info.json"   #: the v3.0 tool's per-host collector output


def meminfo_kib(value: object) -> int | None:
    """A `/proc/meminfo` field as recorded (`123456`, or the text `"123456 kB"`) in KiB; None for anything else,
    including a negative or absurd (over `argtypes.MAX_DIGITS` digits) number."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    words = value.split() if isinstance(value, str) else []
    return ascii_whole(words[0]) if words else None


def _cluster_info_memory(run: Run) -> tuple[int, str] | None:
    """Total MemTotal (kB) over the hosts of `collector-staging/cluster_info.json`, in bytes, with its source."""
    from mlps_harness.loader.safe_io import read_json

    entry = next((f for f in run.files if f.name == "collector-staging" and f.kind == "dir"), None)
    if entry is None or "cluster_info.json" not in entry.children:
        return None
    data, problem = read_json(os.path.join(run.ref.path, CLUSTER_INFO), f"{run.run_id}/{CLUSTER_INFO}")
    if problem is not None or not isinstance(data, dict):
        return None
    totals = []
    for host in data.values():
        mem = meminfo_kib(host.get("meminfo", {}).get("MemTotal") if isinstance(host, dict) and
                          isinstance(host.get("meminfo"), dict) else None)
        if mem is not None and mem > 0:
            totals.append(mem * 1024)
    if not totals:
        return None
    return sum(totals), f"{CLUSTER_INFO} meminfo.MemTotal ({len(totals)} host(s))"


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
    its mount point, or None when they differ. `NotApplicable` when the run did not record filesystems.

    The v3.0 tool's `fs_separation.json` (`same_filesystem`) counts as a record."""
    same, detail, _ = fs_separation(run)
    if same is not None:
        return detail if same else None
    fs = filesystems(run)
    if not fs or not isinstance(fs.get("data_dir"), dict) or not isinstance(fs.get("results_dir"), dict):
        raise NotApplicable("filesystem information not recorded")
    data, results = fs["data_dir"], fs["results_dir"]
    key = "st_dev" if data.get("st_dev") is not None else "device"
    if data.get(key) is not None and data.get(key) == results.get(key):
        return str(data.get("mount_point") or data.get("device"))
    return None


FS_SEPARATION = "fs_separation.json"   #: the v3.0 tool's probe: are the data (or checkpoint) and results dirs apart?


def fs_separation(run: Run) -> tuple[bool | None, str, str]:
    """(same_filesystem, detail, file) from the run's `fs_separation.json`; same_filesystem is None when the file is
    absent or does not hold a boolean `same_filesystem` (detail says which)."""
    from mlps_harness.loader.safe_io import read_json

    shown = f"{run.run_id}/{FS_SEPARATION}"
    if FS_SEPARATION not in run.file_names():
        return None, f"no {FS_SEPARATION}", shown
    data, problem = read_json(os.path.join(run.ref.path, FS_SEPARATION), shown)
    if problem is not None or not isinstance(data, dict) or not isinstance(data.get("same_filesystem"), bool):
        return None, f"{shown} is unreadable or records no boolean same_filesystem", shown
    method = data.get("method") or "unknown method"
    paths = f"{data.get('data_or_chkpt_realpath') or data.get('data_or_chkpt_path')} vs " \
            f"{data.get('results_realpath') or data.get('results_path')}"
    return data["same_filesystem"], f"{paths}, probed by {method}", shown


def separation_evidence(run: Run) -> tuple[bool, str, str] | None:
    """(same filesystem?, detail, source) from fs_separation.json, else our cluster information; None if neither."""
    same, detail, shown = fs_separation(run)
    if same is not None:
        return same, detail, shown
    fs = filesystems(run)
    if fs and isinstance(fs.get("data_dir"), dict) and isinstance(fs.get("results_dir"), dict):
        data, results = fs["data_dir"], fs["results_dir"]
        key = "st_dev" if data.get("st_dev") is not None else "device"
        same_dev = data.get(key) is not None and data.get(key) == results.get(key)
        where = str(data.get("mount_point") or data.get("device"))
        return same_dev, (f"both on {where}" if same_dev else f"{where} vs {results.get('mount_point')}"), \
            f"{run.run_id}/{run.metadata_file} cluster_information"
    return None


def fs_separation_findings(run: Run, missing: str, subject: str) -> Iterator[Finding]:
    """3.4.2 / 4.4.2: `subject` and the results dir on different filesystems. Without evidence: a reviewer's
    warning (`missing == "warning"`, the v3.0 round) or not applicable."""
    evidence = separation_evidence(run)
    if evidence is None:
        if missing != "warning":
            raise NotApplicable("filesystem information not recorded")
        yield warning(f"no filesystem-separation evidence: {FS_SEPARATION} is missing and no filesystems were "
                      "recorded", parameter=FS_SEPARATION, expected="present", actual="absent",
                      file=f"{run.run_id}/{FS_SEPARATION}",
                      fix="run with a tool version that writes fs_separation.json, or document the mounts")
        return
    same, detail, source = evidence
    if same:
        yield invalid(f"{subject} and the results dir share one filesystem ({detail})", parameter=subject,
                      expected="different filesystems", actual=detail, file=source,
                      fix=f"put {subject} on the storage under test and the results on another filesystem")
    else:
        yield closed(f"{subject} and the results dir are on different filesystems ({detail})", parameter=subject,
                     actual=detail, file=source)
