"""Run a benchmark process (usually ``mpirun ...``) safely.

* stdout/stderr stream into ``<benchmark>_<command>.stdout.log`` / ``.stderr.log``
  in the run directory while the process runs;
* compact progress (one final line per epoch, checkpoint or data generation,
  :class:`Interim` lines while one runs) is handed to an optional callback;
* a timeout, Ctrl-C (SIGINT), SIGTERM or SIGHUP stops the whole process group
  (TERM, then KILL after a grace period) so no mpirun or rank survives;
* a fatal fault in the output (a full disk, a read-only file system: see
  :mod:`mlps_harness.launch.faults`) ends the whole job within seconds, since
  the other ranks would wait for the failed one forever, and becomes the
  result's ``cause``;
* the outcome is a :class:`RunResult`; :func:`explain_failure` turns a failed
  one into a readable message with a hint.
"""
from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, Sequence

import psutil

from mlps_harness.launch.faults import Fault, oom_evidence, oom_kill_count, watch_line
from mlps_harness.model.run import INCOMPLETE_MARKER

ProgressCallback = Callable[[str], None]


@dataclass
class RunResult:
    """Outcome of :func:`run_process`."""

    argv: list[str]
    returncode: int
    duration_seconds: float
    stdout_log: Path
    stderr_log: Path
    stderr_tail: list[str] = field(default_factory=list)
    timed_out: bool = False
    interrupted_by: str | None = None  # "SIGINT", "SIGTERM" or "SIGHUP" when stopped by a signal
    fault: Fault | None = None  # a fatal fault seen in the output (the job was ended for it)
    oom_evidence: str | None = None  # why we believe the out-of-memory killer acted, if we do

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and self.interrupted_by is None and self.fault is None

    @property
    def cause(self) -> str | None:
        """The real cause of a failure when known: "no space left on /mnt/data", "killed by signal 9", ..."""
        if self.fault is not None:
            return self.fault.cause
        if self.returncode < 0 and not self.timed_out and not self.interrupted_by:
            return f"killed by signal {-self.returncode}" + (" (out of memory)" if self.oom_evidence else "")
        return None


_EPOCH_START = re.compile(r"Starting epoch (\d+): .*?(\d+) steps")
_EPOCH_END = re.compile(r"Ending epoch (\d+) - (\d+) steps completed in ([0-9.]+) s")
_BLOCK_AU = re.compile(r"Epoch (\d+) - Block \d+ \[Training\] Accelerator Utilization \[AU\] \(%\): ([0-9.]+)")
_THROUGHPUT = re.compile(r"Epoch (\d+) - Block \d+ \[Training\] Throughput \(samples/second\): ([0-9.]+)")
_CHECKPOINT = re.compile(r"Finished (saving|loading) checkpoint (\d+) in ([0-9.]+) ?s")
_CHECKPOINT_RATE = re.compile(r"Throughput: ([0-9.]+) GB/s")


class Interim(str):
    """A progress message that a later one replaces: drawn in place on a terminal, left out of a CI log."""


def progress_line_from_output(line: str) -> str | None:
    """Return a compact progress message for interesting DLIO lines, else None."""
    if match := _EPOCH_START.search(line):
        return f"epoch {match.group(1)}: started ({match.group(2)} steps)"
    if match := _EPOCH_END.search(line):
        seconds = float(match.group(3))
        return f"epoch {match.group(1)}: {match.group(2)} steps in {seconds:.1f} s"
    if match := _BLOCK_AU.search(line):
        return f"epoch {match.group(1)}: AU {float(match.group(2)):.1f}%"
    if match := _THROUGHPUT.search(line):
        return f"epoch {match.group(1)}: {float(match.group(2)):.1f} samples/s"
    if match := _CHECKPOINT.search(line):
        return f"checkpoint {match.group(2)}: {match.group(1)} took {float(match.group(3)):.2f} s"
    if "Starting data generation" in line:
        return "data generation: started"
    if "Generation done" in line:
        return "data generation: done"
    return None


