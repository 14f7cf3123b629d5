"""One MPI rank of a KV cache trial: `python -m mlps_harness.benchmarks.kv_cache.rank --trial-dir T --cache-dir C -- <args>`.

The rank reads its number from the MPI environment (Open MPI, PMI/PMIx, else mpi4py, else 0), then runs
`kv_cache_benchmark/kv-cache.py` in-process with `--cache-dir C/rank_<N>`, `--output T/rank_<N>/<RESULT_NAME>` and
`--seed <base>+<N>`, then adds its `hostname` to that output (as DLIO's per-rank files have it). A failure is
written to `T/rank_<N>/error.json` so the suite can report each rank's error.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import sys
from collections import deque
from pathlib import Path

from mlps_harness.argtypes import ascii_whole

RESULT_NAME = "kvcache_results.json"
ERROR_NAME = "error.json"
RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK")


def mpi_rank() -> int:
    """This process's MPI rank: from the launcher's environment, else mpi4py, else 0 (no MPI)."""
    for name in RANK_VARIABLES:
        value = ascii_whole(os.environ.get(name, ""))
        if value is not None:
            return value
    try:
        from mpi4py import MPI  # type: ignore[import-not-found]
    except ImportError:
        return 0
    return int(MPI.COMM_WORLD.Get_rank())


def rank_argv(args: list[str], rank: int, trial_dir: Path, cache_dir: Path, base_seed: int) -> list[str]:
    """The kv-cache.py argv of one rank: the shared args plus its cache dir, output file and seed."""
    return [*args, "--cache-dir", str(cache_dir / f"rank_{rank}"),
            "--output", str(trial_dir / f"rank_{rank}" / RESULT_NAME), "--seed", str(base_seed + rank)]


class _Tee(io.TextIOBase):
    """stderr that also keeps its last lines (for error.json)."""

    def __init__(self, stream) -> None:
        self.stream, self.lines = stream, deque(maxlen=20)

    def write(self, text: str) -> int:
        self.stream.write(text)
        self.lines.extend(line for line in text.splitlines() if line.strip())
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def record_host(result: Path) -> None:
    """Add this rank's `hostname` (as DLIO's per-rank output has it) to its result JSON, atomically."""
    try:
        data = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no result: the suite reports the rank's missing file
    if not isinstance(data, dict):
        return
    data["hostname"] = socket.gethostname()
    tmp = result.with_name(f".{result.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlps_harness.benchmarks.kv_cache.rank")
    parser.add_argument("--trial-dir", required=True, type=Path)
    parser.add_argument("--cache-dir", required=True, type=Path)
    parser.add_argument("--base-seed", type=int, default=42)
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    rank = mpi_rank()
    out_dir = ns.trial_dir / f"rank_{rank}"
    out_dir.mkdir(parents=True, exist_ok=True)
    tee = _Tee(sys.stderr)
    sys.stderr = tee
    code, message = 1, ""
    try:
        (ns.cache_dir / f"rank_{rank}").mkdir(parents=True, exist_ok=True)
        from kv_cache import main as benchmark_main

        code = benchmark_main(rank_argv(args, rank, ns.trial_dir, ns.cache_dir, ns.base_seed))
    except KeyboardInterrupt:
        code, message = 130, "interrupted"
    except Exception as exc:  # reported per rank; the suite shows it
        code, message = 1, f"{type(exc).__name__}: {exc}"
    finally:
        sys.stderr = tee.stream
    if code == 0:
        record_host(out_dir / RESULT_NAME)
    if code != 0:
        detail = message or " | ".join(list(tee.lines)[-3:]) or f"exit code {code}"
        (out_dir / ERROR_NAME).write_text(json.dumps({"rank": rank, "returncode": code, "message": detail},
                                                     indent=2), encoding="utf-8")
        print(f"[rank {rank}] kv-cache failed (exit {code}): {detail}", file=sys.stderr, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
