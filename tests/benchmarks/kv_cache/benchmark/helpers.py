"""Shared helpers for the kv_cache tests (imported by the test modules)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kv_cache.blockdata import BlockDataSource
from kv_cache.cache import MultiTierCache
from kv_cache.tiers import CpuTier, NvmeTier, SimulatedGpuTier

from tests.helpers import REPO

BENCH_DIR = REPO / "kv_cache_benchmark"
SCRIPT = BENCH_DIR / "kv-cache.py"

SMALL_CHUNK = 64 * 1024
TINY_RUN = ["--model", "tiny-1b", "--num-users", "4", "--generation-mode", "none",
            "--seed", "42", "--max-concurrent-allocs", "2"]


def run_script(args: list[str], timeout: float = 60, env_extra: dict | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run kv-cache.py as a subprocess and capture its output."""
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)


def run_json(tmp_path: Path, args: list[str], timeout: float = 60) -> dict:
    """Run the script with --output in tmp_path and return the parsed JSON."""
    out = tmp_path / "result.json"
    proc = run_script([*args, "--output", str(out)], timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(out.read_text())


def build_cache(directory: Path, gpu: int, cpu: int, storage: int, seed: int = 7) -> MultiTierCache:
    """A small three-tier cache (capacities in bytes) with small data chunks."""
    data = BlockDataSource(seed, pool_bytes=4 * SMALL_CHUNK, chunk_bytes=SMALL_CHUNK)
    tiers = [SimulatedGpuTier(gpu, data, bandwidth_gib_per_s=1000.0), CpuTier(cpu, data),
             NvmeTier(storage, data, directory)]
    return MultiTierCache(tiers, data, seed)
