"""Collect cluster information (memory, CPUs, filesystems) from every host.

``python -m mlps_harness.cluster --data-dir D --results-dir R --output F.json``
is meant to run under ``mpirun`` with one or more ranks per host.  Every rank
describes its host; rank 0 gathers them with mpi4py and keeps one entry per
node, a node being what MPI calls one: the ranks of one shared-memory split of
COMM_WORLD (``Split_type(COMM_TYPE_SHARED)``, as DLIO counts hosts), else the
boot id plus the hostname.  Two clients with the same hostname (containers,
cloned images) therefore stay two hosts, with a warning.  Rank 0 prints the
JSON on one stdout line after :data:`STDOUT_MARKER` (mpirun forwards it to
the launcher whatever host rank 0 runs on) and writes ``--output`` if given.  Without MPI the local host is described
(``source: "local"``), or, when ``--client-host-memory-gb`` and
``--num-client-hosts`` are given, hosts are built from those declared values
(``source: "declared"``).  Every fallback adds a warning.

JSON shape (a plain dict)::

    {
      "source": "mpi" | "local" | "declared",
      "collected_at": "<ISO 8601 UTC>",
      "num_ranks": <int, ranks that reported; 0 for declared>,
      "warnings": ["<text>", ...],
      "hosts": [
        {
          "hostname": "<str>",
          "node": "<str>",                     # identity: "mpi-shm:<lowest rank>" or "boot:<boot id>:<hostname>"
          "boot_id": "<str or null>",
          "ranks": [<int>, ...],               # MPI ranks on this host
          "memory_total_bytes": <int>,
          "meminfo_kB": {"MemTotal": <int>, "MemFree": <int>, ...},  # all /proc/meminfo fields
          "cpu_model": "<str>",
          "cpu_count": <int logical CPUs>,
          "cpu_count_physical": <int or null>,
          "filesystems": {
            "data_dir":    {"path", "resolved_path", "exists", "device", "fstype",
                            "mount_point", "st_dev"},
            "results_dir": {...same keys...}
          },
          "source": "mpi" | "local" | "declared"
        }, ...
      ]
    }

Declared hosts have ``meminfo_kB`` ``{"MemTotal": ...}`` only, ``cpu_model``
``""``, ``cpu_count`` ``null`` and empty ``filesystems``.
"""
from __future__ import annotations

import os
import platform
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import psutil

SOURCE_MPI = "mpi"
SOURCE_LOCAL = "local"
SOURCE_DECLARED = "declared"
STDOUT_MARKER = "MLPS_CLUSTER_JSON "  #: rank 0's stdout line carrying the document


def read_boot_id(path: str = "/proc/sys/kernel/random/boot_id") -> str | None:
    """This kernel's boot id (one per booted machine), or None where /proc does not have it."""
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def node_key(report: dict) -> str:
    """The identity of the node a host report comes from: MPI's shared-memory split, else boot id + hostname."""
    if report.get("node"):
        return str(report["node"])
    if report.get("boot_id"):
        return f"boot:{report['boot_id']}:{report.get('hostname')}"
    return f"hostname:{report.get('hostname')}"


def total_memory_bytes(document: dict) -> int:
    """Client memory of the whole cluster in bytes: the sum over the document's hosts (one per node)."""
    return sum(int(h.get("memory_total_bytes") or 0) for h in document.get("hosts") or [] if isinstance(h, dict))


def read_meminfo(path: str = "/proc/meminfo") -> dict[str, int]:
    """Return every /proc/meminfo field as an int (kB, or a plain count for HugePages_*)."""
    fields: dict[str, int] = {}
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                parts = rest.split()
                if name and parts and parts[0].isdigit():
                    fields[name.strip()] = int(parts[0])
    except OSError:
        pass
    return fields


