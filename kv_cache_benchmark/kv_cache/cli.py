"""Command line: upstream-compatible flags, validation, output writing."""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import time
from pathlib import Path

from .config import GENERATION_DELAY_PER_TOKEN_S, BenchmarkConfig
from .errors import BenchmarkUsageError, StorageUnavailableError
from .models import DEFAULT_MODEL, MODEL_CONFIGS
from .sources import load_burst_trace, load_sharegpt

MAX_SIZE_GB = 1024.0 * 1024.0          # 1 PiB: anything larger is a typo
MAX_USERS = 100_000
MAX_DURATION_S = 86_400
SYSTEM_DIRS = ("/", "/proc", "/sys", "/dev", "/etc", "/bin", "/sbin", "/usr", "/boot", "/lib")
SYSTEM_TREES = ("/proc/", "/sys/", "/etc/", "/boot/")   # /dev/shm stays allowed
UNAVAILABLE_FEATURES = {
    "enable_rag": "--enable-rag", "enable_autoscaling": "--enable-autoscaling",
    "io_trace_log": "--io-trace-log", "enable_latency_tracing": "--enable-latency-tracing",
    "validation_trace": "--validation-trace", "xlsx_output": "--xlsx-output",
}
#: flags that only tune a feature: refused unless that feature is on (never accepted and ignored)
DEPENDENT_FLAGS = {
    "rag_num_docs": ("--rag-num-docs", "--enable-rag, which is not available"),
    "autoscaler_mode": ("--autoscaler-mode", "--enable-autoscaling, which is not available"),
    "target_saturation": ("--target-saturation", "--enable-autoscaling, which is not available"),
    "max_conversations": ("--max-conversations", "--dataset-path"),
    "burst_trace_path": ("--burst-trace-path", "--use-burst-trace"),
    "trace_speedup": ("--trace-speedup", "--use-burst-trace"),
    "replay_cycles": ("--replay-cycles", "--use-burst-trace"),
}
DEFAULT_BURST_TRACE = "BurstGPT/data/BurstGPT_1.csv"


