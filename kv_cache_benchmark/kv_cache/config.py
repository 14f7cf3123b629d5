"""Validated run settings shared by the CLI, the orchestrator and the report."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

GENERATION_DELAY_PER_TOKEN_S = {"none": 0.0, "fast": 0.002, "realistic": 0.030}


@dataclass
class BenchmarkConfig:
    """Everything one benchmark run needs (built by ``cli.parse_config``)."""

    model: str = "llama3.1-8b"
    num_users: int = 100
    duration: float = 60.0
    gpu_mem_gb: float = 16.0
    num_gpus: int = 1
    tensor_parallel: int = 1
    cpu_mem_gb: float = 32.0
    cache_dir: Path | None = None
    generation_mode: str = "realistic"
    performance_profile: str = "latency"
    multi_turn: bool = True
    prefix_caching: bool = True
    seed: int | None = None
    max_concurrent_allocs: int = 0
    max_requests: int = 0
    storage_capacity_gb: float = 0.0
    precondition: bool = False
    precondition_size_gb: float = 0.0
    precondition_threads: int = 0
    prefill_only: bool = False
    decode_only: bool = False
    output: Path | None = None
    simulated_gpu_bandwidth_gbps: float = 64.0
    keep_cache_files: bool = False
    log_level: str = "INFO"
    request_rate: float = 0.0
    dataset_path: Path | None = None
    max_conversations: int = 500
    burst_trace_path: Path | None = None
    trace_speedup: float = 1.0
    replay_cycles: int = 0
    config_file: Path | None = None
    conversations: list | None = None     # loaded from dataset_path by the CLI (validated there)
    trace_rows: list | None = None        # loaded from burst_trace_path by the CLI

    @property
    def request_source(self) -> str:
        """synthetic, sharegpt or burst_trace."""
        if self.burst_trace_path is not None:
            return "burst_trace"
        return "sharegpt" if self.dataset_path is not None else "synthetic"

    @property
    def generation_delay_per_token_s(self) -> float:
        """Sleep per generated token for the chosen generation mode."""
        return GENERATION_DELAY_PER_TOKEN_S[self.generation_mode]
