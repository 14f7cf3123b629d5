"""The orchestrator: tiers, users, generator, workers, timing, cleanup."""
from __future__ import annotations

import hashlib
import logging
import math
import os
import queue
import random
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .blockdata import BlockDataSource
from .cache import MultiTierCache
from .config import BenchmarkConfig
from .models import block_bytes, get_model
from .procinfo import seconds_since_process_start
from .sources import (
    PacedGenerator,
    ShareGptTurns,
    TraceGenerator,
    load_burst_trace,
    load_sharegpt,
)
from .tiers import GIB, CpuTier, NvmeTier, OperationAborted, SimulatedGpuTier
from .workload import OpenLoopGenerator, Phase, Request, make_users, next_request

log = logging.getLogger("kv_cache")

MAX_WORKERS = 500
PREFIX_PROBABILITY = 0.2
DECODE_TOKENS_PER_READ = 32
PRECONDITION_TOKENS = 2048
DECODE_ONLY_BLOCKS_PER_USER = 10
SYSTEM_PROMPTS = (
    "You are a helpful assistant.",
    "You are a senior software engineer. Answer with working code and short explanations.",
    "You summarise long documents faithfully, citing section numbers for every claim.",
    "You are a customer support agent for a storage vendor. Be concise and polite.",
)


class _Abandoned(Exception):
    """The run stopped while a request was in progress."""


