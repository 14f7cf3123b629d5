"""Cluster information for a suite: gathered over MPI from every host, with a visible fallback.

The document comes back on mpirun's own stdout (rank 0 prints it on one marked line), so nothing depends on where
rank 0 runs or on a shared /tmp. A fallback (declared values, or this machine alone) carries the real cause in its
warning. Ctrl-C or SIGTERM during collection stops mpirun and ends the session at once.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from mlps_harness.cluster.collect import (
    STDOUT_MARKER,
    declared_cluster_info,
    host_count_warning,
    local_cluster_info,
)
from mlps_harness.launch import (
    MpiLaunchSpec,
    RunResult,
    build_mpirun_argv,
    parse_hosts,
    run_process,
)
from mlps_harness.suite.submission import write_system_skeleton

#: Open MPI lines that say nothing about why a collection failed.
_NOISE = ("-----", "Primary job  terminated", "mpirun detected", "mpirun noticed", "Process name:", "Exit code:")


def collect_cluster(spec: MpiLaunchSpec, data_dir: Path, results_dir: Path, *, memory_gb: float | None,
                    num_hosts: int | None, timeout: float = 120.0,
                    warn: Callable[[str], None] | None = None) -> dict:
    """Run `python -m mlps_harness.cluster` under mpirun; fall back to declared or local values with a warning,
    each warning also passed to `warn` (the suites show them live). A collected host count that differs from
    --hosts is a warning too. When `results_dir` is a submission run root (--org/--system), the
    systems/<NAME>.yaml skeleton is written from the document. Interrupted: `pytest.exit` (return code 130)."""
    info = _collect(spec, data_dir, results_dir, memory_gb, num_hosts, timeout)
    listed = len({name for name, _ in parse_hosts(spec.hosts)})
    mismatch = host_count_warning(info, listed, "--hosts")
    if mismatch:
        info.setdefault("warnings", []).append(mismatch)
    skeleton = write_system_skeleton(results_dir, info)
    if skeleton is not None and warn is not None:
        warn(f"system description: {skeleton} (a skeleton from this cluster unless it existed; complete it)")
    if warn is not None:
        for warning in info.get("warnings", []):
            warn(f"WARNING: {warning}")
    return info


def document_from_stdout(text: str) -> dict | None:
    """The cluster document rank 0 printed (the last marked line), or None."""
    for line in reversed(text.splitlines()):
        at = line.find(STDOUT_MARKER)
        if at >= 0:
            try:
                doc = json.loads(line[at + len(STDOUT_MARKER):])
            except ValueError:
                return None
            return doc if isinstance(doc, dict) and isinstance(doc.get("hosts"), list) else None
    return None


def failure_cause(result: RunResult, timeout: float) -> str:
    """Why a collection launch gave no document, in the launcher's own words (not Open MPI's banner lines)."""
    if result.timed_out:
        return (f"MPI collection did not finish within {timeout:g} s (a host that accepts connections but never "
                "starts its ranks?)")
    lines = [line.strip() for line in result.stderr_tail if line.strip() and not line.strip().startswith(_NOISE)]
    if result.ok:
        return "MPI collection ran but rank 0 printed no cluster document"
    detail = " | ".join(lines[-3:])[:400] or "no error output"
    return f"MPI collection failed (mpirun exit {result.returncode}: {detail})"


def _collect(spec: MpiLaunchSpec, data_dir: Path, results_dir: Path, memory_gb: float | None,
             num_hosts: int | None, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="mlps-cluster-") as scratch:
        command = [sys.executable, "-m", "mlps_harness.cluster", "--data-dir", str(data_dir),
                   "--results-dir", str(results_dir)]
        if memory_gb and num_hosts:
            command += ["--client-host-memory-gb", str(memory_gb), "--num-client-hosts", str(num_hosts)]
        result = run_process(build_mpirun_argv(spec, command), scratch, "cluster", "collect", timeout=timeout)
        if result.interrupted_by:
            pytest.exit(f"cluster collection interrupted by {result.interrupted_by}; nothing was run", returncode=130)
        try:
            stdout = result.stdout_log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            stdout = ""
        document = document_from_stdout(stdout) if result.ok else None
        if document is not None:
            return document
        reason = failure_cause(result, timeout)
    if memory_gb and num_hosts:
        return declared_cluster_info(memory_gb, num_hosts, reason=reason)
    return local_cluster_info(data_dir, results_dir, warnings=[
        f"{reason}; only the launcher ({_launcher()}) is described, which may not even be a client: fix the "
        "launch, or declare the hosts with --client-host-memory-gb and --num-client-hosts"])


def _launcher() -> str:
    import socket

    return socket.gethostname()


def summary_host_count_warning(run_dir: Path, cluster: dict) -> str | None:
    """After a DLIO-style run: a warning when `summary.json`'s num_hosts differs from the collected host count
    (DLIO divides the ranks by the ranks on rank 0's node, which is wrong with uneven slots)."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    num_hosts = summary.get("num_hosts") if isinstance(summary, dict) else None
    if not isinstance(num_hosts, int) or isinstance(num_hosts, bool):
        return None
    return host_count_warning(cluster, num_hosts, f"{run_dir.name}/summary.json (num_hosts)")