class _RaisingParser(argparse.ArgumentParser):
    """argparse that raises BenchmarkUsageError instead of exiting."""

    def error(self, message: str):  # type: ignore[override]
        option, problem = "arguments", message
        if message.startswith("argument ") and ": " in message:
            option, problem = message[len("argument "):].split(": ", 1)
        problem = (problem.replace("invalid int value", "expected an integer, got")
                   .replace("invalid float value", "expected a number, got"))
        raise BenchmarkUsageError(option, problem, "run kv-cache.py --help for valid values")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (flags and defaults as upstream, plus ours)."""
    p = _RaisingParser(prog="kv-cache.py", description="KV-cache offload storage benchmark")
    add = p.add_argument
    add("--model", default=DEFAULT_MODEL, help=f"one of {', '.join(MODEL_CONFIGS)}")
    add("--num-users", type=int, default=100)
    add("--duration", type=float, default=60.0, help="seconds")
    add("--gpu-mem-gb", type=float, default=16.0)
    add("--num-gpus", type=int, default=1)
    add("--tensor-parallel", type=int, default=1)
    add("--cpu-mem-gb", type=float, default=32.0)
    add("--cache-dir", default=None, help="NVMe tier directory (default: a temp dir)")
    add("--generation-mode", choices=sorted(GENERATION_DELAY_PER_TOKEN_S), default="realistic")
    add("--performance-profile", choices=["latency", "throughput"], default="latency")
    add("--disable-multi-turn", action="store_true")
    add("--disable-prefix-caching", action="store_true")
    add("--enable-rag", action="store_true", help="not available")
    add("--rag-num-docs", type=int, default=None, help="not available (needs --enable-rag)")
    add("--enable-autoscaling", action="store_true", help="not available")
    add("--autoscaler-mode", choices=["qos", "capacity"], default=None, help="not available")
    add("--target-saturation", type=float, default=None, help="not available")
    add("--use-burst-trace", action="store_true", help="replay a local BurstGPT-format CSV trace")
    add("--burst-trace-path", default=None, help=f"the trace CSV (default {DEFAULT_BURST_TRACE})")
    add("--validation-trace", default=None, help="not available")
    add("--dataset-path", default=None, help="a local ShareGPT-format JSON file: replay its conversations")
    add("--max-conversations", type=int, default=None, help="conversations read from --dataset-path (default 500)")
    add("--output", default=None, help="result JSON (default benchmark_results_<ts>.json)")
    add("--seed", type=int, default=None)
    add("--max-concurrent-allocs", type=int, default=0)
    add("--request-rate", type=float, default=0.0,
        help="requests per second, Poisson arrivals (0 = each user's think time)")
    add("--max-requests", type=int, default=0)
    add("--xlsx-output", default=None, help="not available")
    add("--config", default=None, help="YAML file of flag defaults ({num-users: 4, ...}); command-line flags win")
    add("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    add("--storage-capacity-gb", type=float, default=0.0)
    add("--precondition", action="store_true")
    add("--precondition-size-gb", type=float, default=0.0)
    add("--precondition-threads", type=int, default=0)
    add("--trace-speedup", type=float, default=None, help="divide trace times by this (default 1)")
    add("--replay-cycles", type=int, default=None, help="trace replays (default 0 = until the run ends)")
    add("--prefill-only", action="store_true")
    add("--decode-only", action="store_true")
    add("--io-trace-log", default=None, help="not available")
    add("--enable-latency-tracing", action="store_true", help="not available")
    add("--simulated-gpu-bandwidth-gbps", type=float, default=64.0,
        help="ours: GiB/s of the simulated GPU tier")
    add("--keep-cache-files", action="store_true", help="ours: leave block files at exit")
    return p


def _check_range(option: str, value: float, low: float, high: float, unit: str = "") -> None:
    if not math.isfinite(value) or value < low or value > high:
        raise BenchmarkUsageError(
            option, f"got {value}{unit}, expected a value between {low:g} and {high:g}{unit}",
            f"pass {option} with a value in that range")


def _check_cache_dir(raw: str, storage_gb: float, create: bool = True) -> Path:
    path = Path(raw).expanduser().resolve()
    if str(path) in SYSTEM_DIRS or str(path).startswith(SYSTEM_TREES):
        raise BenchmarkUsageError("--cache-dir", f"{path} is a system directory",
                                  "point --cache-dir at a directory on the storage under test")
    if not path.exists() and not create:
        return path     # a dry run (the suite's --what-if): checked once it exists
    if not path.exists():
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise BenchmarkUsageError("--cache-dir", f"{path} does not exist and cannot be created "
                                      f"({exc.strerror})", "pass a directory you may create or write") from None
        print(f"kv-cache.py: created --cache-dir {path}", file=sys.stderr)
    if not path.is_dir():
        raise BenchmarkUsageError("--cache-dir", f"{path} is not a directory",
                                  "pass a directory, not a file")
    probe = path / f".kvcache_probe_{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"x" * 4096)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as exc:
        raise BenchmarkUsageError("--cache-dir", f"{path} is not writable ({exc.strerror})",
                                  "fix permissions/free space or choose another directory") from None
    stats = os.statvfs(path)
    free_gb = stats.f_bavail * stats.f_frsize / 1024 ** 3
    if free_gb < 0.0625:
        raise BenchmarkUsageError("--cache-dir", f"{path} is full ({free_gb * 1024:.0f} MiB free)",
                                  "free some space or choose another directory")
    if storage_gb > free_gb:
        raise BenchmarkUsageError(
            "--storage-capacity-gb", f"{storage_gb:g} GB exceeds the {free_gb:.1f} GB free in {path}",
            "pass a smaller --storage-capacity-gb (0 = use 95%% of free space)".replace("%%", "%"))
    return path


def config_argv(parser: argparse.ArgumentParser, path: Path) -> list[str]:
    """A `--config` YAML mapping of flag names (dashes or underscores) to values, as the argv it stands for
    (placed before the command line, so an explicit flag wins). Unknown keys and bad files are usage errors."""
    import yaml

    if not path.is_file():
        raise BenchmarkUsageError("--config", f"{path} does not exist or is not a file", "pass a YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BenchmarkUsageError("--config", f"{path} is not valid YAML ({str(exc).splitlines()[0]})",
                                  "fix the file (a mapping such as `num-users: 4`)") from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise BenchmarkUsageError("--config", f"{path} holds a {type(data).__name__}, expected a mapping",
                                  "write one `flag-name: value` per line")
    actions = {a.dest: a for a in parser._actions if a.option_strings}
    out: list[str] = []
    for key, value in data.items():
        dest = str(key).lstrip("-").replace("-", "_")
        action = actions.get(dest)
        if action is None or dest in ("config", "help"):
            raise BenchmarkUsageError("--config", f"{path}: unknown key {key!r}",
                                      "use kv-cache.py flag names without the dashes (run kv-cache.py --help)")
        flag = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            if not isinstance(value, bool):
                raise BenchmarkUsageError("--config", f"{path}: {key} must be true or false, got {value!r}",
                                          f"write `{key}: true`")
            out += [flag] if value else []
        elif isinstance(value, (dict, list)) or value is None:
            raise BenchmarkUsageError("--config", f"{path}: {key} must be a single value, got {value!r}",
                                      f"write `{key}: <value>`")
        else:
            out += [flag, str(value).lower() if isinstance(value, bool) else str(value)]
    return out


def parse_config(argv: list[str] | None, create_dirs: bool = True) -> BenchmarkConfig:
    """Parse and validate ``argv``; raises BenchmarkUsageError on bad input. A missing --cache-dir is created
    (with a line on stderr) unless ``create_dirs`` is false (a dry run), when it is left unchecked."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    config_file = None
    if args.config:
        config_file = Path(args.config).expanduser()
        args = parser.parse_args([*config_argv(parser, config_file), *argv])
    for attr, flag in UNAVAILABLE_FEATURES.items():
        if getattr(args, attr):
            raise BenchmarkUsageError(flag, "this feature is not available in this implementation",
                                      f"remove {flag}; see kv_cache_benchmark/README.md")
    enabled = {"--dataset-path": bool(args.dataset_path), "--use-burst-trace": args.use_burst_trace}
    for attr, (flag, needs) in DEPENDENT_FLAGS.items():
        if getattr(args, attr) is not None and not enabled.get(needs, False):
            raise BenchmarkUsageError(flag, f"only used with {needs}", f"remove {flag}")
    if args.use_burst_trace and (args.dataset_path or args.request_rate):
        raise BenchmarkUsageError("--use-burst-trace", "the trace sets the arrival times and the request sizes, so "
                                  "--dataset-path and --request-rate cannot be combined with it",
                                  "pass either the trace or --dataset-path/--request-rate")
    _check_range("--request-rate", args.request_rate, 0, 1e6, " req/s")
    if args.model not in MODEL_CONFIGS:
        raise BenchmarkUsageError("--model", f"unknown model {args.model!r}, expected one of "
                                  f"{', '.join(MODEL_CONFIGS)}", "pass one of those names")
    if args.prefill_only and args.decode_only:
        raise BenchmarkUsageError("--prefill-only/--decode-only", "both were given but they are "
                                  "mutually exclusive", "pass at most one of them")
    _check_range("--num-users", args.num_users, 1, MAX_USERS)
    _check_range("--duration", args.duration, 0.001, MAX_DURATION_S, " s")
    for flag in ("gpu_mem_gb", "cpu_mem_gb", "storage_capacity_gb", "precondition_size_gb"):
        _check_range("--" + flag.replace("_", "-"), getattr(args, flag), 0, MAX_SIZE_GB, " GB")
    _check_range("--num-gpus", args.num_gpus, 0, 1024)
    _check_range("--tensor-parallel", args.tensor_parallel, 1, max(1, args.num_gpus))
    _check_range("--max-concurrent-allocs", args.max_concurrent_allocs, 0, 100_000)
    _check_range("--max-requests", args.max_requests, 0, 10 ** 9)
    _check_range("--precondition-threads", args.precondition_threads, 0, 256)
    _check_range("--seed", args.seed if args.seed is not None else 0, 0, 2 ** 32 - 1)
    _check_range("--simulated-gpu-bandwidth-gbps", args.simulated_gpu_bandwidth_gbps, 0.001, 1e5)
    max_conversations = 500 if args.max_conversations is None else args.max_conversations
    speedup = 1.0 if args.trace_speedup is None else args.trace_speedup
    cycles = 0 if args.replay_cycles is None else args.replay_cycles
    _check_range("--max-conversations", max_conversations, 1, 10 ** 9)
    _check_range("--replay-cycles", cycles, 0, 10 ** 9)
    _check_range("--trace-speedup", speedup, 1e-6, 1e6)
    conversations = trace_rows = None
    dataset_path = trace_path = None
    if args.dataset_path:
        dataset_path = Path(args.dataset_path).expanduser()
        conversations = load_sharegpt(dataset_path, max_conversations)
    if args.use_burst_trace:
        trace_path = Path(args.burst_trace_path or DEFAULT_BURST_TRACE).expanduser()
        trace_rows = load_burst_trace(trace_path)
    cache_dir = (_check_cache_dir(args.cache_dir, args.storage_capacity_gb, create_dirs)
                 if args.cache_dir else None)
    output = Path(args.output) if args.output else None
    if output is not None and not output.resolve().parent.is_dir():
        raise BenchmarkUsageError("--output", f"directory {output.resolve().parent} does not exist",
                                  "create it first or choose another --output path")
    return BenchmarkConfig(
        model=args.model, num_users=args.num_users, duration=args.duration,
        gpu_mem_gb=args.gpu_mem_gb, num_gpus=args.num_gpus, tensor_parallel=args.tensor_parallel,
        cpu_mem_gb=args.cpu_mem_gb, cache_dir=cache_dir, generation_mode=args.generation_mode,
        performance_profile=args.performance_profile, multi_turn=not args.disable_multi_turn,
        prefix_caching=not args.disable_prefix_caching, seed=args.seed,
        max_concurrent_allocs=args.max_concurrent_allocs, max_requests=args.max_requests,
        storage_capacity_gb=args.storage_capacity_gb, precondition=args.precondition,
        precondition_size_gb=args.precondition_size_gb,
        precondition_threads=args.precondition_threads, prefill_only=args.prefill_only,
        decode_only=args.decode_only, output=output,
        simulated_gpu_bandwidth_gbps=args.simulated_gpu_bandwidth_gbps,
        keep_cache_files=args.keep_cache_files, log_level=args.log_level, request_rate=args.request_rate,
        dataset_path=dataset_path, max_conversations=max_conversations, burst_trace_path=trace_path,
        trace_speedup=speedup, replay_cycles=cycles, config_file=config_file, conversations=conversations,
        trace_rows=trace_rows)