class ProgressFolder:
    """Folds a workload's output into one final line per unit (epoch, checkpoint, data generation).

    DLIO logs four lines per epoch (start, per-block AU and throughput, end); :meth:`feed` returns
    :class:`Interim` messages while an epoch runs and one plain message when it ends, carrying its figures."""

    def __init__(self) -> None:
        self._blocks: dict[str, dict[str, list[float]]] = {}

    def feed(self, line: str) -> str | None:
        """The progress message for one output line: Interim, final (plain str) or None."""
        if match := _EPOCH_START.search(line):
            self._blocks.setdefault(match.group(1), {"au": [], "samples": []})
            return Interim(f"epoch {match.group(1)}: running ({match.group(2)} steps)")
        if match := _BLOCK_AU.search(line):
            self._blocks.setdefault(match.group(1), {"au": [], "samples": []})["au"].append(float(match.group(2)))
            return Interim(progress_line_from_output(line))
        if match := _THROUGHPUT.search(line):
            self._blocks.setdefault(match.group(1), {"au": [], "samples": []})["samples"].append(
                float(match.group(2)))
            return Interim(progress_line_from_output(line))
        if match := _EPOCH_END.search(line):
            figures = self._blocks.pop(match.group(1), {"au": [], "samples": []})
            parts = [f"epoch {match.group(1)}: {match.group(2)} steps in {float(match.group(3)):.1f} s"]
            if figures["au"]:
                parts.append(f"AU {sum(figures['au']) / len(figures['au']):.1f}%")
            if figures["samples"]:
                parts.append(f"{sum(figures['samples']) / len(figures['samples']):.1f} samples/s")
            return ", ".join(parts)
        message = progress_line_from_output(line)
        if message is not None and _CHECKPOINT.search(line) and (rate := _CHECKPOINT_RATE.search(line)):
            message += f" ({float(rate.group(1)):.2f} GB/s)"
        return Interim(message) if message == "data generation: started" else message


def _pump(stream, log_path: Path, tail: collections.deque | None,
          on_line: Callable[[str], None] | None) -> None:
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", errors="replace")
            log.write(text)
            log.flush()
            line = text.rstrip("\n")
            if tail is not None:
                tail.append(line)
            if on_line is not None:
                try:
                    on_line(line)
                except Exception:  # a broken display callback must not stop logging
                    on_line = None
    stream.close()