class RunRecorder:
    """Per-request results and workload-level counters (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.completed = 0
        self.tokens_generated = 0
        self.lists: dict[str, list[float]] = defaultdict(list)
        self.by_qos: dict[str, list[float]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)

    def count(self, name: str, amount: int = 1) -> None:
        """Increment a named counter."""
        with self.lock:
            self.counts[name] += amount


class KVCacheBenchmark:
    """Runs one benchmark and returns the raw material for the report."""

    def __init__(self, config: BenchmarkConfig) -> None:
        self.config = config
        self.model = get_model(config.model)
        self.seed = config.seed if config.seed is not None else random.SystemRandom().randrange(2**31)
        self.rng = random.Random(self.seed)
        np.random.seed(self.seed % 2**32)
        self.stop = threading.Event()
        self.done = threading.Event()
        self.recorder = RunRecorder()
        self.failure: BaseException | None = None
        self._temp_dir: Path | None = None
        self.cache_dir = self._prepare_cache_dir()
        self.data = BlockDataSource(self.seed)
        self.nvme = NvmeTier(self._storage_limit_bytes(), self.data, self.cache_dir)
        self.nvme.abort = self.stop
        tiers = [
            SimulatedGpuTier(int(config.gpu_mem_gb * config.num_gpus * GIB), self.data,
                             config.simulated_gpu_bandwidth_gbps),
            CpuTier(int(config.cpu_mem_gb * GIB), self.data),
            self.nvme,
        ]
        self.cache = MultiTierCache(tiers, self.data, self.seed, config.max_concurrent_allocs)
        self.elapsed = 0.0
        self.time_to_first_io_s: float | None = None
        self.precondition_bytes = 0

    # ------------------------------------------------------------------ setup
    def _prepare_cache_dir(self) -> Path:
        if self.config.cache_dir is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="kv_cache_"))
            return self._temp_dir
        return Path(self.config.cache_dir)

    def _storage_limit_bytes(self) -> int:
        if self.config.storage_capacity_gb > 0:
            return int(self.config.storage_capacity_gb * GIB)
        stats = os.statvfs(self.cache_dir)
        return int(0.95 * stats.f_bavail * stats.f_frsize)

    def block_size(self, tokens: int) -> int:
        """Bytes of a block of ``tokens`` tokens for this model and TP degree."""
        return block_bytes(self.model, tokens, self.config.tensor_parallel)

    # -------------------------------------------------------------------- run
    def run(self) -> None:
        """Precondition, run the measured phase, and always clean up files."""
        succeeded = False
        try:
            removed = self.nvme.remove_stale_files()
            if removed:
                log.info("removed %d stale block files from %s", removed, self.cache_dir)
            if self.config.precondition:
                self._precondition()
            users = make_users(self.config.num_users, self.rng)
            if self.config.decode_only:
                self._prepopulate_for_decode(users)
            self.cache.reset_stats()
            self._measured_phase(users)
            if self.failure is not None:
                raise self.failure
            succeeded = True
        finally:
            self.cleanup(keep_files=self.config.keep_cache_files and succeeded)

    def cleanup(self, keep_files: bool) -> None:
        """Remove the block files this run created (and a temp cache dir)."""
        if not keep_files:
            self.nvme.remove_created_files()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def _measured_phase(self, users) -> None:
        requests: queue.PriorityQueue[Request] = queue.PriorityQueue()
        generator = self._generator(users, requests)
        workers = [threading.Thread(target=self._worker_loop, args=(requests, index),
                                    name=f"kv-worker-{index}", daemon=True)
                   for index in range(min(len(users), MAX_WORKERS))]
        start = time.perf_counter()
        try:  # threads start inside the try: a signal while starting them must still stop and join them
            generator.start()
            for worker in workers:
                worker.start()
            self.done.wait(self.config.duration)
        finally:  # also on Ctrl-C / SIGTERM: stop and join before files go
            self.stop.set()
            self.elapsed = time.perf_counter() - start
            for thread in (generator, *workers):
                if thread.ident is not None:  # started
                    thread.join()
        if self.cache.first_io_at is not None:
            self.time_to_first_io_s = seconds_since_process_start(self.cache.first_io_at)

    def _generator(self, users, requests: queue.PriorityQueue):
        """The request source: synthetic users, ShareGPT turns or a trace; paced by think time or a rate."""
        config, rng = self.config, random.Random(self.seed + 1)
        if config.burst_trace_path is not None:
            rows = config.trace_rows or load_burst_trace(config.burst_trace_path)
            return TraceGenerator(rows, requests, rng, self.stop, config.trace_speedup, config.replay_cycles,
                                  config.max_requests)
        make = None
        if config.dataset_path is not None:
            conversations = config.conversations or load_sharegpt(config.dataset_path, config.max_conversations)
            make = ShareGptTurns(conversations, config.multi_turn)
        if config.request_rate > 0:
            make = make or (lambda user, r, now: next_request(user, r, config.multi_turn, now))
            return PacedGenerator(users, requests, rng, self.stop, config.request_rate, make, config.max_requests)
        return OpenLoopGenerator(users, requests, rng, self.stop, config.multi_turn, config.max_requests, make)

    def _worker_loop(self, requests: queue.PriorityQueue, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        while not self.stop.is_set():
            try:
                request = requests.get(timeout=0.05)
            except queue.Empty:
                continue
            try:
                self._process(request, rng)
            except (_Abandoned, OperationAborted):
                continue
            except Exception as exc:  # storage full or a bug: stop the whole run
                self.failure = exc
                self.stop.set()
                self.done.set()
                return

    def _check_running(self) -> None:
        if self.stop.is_set():
            raise _Abandoned()

    # ---------------------------------------------------------------- request
    def _process(self, request: Request, rng: random.Random) -> None:
        config, cache, rec = self.config, self.cache, self.recorder
        storage = prefill = decode = 0.0
        context = request.context_tokens
        category = "user_cache_hits"
        if config.prefix_caching and not config.decode_only and rng.random() < PREFIX_PROBABILITY:
            prompt = rng.choice(SYSTEM_PROMPTS)
            digest = hashlib.sha1(prompt.encode()).hexdigest()[:12]
            hit, seconds = cache.access(f"kv_system_{digest}")
            storage += seconds
            rec.count("prefix_hits" if hit else "prefix_misses")
            rec.count("system_prompt_reuse")
            if hit:
                rec.count("prefix_bytes_saved", self.block_size(len(prompt.split())))
            context = max(1, context - len(prompt.split()))
            category = "system_prompt_hits"
        if not config.decode_only:
            for turn_key in request.previous_turn_keys:
                self._check_running()
                hit, seconds = cache.access(turn_key)
                storage += seconds
                rec.count("multi_turn_hits" if hit else "multi_turn_misses")
            self._check_running()
            key, size = request.key, self.block_size(context)
            prefill = cache.allocate(key, context, size)
            rec.count("prefill_writes")
        else:
            index = rng.randrange(DECODE_ONLY_BLOCKS_PER_USER)
            key, context = f"decode_{request.user_id}_{index}", PRECONDITION_TOKENS
            size = self.block_size(context)
        storage += prefill
        if not config.prefill_only and (request.phase is not Phase.PREFILL or config.decode_only):
            reads = 1 + math.ceil(request.generation_tokens / DECODE_TOKENS_PER_READ)
            for number in range(reads):
                self._check_running()
                hit, seconds = cache.access(key)
                rec.count("decode_reads")
                if hit:
                    rec.count(category)
                elif number == 0:
                    seconds += cache.allocate(key, context, size)
                decode += seconds
            storage += decode
        generation = request.generation_tokens * config.generation_delay_per_token_s
        if generation and self.stop.wait(generation):
            raise _Abandoned()
        finished = time.perf_counter()
        with rec.lock:
            rec.completed += 1
            rec.tokens_generated += request.generation_tokens
            rec.lists["end_to_end_latencies"].append(finished - request.submitted_at)
            rec.lists["storage_latencies"].append(storage)
            rec.lists["generation_latencies"].append(generation)
            rec.lists["prefill_latencies"].append(prefill)
            rec.lists["decode_latencies"].append(decode)
            rec.by_qos[request.qos.name.lower()].append(finished - request.submitted_at)
            if config.max_requests and rec.completed >= config.max_requests:
                self.done.set()

    # ----------------------------------------------------------- preparation
    def _precondition(self) -> None:
        target = (self.config.precondition_size_gb * GIB if self.config.precondition_size_gb > 0
                  else 2 * self.nvme.capacity_bytes)
        size = self.block_size(PRECONDITION_TOKENS)
        count = max(1, math.ceil(target / max(1, size)))
        threads = self.config.precondition_threads or min(4, os.cpu_count() or 1)
        storage_tier = len(self.cache.tiers) - 1
        log.info("preconditioning: %d blocks of %.1f MiB with %d threads",
                 count, size / 2**20, threads)

        def write_one(number: int) -> None:
            self.cache.allocate(f"precond_{number:08d}", PRECONDITION_TOKENS, size, storage_tier)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(write_one, n) for n in range(count)]:
                future.result()
        self.precondition_bytes = count * size

    def _prepopulate_for_decode(self, users) -> None:
        size = self.block_size(PRECONDITION_TOKENS)
        for user in users:
            for index in range(DECODE_ONLY_BLOCKS_PER_USER):
                self.cache.allocate(f"decode_{user.user_id}_{index}", PRECONDITION_TOKENS, size)