def execute(config: BenchmarkConfig) -> dict:
    """Run a validated config and return the result dict (no file output)."""
    from .benchmark import KVCacheBenchmark
    from .report import build_results
    bench = KVCacheBenchmark(config)
    bench.run()
    return build_results(bench)


def write_results(results: dict, path: Path) -> None:
    """Write the result JSON with indent 4."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=4)


def _warn_memory(config: BenchmarkConfig) -> None:
    try:
        total_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    except (ValueError, OSError):
        return
    if config.cpu_mem_gb > 0.8 * total_gb:
        logging.getLogger("kv_cache").warning(
            "--cpu-mem-gb %.1f is close to or above physical RAM (%.1f GB): the CPU tier holds "
            "real bytes and may exhaust memory", config.cpu_mem_gb, total_gb)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the process exit code (0 ok, 2 bad input/storage)."""
    try:
        config = parse_config(argv)
    except BenchmarkUsageError as exc:
        print(f"kv-cache.py: error: {exc.option}: {exc.problem}.\n  how to fix: {exc.fix}",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _warn_memory(config)
    output = config.output or Path(f"benchmark_results_{time.strftime('%Y%m%d_%H%M%S')}.json")
    try:
        signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:
        pass  # not the main thread
    try:
        results = execute(config)
    except StorageUnavailableError as exc:
        print(f"kv-cache.py: error: storage failed: {exc}.\n  The run was stopped and the "
              f"block files it created were removed.\n  how to fix: free space in --cache-dir "
              f"or lower --storage-capacity-gb", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kv-cache.py: interrupted; block files removed", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal bug: short message, details at DEBUG
        logging.getLogger("kv_cache").debug("internal error", exc_info=True)
        print(f"kv-cache.py: internal error: {exc!r} (rerun with --log-level DEBUG for details)",
              file=sys.stderr)
        return 1
    from .report import format_assessment
    write_results(results, output)
    print(format_assessment(results))
    print(f"results written to {output}")
    return 0
