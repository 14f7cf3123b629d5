"""KV-cache offload storage benchmark (numpy only).

Public API::

    run_benchmark(argv) -> dict      # same flags as kv-cache.py; raises on bad input
    main(argv) -> int                # the CLI: prints, writes JSON, returns exit code
    rank_metrics(result) / aggregate_ranks(results) / rank_seed(rank)
    TOP_LEVEL_KEYS, SUMMARY_KEYS, CACHE_STATS_KEYS, CACHE_STATS_RATE_KEYS, ...
"""
from __future__ import annotations

from .cli import build_parser, execute, main, parse_config, write_results
from .errors import BenchmarkUsageError, StorageUnavailableError
from .keys import (CACHE_STATS_KEYS, CACHE_STATS_RATE_KEYS, RUN_INFO_KEY, RUN_INFO_KEYS,
                   STORAGE_HEALTH_KEYS, SUMMARY_KEYS, TOP_LEVEL_KEYS)
from .models import MODEL_CONFIGS, get_model
from .ranks import RANK_METRIC_KEYS, aggregate_ranks, rank_metrics, rank_seed

__all__ = [
    "run_benchmark", "main", "build_parser", "parse_config", "execute", "write_results",
    "BenchmarkUsageError", "StorageUnavailableError", "MODEL_CONFIGS", "get_model",
    "TOP_LEVEL_KEYS", "SUMMARY_KEYS", "CACHE_STATS_KEYS", "CACHE_STATS_RATE_KEYS",
    "STORAGE_HEALTH_KEYS", "RUN_INFO_KEY", "RUN_INFO_KEYS",
    "RANK_METRIC_KEYS", "rank_metrics", "aggregate_ranks", "rank_seed",
]


def run_benchmark(argv: list[str]) -> dict:
    """Run the benchmark from a kv-cache.py argv list and return the result dict.

    Writes the JSON only if ``--output`` is given. Raises BenchmarkUsageError on
    bad input and StorageUnavailableError if the cache directory fails.
    """
    config = parse_config(list(argv))
    results = execute(config)
    if config.output is not None:
        write_results(results, config.output)
    return results
