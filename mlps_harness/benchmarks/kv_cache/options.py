"""The KV cache suite's own options."""

from __future__ import annotations

from typing import Any

from mlps_harness.argtypes import (
    non_negative_float,
    non_negative_int,
    positive_int,
)


def add_options(group: Any) -> None:
    """KV cache suite options (every count, duration and delay of the sequence can be set for OPEN runs)."""
    add = group.addoption
    add("--kv-cache-dir", default=None, help="kv_cache: NVMe tier directory on the storage under test, created if "
                                          "missing (default <data-dir>/kv_cache); each rank uses <dir>/rank_<N>")
    add("--kv-options", default=None, help="kv_cache: Options to run, e.g. 1,3 (default 1,2,3)")
    add("--kv-trials", type=positive_int, default=None, help="kv_cache: trials per Option (CLOSED 3)")
    add("--kv-duration", type=non_negative_float, default=None, help="kv_cache: seconds per trial (CLOSED 300)")
    add("--kv-users", type=positive_int, default=None, help="kv_cache: users per rank (CLOSED 200/100/70)")
    add("--kv-delay-between-options", type=non_negative_float, default=None, help="kv_cache: pause between Options in s "
                                                                      "(CLOSED 90)")
    add("--kv-model", default=None, help="kv_cache: model for every Option (CLOSED llama3.1-8b / -70b-instruct)")
    add("--kv-gpu-mem-gb", type=non_negative_float, default=None, help="kv_cache: GPU tier GiB (CLOSED 0)")
    add("--kv-cpu-mem-gb", type=non_negative_float, default=None, help="kv_cache: CPU tier GiB (CLOSED 0 / 4 / 0)")
    add("--kv-max-concurrent-allocs", type=non_negative_int, default=None, help="kv_cache: allocation limit (CLOSED 16/16/4)")
    add("--kv-generation-mode", default=None, help="kv_cache: none, fast or realistic (CLOSED none)")
    add("--kv-seed", type=non_negative_int, default=None, help="kv_cache: base seed; rank N uses seed+N (CLOSED 42)")
    add("--kv-extra-args", default=None, help="kv_cache: further kv-cache.py flags for every rank (OPEN), "
                                              "e.g. '--disable-multi-turn'")
    add("--kv-prefill-only", action="store_true", default=False, help="kv_cache: writes only (OPEN)")
    add("--kv-decode-only", action="store_true", default=False, help="kv_cache: reads only (OPEN)")
