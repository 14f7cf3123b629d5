#!/usr/bin/env python3
"""KV-cache NVMe tier vs plain file I/O on the same directory.

1. Runs ``kv_cache_benchmark/kv-cache.py`` with the NVMe tier only (gpu 0,
   cpu 0) on ``<dir>/bench``, keeping its block files, and measures the
   child's peak RSS and its time to first I/O (launch -> first block file).
2. Writes the same bytes (same file sizes) with plain large-block writes +
   fsync into ``<dir>/plain``, drops the page cache (``/proc/sys/vm/drop_caches``
   when permitted, else ``posix_fadvise(DONTNEED)`` per file), reads them back.
   Rounds alternate the order (benchmark first, then plain first with the
   previous round's block count and mean size) to cancel order bias.
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


def plain_round(plain_dir: Path, sizes: list[int], allow_global_drop: bool) -> dict:
    """Plain write+fsync of ``sizes``, cache drop, read back; GiB/s figures."""
    plain_dir.mkdir(exist_ok=True)
    paths, write_seconds = plain_write(plain_dir, sizes)
    method = drop_page_cache(paths, allow_global_drop)
    read_bytes, read_seconds = plain_read(paths)
    for path in paths:
        path.unlink()
    return {"write": sum(sizes) / GIB / write_seconds, "read": read_bytes / GIB / read_seconds,
            "drop": method}


def measure_round(work: Path, args, plain_first_sizes: list[int] | None) -> dict:
    """One round: benchmark then plain, or (given sizes) plain then benchmark."""
    bench_dir, plain_dir = work / "bench", work / "plain"
    shutil.rmtree(bench_dir, ignore_errors=True)
    bench_dir.mkdir(parents=True)
    plain = None
    if plain_first_sizes:
        plain = plain_round(plain_dir, plain_first_sizes, not args.no_global_drop)
    run = run_benchmark(bench_dir, work / "result.json", args)
    sizes = [entry.stat().st_size for entry in os.scandir(bench_dir) if entry.is_file()]
    shutil.rmtree(bench_dir, ignore_errors=True)
    if plain is None:
        plain = plain_round(plain_dir, sizes, not args.no_global_drop)
    stats = run["result"]["summary"]["cache_stats"]
    ratio = lambda a, b: a / b if b else 0.0  # noqa: E731
    figures = {
        "order": "plain_first" if plain_first_sizes else "benchmark_first",
        "blocks": len(sizes), "bytes": sum(sizes), "cache_drop_method": plain["drop"],
        "benchmark_write_gib_s": stats["storage_write_busy_bandwidth_gbps"],
        "benchmark_read_gib_s": stats["storage_read_busy_bandwidth_gbps"],
        "plain_write_gib_s": plain["write"], "plain_read_gib_s": plain["read"],
        "benchmark_per_op_write_gib_s": stats["storage_write_op_bandwidth_gbps"],
        "benchmark_per_op_read_gib_s": stats["storage_read_op_bandwidth_gbps"],
        "benchmark_wall_write_gib_s": stats["tier_storage_write_bandwidth_gbps"],
        "benchmark_wall_read_gib_s": stats["tier_storage_read_bandwidth_gbps"],
        "peak_rss_mb": run["peak_rss_mb"],
        "time_to_first_io_s_external": run["first_io_external_s"],
        "time_to_first_io_s_reported": run["result"]["run_info"]["time_to_first_io_s"],
        "requests_completed": run["result"]["requests_completed"],
    }
    for op in ("write", "read"):
        figures[f"{op}_ratio"] = ratio(figures[f"benchmark_{op}_gib_s"], plain[op])
        figures[f"per_op_{op}_ratio"] = ratio(figures[f"benchmark_per_op_{op}_gib_s"], plain[op])
    return figures


def print_round(number: int, f: dict) -> None:
    """Human-readable figures of one round."""
    print(f"round {number} ({f['order']}): {f['blocks']} blocks, {f['bytes'] / GIB:.2f} GiB; "
          f"cache drop: {f['cache_drop_method']}")
    for op in ("write", "read"):
        print(f"  {op:5s} benchmark {f[f'benchmark_{op}_gib_s']:6.3f} GiB/s while busy, plain "
              f"{f[f'plain_{op}_gib_s']:6.3f} GiB/s: ratio {f[f'{op}_ratio']:.2f} (target >= 0.8);"
              f" per-op ratio {f[f'per_op_{op}_ratio']:.2f}")
    print(f"  benchmark over wall time: write {f['benchmark_wall_write_gib_s']:.3f} GiB/s, "
          f"read {f['benchmark_wall_read_gib_s']:.3f} GiB/s")
    external = f["time_to_first_io_s_external"]
    print(f"  peak RSS {f['peak_rss_mb']:.0f} MiB (target < 300); time to first I/O "
          f"{external if external is None else round(external, 3)} s from launch (external), "
          f"{f['time_to_first_io_s_reported']:.3f} s (reported) (target < 1)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory on the storage under test")
    parser.add_argument("--model", default="tiny-1b")
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--allocs", type=int, default=2, help="--max-concurrent-allocs")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds alternate benchmark-first / plain-first to cancel order bias")
    parser.add_argument("--no-global-drop", action="store_true",
                        help="never write /proc/sys/vm/drop_caches (fadvise only)")
    parser.add_argument("--json-out", default=None, help="also write the figures here")
    args = parser.parse_args()
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kv_cache_io_"))
    work = base / f"kv_cache_io_{os.getpid()}"
    rounds: list[dict] = []
    try:
        sizes = None
        for number in range(1, max(1, args.rounds) + 1):
            plain_first = sizes if number % 2 == 0 else None
            figures = measure_round(work, args, plain_first)
            sizes = [figures["bytes"] // max(1, figures["blocks"])] * figures["blocks"]
            rounds.append(figures)
            print_round(number, figures)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.dir:
            shutil.rmtree(base, ignore_errors=True)
    mean = lambda key: sum(r[key] for r in rounds) / len(rounds)  # noqa: E731
    summary = {key: mean(key) for key in ("write_ratio", "read_ratio", "per_op_write_ratio",
                                          "per_op_read_ratio")}
    summary["max_peak_rss_mb"] = max(r["peak_rss_mb"] for r in rounds)
    summary["max_time_to_first_io_s"] = max(r["time_to_first_io_s_reported"] for r in rounds)
    print(f"mean over {len(rounds)} rounds: write ratio {summary['write_ratio']:.2f}, read ratio "
          f"{summary['read_ratio']:.2f} (target >= 0.8); max peak RSS "
          f"{summary['max_peak_rss_mb']:.0f} MiB; max time to first I/O "
          f"{summary['max_time_to_first_io_s']:.3f} s")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"rounds": rounds, "summary": summary}, indent=4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