def _living(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid:
                members.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            pass
    return members


def stop_process_tree(process: subprocess.Popen, grace_seconds: float = 5.0) -> None:
    """TERM the process group (and any descendant that left it), then KILL stragglers."""
    pgid = process.pid  # start_new_session=True makes the child a group leader
    targets = {p.pid: p for p in _descendants(process.pid) + _group_members(pgid)}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for straggler in _living(list(targets.values())):
            try:
                straggler.send_signal(sig)
            except psutil.NoSuchProcess:
                pass
        deadline = time.monotonic() + (grace_seconds if sig == signal.SIGTERM else 5.0)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                for child in _descendants(process.pid) + _group_members(pgid):
                    targets.setdefault(child.pid, child)
                if not _living(list(targets.values())):
                    return
            time.sleep(0.05)
        for child in _descendants(process.pid):
            targets.setdefault(child.pid, child)
    process.wait(timeout=5)


class _SignalCatcher:
    """Turn SIGINT/SIGTERM/SIGHUP into a flag while a run is in progress (main thread only)."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "_SignalCatcher":
        if threading.current_thread() is threading.main_thread() and not self._previous:  # entered once
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, _frame) -> None:
        self.received = signal.Signals(signum).name

    def __exit__(self, *_exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def run_process(argv: Sequence[str], run_dir: str | os.PathLike, benchmark: str, command: str,
                *, timeout: float | None = None, env: Mapping[str, str] | None = None,
                cwd: str | os.PathLike | None = None, on_progress: ProgressCallback | None = None,
                tail_lines: int = 40, kill_grace_seconds: float = 5.0,
                fault_grace_seconds: float = 3.0,
                space_dirs: Sequence[str | os.PathLike] = ()) -> RunResult:
    """Run ``argv`` in its own session, logging to ``run_dir``; see the module docstring.

    ``on_progress`` receives compact lines from :class:`ProgressFolder`: one plain line per epoch, checkpoint or
    data generation, :class:`Interim` ones between.
    A SIGINT/SIGTERM/SIGHUP during the run stops the process tree and is reported
    as ``RunResult.interrupted_by``; it is not re-raised. A fatal fault in the
    output gives the job ``fault_grace_seconds`` to exit by itself, then stops it;
    when a full disk's error names no path, the full one of ``space_dirs`` (and
    ``run_dir``) is named in the cause.
    """
    argv = [str(part) for part in argv]
    run_path = Path(run_dir)
    run_path.mkdir(parents=True, exist_ok=True)
    stdout_log = run_path / f"{benchmark}_{command}.stdout.log"
    stderr_log = run_path / f"{benchmark}_{command}.stderr.log"
    tail: collections.deque[str] = collections.deque(maxlen=max(tail_lines, 1))
    started = time.monotonic()
    oom_before = oom_kill_count()
    catcher = _SignalCatcher().__enter__()  # before the child exists, so a stop signal can never leave it running
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True,
                                   env=dict(env) if env is not None else None, cwd=cwd)
    except OSError as error:
        catcher.__exit__()
        message = f"cannot start {argv[0]!r}: {error.strerror or error}"
        stdout_log.write_text("")
        stderr_log.write_text(message + "\n")
        return RunResult(argv, 127, 0.0, stdout_log, stderr_log, [message])

    seen_progress: set[str] = set()
    progress_lock = threading.Lock()
    folder = ProgressFolder()

    faults: list[tuple[float, Fault]] = []
    progress_broken: list[bool] = []

    def watch(line: str) -> None:
        # DLIO logs to stderr, other tools to stdout: both streams are scanned.
        if not faults and (fault := watch_line(line)) is not None:
            faults.append((time.monotonic(), fault))
        if on_progress is not None and not progress_broken:
            try:
                forward_progress(line)
            except Exception:  # a broken display callback must not stop the fault watch or logging
                progress_broken.append(True)

    def forward_progress(line: str) -> None:
        with progress_lock:
            message = folder.feed(line)
            if message is None or message in seen_progress:  # every rank prints the same line
                return
            seen_progress.add(message)
            on_progress(message)

    pumps = [
        threading.Thread(target=_pump, args=(process.stdout, stdout_log, None, watch), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, stderr_log, tail, watch), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    timed_out = False
    with catcher:
        try:
            while process.poll() is None:
                if catcher.received:
                    break
                if timeout is not None and time.monotonic() - started > timeout:
                    timed_out = True
                    break
                if faults and time.monotonic() - faults[0][0] > fault_grace_seconds:
                    break  # a rank failed for good: the others would wait for it forever
                time.sleep(0.05)
        finally:
            # Stop everything: on timeout/signal, and also leftovers after a normal exit.
            stop_process_tree(process, grace_seconds=kill_grace_seconds)
    for pump in pumps:
        pump.join(timeout=10)
    duration = time.monotonic() - started
    return RunResult(argv, process.returncode, duration, stdout_log, stderr_log,
                     list(tail), timed_out, catcher.received,
                     faults[0][1].locate([*space_dirs, run_path]) if faults else None,
                     oom_evidence(oom_before, oom_kill_count()))


_HINTS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"not enough slots", re.I),
     "more ranks than MPI slots: give host:slots in --hosts, fewer processes, or allow oversubscription"),
    (re.compile(r"attempt to run as root|--allow-run-as-root", re.I),
     "mpirun refuses to run as root: add --allow-run-as-root (the launcher does so when euid is 0)"),
    (re.compile(r"ssh:|Permission denied \(publickey|Host key verification failed|"
                r"Could not resolve hostname|No route to host|Connection refused|"
                r"unable to reliably start one or more daemons|ORTE does not know how to route", re.I),
     "a remote host is unreachable: check the --hosts names, passwordless ssh to each host, "
     "and that the same venv path exists on every host"),
    (re.compile(r"No module named 'dlio_benchmark'"),
     "DLIO is not installed in this Python: run 'bash scripts/setup.sh'"),
    (re.compile(r"No module named 'tensorflow'|needs TensorFlow"),
     "this workload needs TensorFlow: run 'bash scripts/setup.sh --with-tensorflow'"),
    (re.compile(r"tfrecord2idx"),
     "TFRecord generation needs the tfrecord2idx tool on PATH: run 'bash scripts/setup.sh --with-tensorflow'"),
    (re.compile(r"Error executing job with overrides|ConfigAttributeError|Could not override|"
                r"Cannot find primary config|Could not find '", re.I),
     "DLIO/Hydra rejected the configuration: check the workload name and ++workload.* overrides "
     "(set HYDRA_FULL_ERROR=1 for the full trace)"),
    (re.compile(r"MemoryError|Cannot allocate memory", re.I),
     "the run ran out of memory: lower dataset.generation_buffer_size / checkpoint.model_size or ranks"),
    (re.compile(r"exited on signal 9|signal 9 \(Killed\)", re.I),
     "a rank was killed by signal 9 (SIGKILL) from outside the job; nothing recorded says why "
     "(check the kernel log for the out-of-memory killer, or whoever sent it)"),
]


def explain_failure(result: RunResult, benchmark: str = "benchmark") -> str:
    """Return a readable multi-line message for a failed run (empty string if it succeeded)."""
    if result.ok:
        return ""
    if result.fault is not None:
        headline = (f"{benchmark} failed: {result.fault.cause}; the job was stopped after "
                    f"{result.duration_seconds:.1f} s")
    elif result.timed_out:
        headline = f"{benchmark} timed out after {result.duration_seconds:.1f} s and was stopped"
    elif result.interrupted_by:
        headline = f"{benchmark} was interrupted by {result.interrupted_by} and stopped"
    elif result.returncode < 0:
        name = signal.Signals(-result.returncode).name if -result.returncode in signal.valid_signals() \
            else str(-result.returncode)
        headline = (f"{benchmark} was killed by signal {-result.returncode} ({name}) after "
                    f"{result.duration_seconds:.1f} s")
    else:
        headline = f"{benchmark} failed with exit code {result.returncode} after {result.duration_seconds:.1f} s"
    text = "\n".join(result.stderr_tail)
    if result.stdout_log.exists():
        try:
            text += "\n" + result.stdout_log.read_text(errors="replace")[-20000:]
        except OSError:
            pass
    hints = [result.fault.hint] if result.fault is not None else []
    if result.oom_evidence:
        hints.append(result.oom_evidence + ": lower the memory the run needs or the number of ranks")
    hints += [hint for pattern, hint in _HINTS if pattern.search(text)
              if not (result.oom_evidence and "signal 9" in hint)]
    if result.returncode == 127 and not hints:
        hints.append(f"the program {result.argv[0]!r} was not found; run 'bash scripts/setup.sh'")
    if result.returncode == -signal.SIGKILL and not result.timed_out and not result.interrupted_by \
            and not result.oom_evidence:
        hints.append("killed by signal 9 (SIGKILL) from outside; no out-of-memory evidence was found "
                     "(cgroup memory.events); check the kernel log or whoever sent it")
    lines = [headline]
    lines += [f"hint: {hint}" for hint in dict.fromkeys(hints)]
    relevant_tail = [line for line in result.stderr_tail if line.strip()][-10:]
    if relevant_tail:
        lines.append("last stderr lines:")
        lines += [f"  {line}" for line in relevant_tail]
    lines.append(f"logs: {result.stdout_log} , {result.stderr_log}")
    return "\n".join(lines)


def write_incomplete_marker(run_dir: str | os.PathLike, reason: str,
                            details: Mapping[str, object] | None = None) -> Path:
    """Write ``<run_dir>/.mlps-incomplete`` (JSON: reason, time, details); touch nothing else."""
    path = Path(run_dir) / INCOMPLETE_MARKER
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, object] = {
        "reason": reason,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if details:
        payload["details"] = dict(details)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def read_incomplete_marker(run_dir: str | os.PathLike) -> dict | None:
    """Return the marker's content if ``run_dir`` was interrupted, else None."""
    path = Path(run_dir) / INCOMPLETE_MARKER
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {"reason": "unreadable marker"}
