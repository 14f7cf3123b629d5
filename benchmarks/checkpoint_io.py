"""Checkpoint workload I/O efficiency versus a plain sequential large-block baseline.

Runs the MPI checkpoint workload (2 ranks by default) and then, on the same
directory, writes and reads the same number of bytes with one process in large
sequential blocks (fsync after writing, page cache dropped before reading).
Prints both bandwidths, their ratios (target >= 0.9) and the peak RSS per rank,
for each size scale given (default: llama3-8b x 0.01 = 268.8 MiB and x 0.04 =
1,075 MiB per checkpoint with 2 ranks; the real checkpoint is 105 GB).
Figures only; nothing here asserts on timings.

    .venv/bin/python benchmarks/checkpoint_io.py --dir /tmp/ckpt-bench
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlps_harness.benchmarks.checkpointing.workload import checkpoint_bytes_per_rank, parse_size  # noqa: E402
from mlps_harness.benchmarks.checkpointing.workload.storage_io import (  # noqa: E402
    evict_files_from_cache, try_drop_page_cache)

GIB = 1 << 30
MPIRUN_FLAGS = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]


def run_workload(args: argparse.Namespace, work_dir: Path) -> dict:
    """Launch the workload under mpirun; return its summary.json."""
    folder, results = work_dir / "workload-ckpt", work_dir / "workload-results"
    folder.mkdir(parents=True, exist_ok=True)
    command = [shutil.which("mpirun") or "mpirun", *MPIRUN_FLAGS, "-n", str(args.ranks), sys.executable,
               "-m", "mlps_harness.benchmarks.checkpointing.workload", "--model", args.model,
               "--checkpoint-folder", str(folder), "--output-dir", str(results),
               "--num-checkpoints-write", str(args.checkpoints),
               "--num-checkpoints-read", str(args.checkpoints),
               "--size-scale", str(args.size_scale), "--transfer-size", args.transfer_size]
    done = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        sys.exit(f"workload failed (exit {done.returncode}):\n{done.stderr}")
    summary = json.loads((results / "summary.json").read_text())
    shutil.rmtree(folder)
    return summary


def _drop_cache(path: Path) -> str:
    if try_drop_page_cache():
        return "drop_caches"
    evict_files_from_cache([path])
    return "fadvise_dontneed"


def plain_sequential(folder: Path, total_bytes: int, block_size: int, repeats: int) -> tuple[list[float], list[float], str]:
    """GiB/s of ``repeats`` fsynced sequential writes and cache-cold reads of ``total_bytes``.

    Each repeat writes a new file, as each workload checkpoint does: on thin-provisioned
    virtual disks first-time block allocation is several times slower than overwriting.
    """
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(block_size)
    buffer = bytearray(block_size)
    writes, reads, method = [], [], ""
    for repeat in range(repeats):
        path = folder / f"plain-{repeat}.bin"
        began = time.perf_counter()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        remaining = total_bytes
        while remaining > 0:
            remaining -= os.write(fd, block[: min(block_size, remaining)])
        os.fsync(fd)
        os.close(fd)
        writes.append(total_bytes / GIB / (time.perf_counter() - began))
    for repeat in range(repeats):
        path = folder / f"plain-{repeat}.bin"
        method = _drop_cache(path)
        began = time.perf_counter()
        fd = os.open(path, os.O_RDONLY)
        while os.readv(fd, [buffer]):
            pass
        os.close(fd)
        reads.append(total_bytes / GIB / (time.perf_counter() - began))
    shutil.rmtree(folder)
    return writes, reads, method


def workload_bandwidths(summary: dict, results: Path, ranks: int, phase: str) -> list[float]:
    """Per-checkpoint GiB/s of the workload: checkpoint size / slowest rank's duration."""
    stats = [json.loads((results / f"{rank}_per_epoch_stats.json").read_text())["1"] for rank in range(ranks)]
    names = [name for name in stats[0] if name.startswith(f"{phase}_ckpt")]
    size = summary["metric"]["checkpoint_size_GB"]
    return [size / max(s[name]["duration"] for s in stats) for name in names]


def _describe(label: str, workload: list[float], plain: list[float]) -> str:
    ratio = statistics.median(workload) / statistics.median(plain)
    return (f"{label} GiB/s median   workload {statistics.median(workload):.3f}  "
            f"plain {statistics.median(plain):.3f}  ratio {ratio:.2f} (target >= 0.9)   "
            f"[means {statistics.fmean(workload):.3f} / {statistics.fmean(plain):.3f}]")


def compare(args: argparse.Namespace, work_dir: Path, transfer: int) -> None:
    """Alternating workload/plain rounds at one size scale; print the medians and ratios."""
    total = sum(checkpoint_bytes_per_rank(args.model, args.ranks, size_scale=args.size_scale))

    saves, loads, plain_writes, plain_reads, rss, methods = [], [], [], [], [], set()
    for round_index in range(args.rounds):
        # alternate which side goes first so slow-downs over time hit both alike
        for side in (("workload", "plain") if round_index % 2 == 0 else ("plain", "workload")):
            if side == "workload":
                summary = run_workload(args, work_dir)
                results = work_dir / "workload-results"
                saves += workload_bandwidths(summary, results, args.ranks, "save")
                loads += workload_bandwidths(summary, results, args.ranks, "load")
                rss += summary["workload"]["peak_rss_MB_per_rank"]
                methods.add(summary["workload"]["cache_drop_method"])
            else:
                writes, reads, method = plain_sequential(work_dir / "plain-sequential", total, transfer,
                                                         args.checkpoints)
                plain_writes += writes
                plain_reads += reads
                methods.add(f"plain:{method}")
    print(f"checkpoint           {args.model}, {args.ranks} ranks, {total / 2**20:.1f} MiB per checkpoint, "
          f"{args.rounds} rounds x {args.checkpoints} checkpoints, transfer {transfer / 2**20:g} MiB, "
          f"cache drop {sorted(methods)}")
    print(_describe("write", saves, plain_writes))
    print(_describe("read ", loads, plain_reads))
    print(f"peak RSS MiB/rank    max {max(rss):.1f}  (bound 2 x transfer + 100 = {2 * transfer / 2**20 + 100:.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temp dir)")
    parser.add_argument("--model", default="llama3-8b")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--size-scale", type=float, nargs="+", default=[0.01, 0.04],
                        help="one or more size scales, each measured in its own rounds")
    parser.add_argument("--checkpoints", type=int, default=3, help="checkpoints written and read per round")
    parser.add_argument("--rounds", type=int, default=4, help="alternating workload/plain rounds")
    parser.add_argument("--transfer-size", default="16M")
    args = parser.parse_args()
    work_dir = args.dir or Path(tempfile.mkdtemp(prefix="ckpt-bench-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    transfer = parse_size(args.transfer_size)
    print(f"directory            {work_dir}")
    for scale in args.size_scale:
        compare(argparse.Namespace(**{**vars(args), "size_scale": scale}), work_dir, transfer)
    if args.dir is None:
        shutil.rmtree(work_dir)


if __name__ == "__main__":
    main()
