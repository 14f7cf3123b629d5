"""Cluster information for a suite: gathered over MPI from every host, with a visible fallback."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from mlps_harness.cluster.collect import declared_cluster_info, local_cluster_info
from mlps_harness.launch import MpiLaunchSpec, build_mpirun_argv, run_process


def collect_cluster(spec: MpiLaunchSpec, data_dir: Path, results_dir: Path, *, memory_gb: float | None,
                    num_hosts: int | None, timeout: float = 120.0,
                    warn: Callable[[str], None] | None = None) -> dict:
    """Run `python -m mlps_harness.cluster` under mpirun; fall back to declared or local values with a warning,
    each warning also passed to `warn` (the suites show them live)."""
    info = _collect(spec, data_dir, results_dir, memory_gb, num_hosts, timeout)
    if warn is not None:
        for warning in info.get("warnings", []):
            warn(f"WARNING: {warning}")
    return info


def _collect(spec: MpiLaunchSpec, data_dir: Path, results_dir: Path, memory_gb: float | None,
             num_hosts: int | None, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="mlps-cluster-") as scratch:
        output = Path(scratch) / "cluster.json"
        command = [sys.executable, "-m", "mlps_harness.cluster", "--data-dir", str(data_dir),
                   "--results-dir", str(results_dir), "--output", str(output)]
        if memory_gb and num_hosts:
            command += ["--client-host-memory-gb", str(memory_gb), "--num-client-hosts", str(num_hosts)]
        result = run_process(build_mpirun_argv(spec, command), scratch, "cluster", "collect", timeout=timeout)
        if result.ok and output.is_file():
            return json.loads(output.read_text(encoding="utf-8"))
        reason = f"MPI collection failed (exit {result.returncode}: {' '.join(result.stderr_tail[-2:])[:300]})"
    if memory_gb and num_hosts:
        return declared_cluster_info(memory_gb, num_hosts, reason=reason)
    return local_cluster_info(data_dir, results_dir, warnings=[reason])
