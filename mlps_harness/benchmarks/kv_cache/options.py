"""The KV cache suite's options, declared as `FLAGS` (`--kv-*`, one option group). Every count, duration and delay
of the sequence can be set for OPEN runs; the helps name the CLOSED values.

kv_cache_benchmark/kv-cache.py keeps its own upstream-compatible command line: the suite builds its argv.
"""

from __future__ import annotations

from typing import Any

from mlps_harness.argtypes import non_negative_float, non_negative_int, positive_int
from mlps_harness.flags import Flag, FlagSet

FLAGS = FlagSet(prefix="kv-", label="kv_cache", flags=(
    Flag("cache-dir", metavar="DIR", help="NVMe tier directory on the storage under test, created if missing; each "
                                          "rank uses <dir>/rank_<N>", suite_default="<data-dir>/kv_cache"),
    Flag("options", metavar="LIST", help="Options to run, e.g. 1,3", default_text="1,2,3"),
    Flag("trials", type=positive_int, metavar="N", help="trials per Option (CLOSED 3)"),
    Flag("duration", type=non_negative_float, metavar="SECONDS", help="seconds per trial (CLOSED 300)"),
    Flag("users", type=positive_int, metavar="N", help="users per rank (CLOSED 200/100/70)"),
    Flag("delay-between-options", type=non_negative_float, metavar="SECONDS",
         help="pause between Options in s (CLOSED 90)"),
    Flag("model", metavar="NAME", help="model for every Option (CLOSED llama3.1-8b / -70b-instruct)"),
    Flag("gpu-mem-gb", type=non_negative_float, metavar="GIB", help="GPU tier GiB (CLOSED 0)"),
    Flag("cpu-mem-gb", type=non_negative_float, metavar="GIB", help="CPU tier GiB (CLOSED 0 / 4 / 0)"),
    Flag("max-concurrent-allocs", type=non_negative_int, metavar="N", help="allocation limit (CLOSED 16/16/4)"),
    Flag("generation-mode", metavar="MODE", help="none, fast or realistic (CLOSED none)"),
    Flag("seed", type=non_negative_int, metavar="N", help="base seed; rank N uses seed+N (CLOSED 42)"),
    Flag("extra-args", metavar="ARGS", help="further kv-cache.py flags for every rank (OPEN), e.g. "
                                            "'--disable-multi-turn'"),
    Flag("prefill-only", action="store_true", help="writes only (OPEN)"),
    Flag("decode-only", action="store_true", help="reads only (OPEN)"),
))


def add_options(group: Any) -> None:
    """The KV cache suite's options (`FLAGS`) into its option group."""
    FLAGS.add_to_suite(group.addoption)
