"""Faults a launch cannot survive, recognised while it runs, and evidence for what killed a process.

A rank that hits a full disk (ENOSPC), a read-only or over-quota file system, or an I/O error usually logs the
error and then waits forever in a collective while the other ranks wait for it; `watch_line` recognises such a
line so the runner can end the whole job within seconds and record the real cause ("no space left on <dir>").
A SIGKILL is reported as such; it is blamed on the out-of-memory killer only with evidence (the cgroup's
`memory.events` oom_kill counter went up during the run, or the program said it could not allocate memory).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Fault:
    """A fatal condition seen in a launch's output."""

    cause: str   #: short, for the incomplete marker: "no space left on /mnt/data"
    hint: str    #: what to do about it
    line: str    #: the output line it was read from
    located: bool = True   #: False when the line named no path (the cause says "the device")

    def locate(self, directories: "list[str | os.PathLike]") -> "Fault":
        """When the line named no path: the fault again, naming the full one of `directories` if one is full."""
        if self.located or not self.cause.startswith("no space left"):
            return self
        full = [str(d) for d in directories if _nearly_full(d)]
        if not full:
            return self
        where = " or ".join(dict.fromkeys(full))
        return Fault(self.cause.replace("the device", where), self.hint.replace("the device", where),
                     self.line, True)


def _nearly_full(directory: "str | os.PathLike") -> bool:
    """The file system holding `directory` has less than 1 MiB or 0.5 % free (statvfs; False if unreadable)."""
    path = Path(directory)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        stats = os.statvfs(path)
    except OSError:
        return False
    free, total = stats.f_bavail * stats.f_frsize, stats.f_blocks * stats.f_frsize
    return total > 0 and (free < 1 << 20 or free < total * 0.005)


_PATH = r"(?::\s*'(?P<path>[^']+)')?"
_FATAL: list[tuple[re.Pattern, str, str]] = [
    (re.compile(r"\[Errno 28\] No space left on device" + _PATH + r"|No space left on device|ENOSPC"),
     "no space left on {where}",
     "free space on {where} (or point the option that names it at a larger file system) and run again"),
    (re.compile(r"\[Errno 122\] Disk quota exceeded" + _PATH + r"|Disk quota exceeded|EDQUOT"),
     "disk quota exceeded on {where}", "raise the quota on {where} or use another directory, then run again"),
    (re.compile(r"\[Errno 30\] Read-only file system" + _PATH + r"|Read-only file system|EROFS"),
     "read-only file system at {where}", "use a writable directory for {where} and run again"),
    (re.compile(r"\[Errno 5\] Input/output error" + _PATH), "input/output error on {where}",
     "check the storage under test at {where} (kernel log, device health) and run again"),
]


def _where(path: str | None) -> str:
    if not path:
        return "the device"
    parent = path if os.path.isdir(path) else os.path.dirname(path) or path
    return parent


def watch_line(line: str) -> Fault | None:
    """The fatal fault this output line reports, if any."""
    if "Errno" not in line and "ENOSPC" not in line and "EDQUOT" not in line and "EROFS" not in line \
            and "No space left" not in line and "quota exceeded" not in line and "Read-only file" not in line:
        return None
    for pattern, cause, hint in _FATAL:
        match = pattern.search(line)
        if match:
            path = match.groupdict().get("path")
            where = _where(path)
            return Fault(cause.format(where=where), hint.format(where=where), line.strip(), bool(path))
    return None


def _own_cgroup_dir() -> Path | None:
    """This process's cgroup v2 directory, if the unified hierarchy is mounted."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                directory = Path("/sys/fs/cgroup") / line[3:].lstrip("/")
                return directory if directory.is_dir() else None
    except OSError:
        return None
    return None


def oom_kill_count() -> int | None:
    """The `oom_kill` counter of this process's cgroup (v2), or None when it cannot be read."""
    directory = _own_cgroup_dir()
    if directory is None:
        return None
    try:
        for line in (directory / "memory.events").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def oom_evidence(before: int | None, after: int | None) -> str | None:
    """A sentence naming the evidence of an out-of-memory kill between two counter readings, else None."""
    if before is not None and after is not None and after > before:
        return f"the kernel's out-of-memory killer acted during the run (cgroup memory.events oom_kill {before} -> {after})"
    return None


def human_bytes(count: float) -> str:
    """A byte count in the largest binary unit that keeps it >= 1, with 3 significant digits:
    "512 B", "43.2 MiB", "1.50 TiB" (never "0.0 GiB" for a small but non-zero size)."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            break
        value /= 1024
    if unit == "B":
        return f"{int(count)} B"
    return f"{value:.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}" if value >= 10 else f"{value:.2f} {unit}"