def read_cpu_model(path: str = "/proc/cpuinfo") -> str:
    """Return the CPU model name from /proc/cpuinfo (falls back to platform.processor())."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model", "Processor"):
                    if value.strip():
                        return value.strip()
    except OSError:
        pass
    return platform.processor() or ""


def _unescape_mount_path(text: str) -> str:
    # /proc/self/mountinfo writes space, tab, newline and backslash as octal escapes.
    for escaped, plain in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        text = text.replace(escaped, plain)
    return text


def read_mountinfo(path: str = "/proc/self/mountinfo") -> list[dict[str, str]]:
    """Parse mountinfo into dicts with st_dev ("major:minor"), mount_point, fstype, device."""
    mounts = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                before, separator, after = line.partition(" - ")
                left, right = before.split(), after.split()
                if not separator or len(left) < 5 or len(right) < 2:
                    continue
                mounts.append({"st_dev": left[2], "mount_point": _unescape_mount_path(left[4]),
                               "fstype": right[0], "device": right[1]})
    except OSError:
        pass
    return mounts


def _existing_ancestor(path: Path) -> Path:
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def describe_filesystem(path: str | os.PathLike) -> dict[str, object]:
    """Describe the filesystem holding ``path`` (or its nearest existing parent)."""
    requested = Path(path).expanduser()
    resolved = Path(os.path.realpath(requested))
    probe = _existing_ancestor(resolved)
    info: dict[str, object] = {"path": str(requested), "resolved_path": str(resolved),
                               "exists": resolved.exists(), "device": None, "fstype": None,
                               "mount_point": None, "st_dev": None}
    try:
        st_dev = os.stat(probe).st_dev
        info["st_dev"] = f"{os.major(st_dev)}:{os.minor(st_dev)}"
    except OSError:
        st_dev = None
    candidates = read_mountinfo()
    if not candidates:  # no /proc: ask psutil
        candidates = [{"st_dev": None, "mount_point": part.mountpoint, "fstype": part.fstype,
                       "device": part.device} for part in psutil.disk_partitions(all=True)]

    def covers(mount_point: str) -> bool:
        return str(probe) == mount_point or str(probe).startswith(mount_point.rstrip("/") + "/")

    covering = [mount for mount in candidates if covers(mount["mount_point"])]
    same_device = [mount for mount in covering if mount["st_dev"] == info["st_dev"]]
    chosen_from = same_device or covering
    if chosen_from:
        # The longest covering mount point; for equal ones the last (topmost) mount wins.
        best = max(enumerate(chosen_from), key=lambda item: (len(item[1]["mount_point"]), item[0]))[1]
        info.update(device=best["device"], fstype=best["fstype"], mount_point=best["mount_point"])
    return info


def collect_local_host_info(data_dir: str | os.PathLike, results_dir: str | os.PathLike,
                            source: str = SOURCE_LOCAL) -> dict[str, object]:
    """Describe this host with psutil and /proc (no MPI needed)."""
    meminfo = read_meminfo()
    total = psutil.virtual_memory().total
    return {
        "hostname": socket.gethostname(),
        "boot_id": read_boot_id(),
        "ranks": [],
        "memory_total_bytes": int(total),
        "meminfo_kB": meminfo or {"MemTotal": int(total) // 1024},
        "cpu_model": read_cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "filesystems": {"data_dir": describe_filesystem(data_dir),
                        "results_dir": describe_filesystem(results_dir)},
        "source": source,
    }


def _document(source: str, hosts: list[dict], num_ranks: int, warnings: list[str]) -> dict:
    return {"source": source, "collected_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "num_ranks": num_ranks, "warnings": warnings, "hosts": hosts}


def local_cluster_info(data_dir: str | os.PathLike, results_dir: str | os.PathLike,
                       warnings: Sequence[str] = ()) -> dict:
    """Cluster document describing only this host (``source: "local"``)."""
    return _document(SOURCE_LOCAL, [collect_local_host_info(data_dir, results_dir)], 1, list(warnings))


def declared_cluster_info(client_host_memory_gb: float, num_client_hosts: int,
                          reason: str = "MPI collection was not possible") -> dict:
    """Cluster document built from declared memory x hosts (``source: "declared"``)."""
    if not client_host_memory_gb or client_host_memory_gb <= 0:
        raise ValueError(f"--client-host-memory-gb: expected a positive number, got {client_host_memory_gb!r}")
    if not num_client_hosts or num_client_hosts < 1:
        raise ValueError(f"--num-client-hosts: expected a positive integer, got {num_client_hosts!r}")
    memory_bytes = int(client_host_memory_gb * 1024 ** 3)
    hosts = [{"hostname": f"declared-host-{index}", "ranks": [], "memory_total_bytes": memory_bytes,
              "meminfo_kB": {"MemTotal": memory_bytes // 1024}, "cpu_model": "", "cpu_count": None,
              "cpu_count_physical": None, "filesystems": {}, "source": SOURCE_DECLARED}
             for index in range(num_client_hosts)]
    warning = (f"{reason}; host information is declared, not measured: {num_client_hosts} host(s) x "
               f"{client_host_memory_gb} GiB from --client-host-memory-gb/--num-client-hosts")
    return _document(SOURCE_DECLARED, hosts, 0, [warning])


def merge_host_reports(reports: Sequence[tuple[int, dict]]) -> list[dict]:
    """Keep one entry per node (:func:`node_key`; the lowest rank's report), recording all ranks per node."""
    by_node: dict[str, dict] = {}
    for rank, report in sorted(reports, key=lambda item: item[0]):
        entry = by_node.setdefault(node_key(report), dict(report, ranks=[]))
        entry["ranks"].append(rank)
    return list(by_node.values())


def shared_hostname_warnings(hosts: Sequence[dict]) -> list[str]:
    """A warning per hostname that several nodes share (each node is still counted)."""
    seen: dict[str, list[dict]] = {}
    for host in hosts:
        seen.setdefault(str(host.get("hostname")), []).append(host)
    return [f"{len(same)} hosts report the same hostname {name!r} (ranks "
            f"{'; '.join(','.join(map(str, h.get('ranks') or [])) for h in same)}); they are counted as "
            f"{len(same)} hosts because MPI places them on different nodes, but tools that count hostnames "
            "(and per-rank files) cannot tell them apart: give each client its own hostname"
            for name, same in seen.items() if len(same) > 1]


def _node_of(comm) -> str | None:
    """"mpi-shm:<lowest world rank of this rank's shared-memory group>", or None when the comm cannot split."""
    try:
        from mpi4py import MPI

        local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    except (ImportError, AttributeError, NotImplementedError):
        return None
    try:
        return f"mpi-shm:{local.allreduce(comm.Get_rank(), op=MPI.MIN)}"
    finally:
        local.Free()


def gather_cluster_info_mpi(data_dir: str | os.PathLike, results_dir: str | os.PathLike,
                            comm=None) -> dict | None:
    """Gather host reports to rank 0; rank 0 gets the document, other ranks None.

    Raises ImportError when mpi4py (or the MPI library) is unavailable.
    """
    if comm is None:
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
    report = collect_local_host_info(data_dir, results_dir, source=SOURCE_MPI)
    report["node"] = _node_of(comm) or node_key(report)
    gathered = comm.gather((comm.Get_rank(), report), root=0)
    if comm.Get_rank() != 0:
        return None
    hosts = merge_host_reports(gathered)
    warnings = shared_hostname_warnings(hosts)
    if comm.Get_size() == 1 and not any(key.startswith(("OMPI_COMM_WORLD", "PMI_", "PMIX_"))
                                        for key in os.environ):
        warnings.append("not started by mpirun: only this host is described")
    return _document(SOURCE_MPI, hosts, comm.Get_size(), warnings)


def compare_with_declared(document: dict, client_host_memory_gb: float | None,
                          num_client_hosts: int | None) -> None:
    """Append warnings when measured hosts/memory disagree with declared values."""
    hosts = document["hosts"]
    if num_client_hosts and len(hosts) != num_client_hosts:
        document["warnings"].append(
            f"--num-client-hosts says {num_client_hosts} but {len(hosts)} host(s) reported")
    if client_host_memory_gb:
        for host in hosts:
            measured_gb = host["memory_total_bytes"] / 1024 ** 3
            if abs(measured_gb - client_host_memory_gb) > 0.25 * client_host_memory_gb:
                document["warnings"].append(
                    f"{host['hostname']}: measured {measured_gb:.1f} GiB memory but "
                    f"--client-host-memory-gb is {client_host_memory_gb}")


def host_count_warning(document: dict, expected: int | None, source: str) -> str | None:
    """A warning when the collected host count differs from what `source` (e.g. "--hosts", DLIO's num_hosts) says."""
    collected = len(document.get("hosts") or [])
    if not expected or document.get("source") != SOURCE_MPI or collected == expected:
        return None
    names = ", ".join(sorted({str(h.get("hostname")) for h in document.get("hosts") or []}))
    return (f"{collected} host(s) collected over MPI ({names}) but {source} says {expected}; the datasize and the "
            "host-count rules use the collected figure: check that every host in --hosts got a rank "
            "(as many ranks as hosts at least) and that no two of them are the same machine")
