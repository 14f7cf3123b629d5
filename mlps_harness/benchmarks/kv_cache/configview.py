"""configview and datasize for the KV cache suite: every Option's settings as each rank runs them, and what one
Option can put on the cache dir (upstream's `kvcache datasize`, with the real bytes per token)."""

from __future__ import annotations

from typing import Any

import yaml

GIB = 1024 ** 3
#: the largest context a synthetic user draws (the coding template's upper bound)
MAX_CONTEXT_TOKENS = 25_000


def configview_lines(plan: Any) -> list[str]:
    """Header lines: the Option set with the exact kv-cache.py flags, trials, delay and seeds."""
    doc = {"trials_per_option": plan.trials, "delay_between_options_s": plan.delay_s, "base_seed": plan.base_seed,
           "ranks": plan.num_processes, "cache_dir": str(plan.cache_dir),
           "options": {o.name: {**o.model_dump(exclude={"name"}), "kv_cache_args": plan.benchmark_args(o)}
                       for o in plan.options}}
    return ["configview: KV cache Option set:",
            *(f"    {line}" for line in yaml.safe_dump(doc, sort_keys=False).rstrip().splitlines())]


def datasize(plan: Any) -> dict[str, Any]:
    """Per Option: bytes per token, the largest block, and an upper estimate of the bytes on the cache dir (one
    full-context block per user, less what the GPU and CPU tiers hold), for one rank and for all ranks."""
    from kv_cache.models import block_bytes, get_model

    options = {}
    for option in plan.options:
        model = get_model(option.model)
        largest = block_bytes(model, MAX_CONTEXT_TOKENS, 1)
        working_set = option.num_users * largest
        in_memory = int((option.gpu_mem_gb + option.cpu_mem_gb) * GIB)
        per_rank = max(0, working_set - in_memory)
        options[option.name] = {"model": option.model, "bytes_per_token": model.bytes_per_token,
                                "users": option.num_users, "largest_block_bytes": largest,
                                "working_set_bytes": working_set, "memory_tier_bytes": in_memory,
                                "cache_dir_bytes_per_rank": per_rank,
                                "cache_dir_bytes_all_ranks": per_rank * plan.num_processes}
    return {"ranks": plan.num_processes, "max_context_tokens": MAX_CONTEXT_TOKENS, "options": options}


def datasize_lines(size: dict[str, Any]) -> list[str]:
    """The datasize figures with their inputs."""
    lines = [f"inputs: {size['ranks']} rank(s); one block of up to {size['max_context_tokens']} tokens per user"]
    for name, o in size["options"].items():
        lines.append(f"Option {name}: {o['model']} {o['bytes_per_token']} bytes/token, {o['users']} users, largest "
                     f"block {o['largest_block_bytes'] / GIB:.3f} GiB; up to {o['cache_dir_bytes_per_rank'] / GIB:.2f}"
                     f" GiB per rank on the cache dir ({o['cache_dir_bytes_all_ranks'] / GIB:.2f} GiB for all ranks; "
                     f"GPU+CPU tiers hold {o['memory_tier_bytes'] / GIB:.2f} GiB)")
    return lines
