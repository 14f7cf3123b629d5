"""Latency, throughput, recall and disk I/O statistics with upstream key names."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from .querying import BatchLog

SECTOR_BYTES = 512
DISKSTATS = Path("/proc/diskstats")


def latency_statistics(logs: Sequence[BatchLog]) -> dict[str, float | int]:
    """``statistics.json`` timing keys; each query gets its batch's average latency."""
    starts = np.concatenate([np.asarray(log.timestamps, dtype=float) for log in logs])
    seconds = np.concatenate([np.asarray(log.seconds, dtype=float) for log in logs])
    sizes = np.concatenate([np.asarray(log.sizes, dtype=int) for log in logs])
    ok = np.concatenate([np.asarray(log.success, dtype=bool) for log in logs])
    stats: dict[str, float | int] = {
        "total_queries": int(sizes[ok].sum()) if len(sizes) else 0,
        "failed_queries": int(sizes[~ok].sum()) if len(sizes) else 0,
        "total_time_seconds": float((starts + seconds).max() - starts.min()) if len(starts) else 0.0,
    }
    if not ok.any():
        return stats
    per_query_ms = np.repeat(seconds[ok] / sizes[ok], sizes[ok]) * 1000.0
    for name, value in _distribution(per_query_ms, ("p95", "p99", "p999", "p9999")).items():
        stats[f"{name}_latency_ms"] = value
    total_time = float(stats["total_time_seconds"])
    stats["throughput_qps"] = float(stats["total_queries"]) / total_time if total_time > 0 else 0.0
    stats["batch_count"] = int(ok.sum())
    for name, value in _distribution(seconds[ok] * 1000.0, ("p95", "p99")).items():
        stats[f"{name}_batch_time_ms"] = value
    return stats


_PERCENTILES = {"p95": 95.0, "p99": 99.0, "p999": 99.9, "p9999": 99.99}


def _distribution(values: np.ndarray, percentiles: Iterable[str]) -> dict[str, float]:
    result = {
        "min": float(values.min()),
        "max": float(values.max()),
        "mean": float(values.mean()),
        "median": float(np.median(values)),
    }
    for name in percentiles:
        result[name] = float(np.percentile(values, _PERCENTILES[name]))
    return result


def recall_statistics(results: dict[int, list[int]], ground_truth: np.ndarray, k: int) -> dict[str, float | int]:
    """``recall_stats.json``: recall@k = |ANN top-k ∩ exact top-k| / k per query."""
    recalls = []
    for query_index, found in sorted(results.items()):
        truth = set(ground_truth[query_index, :k].tolist())
        recalls.append(len(truth.intersection(found[:k])) / float(k))
    if not recalls:
        return {"recall_at_k": 0.0, "num_queries_evaluated": 0, "k": k}
    values = np.asarray(recalls)
    return {
        "recall_at_k": float(values.mean()),
        "num_queries_evaluated": len(recalls),
        "k": k,
        "min_recall": float(values.min()),
        "max_recall": float(values.max()),
        "mean_recall": float(values.mean()),
        "median_recall": float(np.median(values)),
        "p95_recall": float(np.percentile(values, 95)),
        "p99_recall": float(np.percentile(values, 99)),
    }


def read_diskstats() -> dict[str, dict[str, int]]:
    """Current ``/proc/diskstats`` counters by device name (empty if unavailable)."""
    try:
        text = DISKSTATS.read_text()
    except OSError:
        return {}
    devices = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 10:
            continue
        devices[fields[2]] = {
            "major": int(fields[0]), "minor": int(fields[1]),
            "reads_completed": int(fields[3]), "sectors_read": int(fields[5]),
            "writes_completed": int(fields[7]), "sectors_written": int(fields[9]),
        }
    return devices


def devices_for_path(path: Optional[str], snapshot: dict[str, dict[str, int]]) -> tuple[list[str], str]:
    """Devices to report: the one holding ``path`` if found, else every whole disk."""
    if path:
        try:
            st_dev = os.stat(path).st_dev
            wanted = (os.major(st_dev), os.minor(st_dev))
            for name, counters in snapshot.items():
                if (counters["major"], counters["minor"]) == wanted:
                    return [name], "data_dir_device"
        except OSError:
            pass
    whole_disks = [name for name in snapshot
                   if Path("/sys/block", name).exists() and not name.startswith(("loop", "ram", "zram"))]
    return whole_disks, "all_block_devices"


def format_bytes(count: float) -> str:
    """Human-readable byte count (binary units)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.2f} {unit}"
        count /= 1024.0
    return f"{count:.2f} TiB"


def disk_io_delta(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]],
                  devices: list[str], elapsed_s: float, selection: str) -> dict[str, object]:
    """The ``disk_io`` block of ``statistics.json`` for ``devices`` between two snapshots."""
    per_device = {}
    total_read = total_written = 0
    for name in devices:
        if name not in before or name not in after:
            continue
        read = (after[name]["sectors_read"] - before[name]["sectors_read"]) * SECTOR_BYTES
        written = (after[name]["sectors_written"] - before[name]["sectors_written"]) * SECTOR_BYTES
        per_device[name] = {
            "bytes_read": read,
            "bytes_written": written,
            "reads_completed": after[name]["reads_completed"] - before[name]["reads_completed"],
            "writes_completed": after[name]["writes_completed"] - before[name]["writes_completed"],
        }
        total_read += read
        total_written += written
    return {
        "device_selection": selection,
        "elapsed_seconds": elapsed_s,
        "total_bytes_read": total_read,
        "total_bytes_read_per_sec": total_read / elapsed_s if elapsed_s > 0 else 0.0,
        "total_bytes_written": total_written,
        "total_bytes_written_per_sec": total_written / elapsed_s if elapsed_s > 0 else 0.0,
        "total_bytes_read_formatted": format_bytes(total_read),
        "total_bytes_written_formatted": format_bytes(total_written),
        "devices": per_device,
    }
