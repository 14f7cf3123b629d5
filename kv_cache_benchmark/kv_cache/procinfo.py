"""Process facts: time since launch and peak resident set size."""
from __future__ import annotations

import os
import resource
import time


def _process_start_offset_s() -> float | None:
    """Seconds between process launch and now, from /proc (Linux only)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


_OFFSET_AT_IMPORT = _process_start_offset_s()
_PERF_AT_IMPORT = time.perf_counter()


def seconds_since_process_start(perf_time: float) -> float:
    """Convert a ``time.perf_counter()`` instant into seconds since launch."""
    offset = _OFFSET_AT_IMPORT if _OFFSET_AT_IMPORT is not None else 0.0
    return offset + (perf_time - _PERF_AT_IMPORT)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
