"""Run directories and their metadata, in the upstream layout `<rd>/<benchmark>/<model>/<command>/<datetime>/`.

A new run directory never reuses an existing one: when the current second is taken, the next free second is used,
so nothing already written is overwritten. Before anything is launched a suite claims its results dir for its
benchmark and model (`claim_results_dir`): a read-only dir is one usage error, and a second suite writing the same
benchmark/model into the same dir stops with the holder's PID and command (an advisory `flock`, released by the
kernel when the holder exits, so a killed suite never leaves a stale lock).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mlps_harness import __version__

if TYPE_CHECKING:
    from mlps_harness.launch import RunResult


LOCK_PREFIX = ".mlps-lock-"  #: `<results_dir>/.mlps-lock-<benchmark>-<model>`: held by the suite writing there
_LOCKS = pytest.StashKey[list]()


def lock_path(results_dir: Path, benchmark: str, model: str | None) -> Path:
    """The advisory lock file of one benchmark/model in a results dir."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{benchmark}-{model or 'default'}")
    return Path(results_dir) / f"{LOCK_PREFIX}{safe}"


def lock_holder(path: Path) -> dict[str, Any] | None:
    """Who holds the lock at `path` ({"pid", "command", "since"}), or None when nobody does."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = json.loads(os.read(fd, 65536) or b"{}")
        except ValueError:
            holder = {}
        return holder if isinstance(holder, dict) else {}
    finally:
        os.close(fd)
    return None


def writers_of(results_dir: Path) -> list[str]:
    """Suites writing into `results_dir` right now, one line each (for an audit of a tree still being written)."""
    lines = []
    for path in sorted(Path(results_dir).glob(f"{LOCK_PREFIX}*")):
        holder = lock_holder(path)
        if holder is not None:
            lines.append(f"{path.name[len(LOCK_PREFIX):]}: PID {holder.get('pid', '?')} "
                         f"({holder.get('command', '?')}) since {holder.get('since', '?')}")
    return lines


def claim_results_dir(config: pytest.Config, results_dir: Path, benchmark: str, model: str | None) -> None:
    """Before launch: `results_dir` must be writable (else one usage error) and no other suite may be writing this
    benchmark/model there (else a usage error naming its PID and command). The lock is held until pytest ends.
    Nothing is claimed under --what-if, which writes nothing."""
    if config.getoption("--what-if", False):
        return
    results_dir = Path(results_dir)
    fix = "choose a writable directory with --results-dir (or remount this one read-write)"
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
        probe_fd, probe = tempfile.mkstemp(prefix=".mlps-write-probe-", dir=results_dir)
        os.close(probe_fd)
        os.unlink(probe)
    except OSError as exc:
        raise pytest.UsageError(f"--results-dir {results_dir}: cannot write there ({exc.strerror or exc}); "
                                f"{fix}") from None
    path = lock_path(results_dir, benchmark, model)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise pytest.UsageError(f"--results-dir {results_dir}: cannot create {path.name} "
                                f"({exc.strerror or exc}); {fix}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = json.loads(os.read(fd, 65536) or b"{}")
        except ValueError:
            holder = {}
        os.close(fd)
        holder = holder if isinstance(holder, dict) else {}
        raise pytest.UsageError(
            f"--results-dir {results_dir}: another suite is writing {benchmark}/{model or 'default'} there "
            f"(PID {holder.get('pid', '?')}: {holder.get('command', '?')}, since {holder.get('since', '?')}); "
            "wait for it to finish, stop it, or use another --results-dir") from None
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "command": " ".join(sys.argv),
                             "since": time.strftime("%Y-%m-%dT%H:%M:%S")}).encode())
    config.stash.setdefault(_LOCKS, []).append(fd)

    def release() -> None:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    config.add_cleanup(release)


def new_run_dir(results_dir: Path, *parts: str) -> Path:
    """Create and return `<results_dir>/<parts...>/<YYYYMMDD_HHMMSS>` for the first free datetime from now."""
    parent = results_dir.joinpath(*parts)
    parent.mkdir(parents=True, exist_ok=True)
    moment = datetime.now().replace(microsecond=0)
    while True:
        candidate = parent / moment.strftime("%Y%m%d_%H%M%S")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            moment += timedelta(seconds=1)


def write_metadata(run_dir: Path, benchmark: str, *, args: dict[str, Any], params: dict[str, str],
                   rules_version: str, cluster: dict | None, command: list[str] | None,
                   extra: dict[str, Any] | None = None) -> Path:
    """Write `<benchmark>_<datetime>_metadata.json` with upstream's keys plus our `harness` block (atomically)."""
    leaf = run_dir.name
    doc: dict[str, Any] = {
        "benchmark_type": benchmark,
        "run_datetime": leaf,
        "args": args,
        "params_dict": params,
        "cluster_information": cluster,
        "executed_command": " ".join(command) if command else None,
        "command_argv": command,
        "harness": {"name": "mlps-harness", "version": __version__, "rules_version": rules_version,
                    "written_at": time.strftime("%Y-%m-%dT%H:%M:%S")},
        **(extra or {}),
    }
    path = run_dir / f"{benchmark}_{leaf}_metadata.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return path


def update_metadata(path: Path, **fields: Any) -> None:
    """Merge fields into an existing metadata file (atomically)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.update(fields)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


class RunInterrupted(Exception):
    """A launch was stopped by Ctrl-C or SIGTERM; its run directory is marked incomplete."""


def settle_launch(run_dir: Path, result: "RunResult", what: str, program: str) -> None:
    """After a launch into `run_dir` (which carries an incomplete marker from its start): an interrupt re-marks it
    and raises `RunInterrupted`; a failure re-marks it with the reason; success removes the marker."""
    from mlps_harness.launch import INCOMPLETE_MARKER, write_incomplete_marker

    if result.interrupted_by:
        write_incomplete_marker(run_dir, f"interrupted by {result.interrupted_by}")
        raise RunInterrupted(f"{what} interrupted by {result.interrupted_by}; {run_dir} is marked incomplete")
    if result.ok:
        (run_dir / INCOMPLETE_MARKER).unlink(missing_ok=True)
    else:
        reason = "timed out" if result.timed_out else result.cause or f"{program} exited with code {result.returncode}"
        details = {"hint": result.fault.hint, "line": result.fault.line} if result.fault is not None else None
        write_incomplete_marker(run_dir, reason, details)
