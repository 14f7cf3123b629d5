#!/usr/bin/env python3
"""KV-cache NVMe tier vs plain file I/O on the same directory.

1. Runs ``kv_cache_benchmark/kv-cache.py`` with the NVMe tier only (gpu 0,
   cpu 0) on ``<dir>/bench``, keeping its block files, and measures the
   child's peak RSS and its time to first I/O (launch -> first block file).
2. Writes the same bytes (same file sizes) with plain large-block writes +
   fsync into ``<dir>/plain``, drops the page cache (``/proc/sys/vm/drop_caches``
   when permitted, else ``posix_fadvise(DONTNEED)`` per file), reads them back.
3. Prints bandwidth ratios benchmark/plain (target >= 0.8). Nothing is asserted.

Usage: python benchmarks/kv_cache_io.py [--dir D] [--duration 20] [--users 4]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "kv_cache_benchmark" / "kv-cache.py"
CHUNK = 4 * 1024 * 1024
GIB = 1024 ** 3


def drop_page_cache(paths: list[Path], allow_global: bool) -> str:
    """Drop cached pages of ``paths``; returns the method that was used."""
    os.sync()
    if allow_global:
        try:
            with open("/proc/sys/vm/drop_caches", "w", encoding="ascii") as handle:
                handle.write("1\n")
            return "drop_caches"
        except OSError:
            pass
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return "posix_fadvise"


def plain_write(directory: Path, sizes: list[int]) -> tuple[list[Path], float]:
    """Write files of ``sizes`` bytes in 4 MiB writes + fsync; returns seconds."""
    buffer = memoryview(os.urandom(CHUNK))
    paths = []
    start = time.perf_counter()
    for index, size in enumerate(sizes):
        path = directory / f"plain_{index:05d}.bin"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            left = size
            while left:
                left -= os.write(fd, buffer[: min(CHUNK, left)])
            os.fsync(fd)
        finally:
            os.close(fd)
        paths.append(path)
    return paths, time.perf_counter() - start


def plain_read(paths: list[Path]) -> tuple[int, float]:
    """Read files back in 4 MiB reads; returns (bytes, seconds)."""
    buffer = bytearray(CHUNK)
    total = 0
    start = time.perf_counter()
    for path in paths:
        with open(path, "rb", buffering=0) as handle:
            while True:
                got = handle.readinto(buffer)
                if not got:
                    break
                total += got
    return total, time.perf_counter() - start


def run_benchmark(bench_dir: Path, output: Path, args) -> dict:
    """Run kv-cache.py; returns result JSON plus peak RSS and first-I/O time."""
    argv = [sys.executable, str(SCRIPT), "--model", args.model, "--num-users", str(args.users),
            "--duration", str(args.duration), "--gpu-mem-gb", "0", "--cpu-mem-gb", "0",
            "--generation-mode", "none", "--seed", "42", "--max-concurrent-allocs",
            str(args.allocs), "--cache-dir", str(bench_dir), "--output", str(output),
            "--keep-cache-files", "--log-level", "WARNING"]
    first_io: list[float] = []
    launched = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def watch() -> None:
        while proc.poll() is None and not first_io:
            if any(not e.name.startswith(".") for e in os.scandir(bench_dir)):
                first_io.append(time.perf_counter() - launched)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    watcher.join()
    stderr = proc.stderr.read().decode(errors="replace")
    if proc.returncode != 0:
        sys.exit(f"benchmark failed (exit {proc.returncode}):\n{stderr}")
    result = json.loads(output.read_text())
    return {"result": result, "peak_rss_mb": usage.ru_maxrss / 1024.0,
            "first_io_external_s": first_io[0] if first_io else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory on the storage under test")
    parser.add_argument("--model", default="tiny-1b")
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--allocs", type=int, default=2, help="--max-concurrent-allocs")
    parser.add_argument("--no-global-drop", action="store_true",
                        help="never write /proc/sys/vm/drop_caches (fadvise only)")
    parser.add_argument("--json-out", default=None, help="also write the figures here")
    args = parser.parse_args()
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kv_cache_io_"))
    work = base / f"kv_cache_io_{os.getpid()}"
    bench_dir, plain_dir = work / "bench", work / "plain"
    bench_dir.mkdir(parents=True)
    plain_dir.mkdir()
    try:
        run = run_benchmark(bench_dir, work / "result.json", args)
        stats = run["result"]["summary"]["cache_stats"]
        sizes = [entry.stat().st_size for entry in os.scandir(bench_dir) if entry.is_file()]
        paths, write_seconds = plain_write(plain_dir, sizes)
        method = drop_page_cache(paths, not args.no_global_drop)
        read_bytes, read_seconds = plain_read(paths)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.dir:
            shutil.rmtree(base, ignore_errors=True)
    plain_write_bw = sum(sizes) / GIB / write_seconds
    plain_read_bw = read_bytes / GIB / read_seconds
    bench_write_bw = stats["storage_write_busy_bandwidth_gbps"]
    bench_read_bw = stats["storage_read_busy_bandwidth_gbps"]
    op_write_bw = stats["storage_write_op_bandwidth_gbps"]
    op_read_bw = stats["storage_read_op_bandwidth_gbps"]
    figures = {
        "blocks": len(sizes), "bytes": sum(sizes), "cache_drop_method": method,
        "benchmark_write_gib_s": bench_write_bw, "plain_write_gib_s": plain_write_bw,
        "write_ratio": bench_write_bw / plain_write_bw if plain_write_bw else 0.0,
        "benchmark_read_gib_s": bench_read_bw, "plain_read_gib_s": plain_read_bw,
        "read_ratio": bench_read_bw / plain_read_bw if plain_read_bw else 0.0,
        "benchmark_per_op_write_gib_s": op_write_bw,
        "per_op_write_ratio": op_write_bw / plain_write_bw if plain_write_bw else 0.0,
        "benchmark_per_op_read_gib_s": op_read_bw,
        "per_op_read_ratio": op_read_bw / plain_read_bw if plain_read_bw else 0.0,
        "benchmark_wall_write_gib_s": stats["tier_storage_write_bandwidth_gbps"],
        "benchmark_wall_read_gib_s": stats["tier_storage_read_bandwidth_gbps"],
        "peak_rss_mb": run["peak_rss_mb"],
        "time_to_first_io_s_external": run["first_io_external_s"],
        "time_to_first_io_s_reported": run["result"]["run_info"]["time_to_first_io_s"],
        "requests_completed": run["result"]["requests_completed"],
    }
    print(f"blocks: {len(sizes)} files, {sum(sizes) / GIB:.2f} GiB; cache drop: {method}")
    print("benchmark 'while busy' = bytes / wall time with >= 1 op of that kind in flight")
    print(f"write  benchmark {bench_write_bw:6.3f} GiB/s (while busy)  plain {plain_write_bw:6.3f}"
          f" GiB/s  ratio {figures['write_ratio']:.2f}  (target >= 0.8)")
    print(f"read   benchmark {bench_read_bw:6.3f} GiB/s (while busy)  plain {plain_read_bw:6.3f}"
          f" GiB/s  ratio {figures['read_ratio']:.2f}  (target >= 0.8)")
    print(f"per op (bytes / summed op time, pessimistic when ops overlap): write "
          f"{op_write_bw:.3f} GiB/s ratio {figures['per_op_write_ratio']:.2f}, read "
          f"{op_read_bw:.3f} GiB/s ratio {figures['per_op_read_ratio']:.2f}")
    print(f"benchmark over wall time: write {figures['benchmark_wall_write_gib_s']:.3f} GiB/s,"
          f" read {figures['benchmark_wall_read_gib_s']:.3f} GiB/s")
    print(f"peak RSS {run['peak_rss_mb']:.0f} MiB (target < 300); time to first I/O "
          f"{figures['time_to_first_io_s_external']} s external, "
          f"{figures['time_to_first_io_s_reported']:.3f} s reported (target < 1)")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
