"""Latency percentiles and thread-safe I/O counters."""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

PERCENTILE_NAMES = {"p50": 50.0, "p95": 95.0, "p99": 99.0, "p999": 99.9, "p9999": 99.99}


def latency_summary_ms(seconds: list[float]) -> dict[str, float]:
    """{mean,p50,p95,p99,p999,p9999} in milliseconds (zeros when empty)."""
    if not seconds:
        return {"mean": 0.0, **{name: 0.0 for name in PERCENTILE_NAMES}}
    values_ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    result = {"mean": float(values_ms.mean())}
    for name, pct in PERCENTILE_NAMES.items():
        result[name] = float(np.percentile(values_ms, pct))
    return result


@dataclass(frozen=True)
class OpTiming:
    """Seconds spent by one tier operation: total = device + host."""

    total: float
    device: float
    host: float


class BusyTimeTracker:
    """Wall time during which at least one operation of a kind was in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._busy_since = 0.0
        self.busy_seconds = 0.0

    def begin(self) -> None:
        """Mark one operation as started."""
        with self._lock:
            if self._in_flight == 0:
                self._busy_since = time.perf_counter()
            self._in_flight += 1

    def end(self) -> None:
        """Mark one operation as finished."""
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self.busy_seconds += time.perf_counter() - self._busy_since

    def reset(self) -> None:
        """Forget accumulated busy time (in-flight ops keep counting)."""
        with self._lock:
            self.busy_seconds = 0.0
            if self._in_flight:
                self._busy_since = time.perf_counter()


class IoCounters:
    """Per-tier bytes, op counts and latency samples (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter and sample list."""
        with self._lock:
            self.bytes = defaultdict(int)        # (tier, "read"|"write") -> bytes
            self.ops = defaultdict(int)          # (tier, "read"|"write") -> count
            self.latency = defaultdict(list)     # (tier, op) -> total seconds
            self.device = defaultdict(list)      # (tier, op) -> device seconds
            self.host = defaultdict(list)        # (tier, op) -> host seconds
            self.op_seconds = defaultdict(float)      # (tier, op) -> summed total seconds
            self.counts = defaultdict(int)       # named event counters
            self.read_busy = BusyTimeTracker()
            self.write_busy = BusyTimeTracker()

    def record(self, tier: str, op: str, nbytes: int, timing: OpTiming) -> None:
        """Add one completed tier operation."""
        with self._lock:
            key = (tier, op)
            self.bytes[key] += nbytes
            self.ops[key] += 1
            self.latency[key].append(timing.total)
            self.device[key].append(timing.device)
            self.host[key].append(timing.host)
            self.op_seconds[key] += timing.total

    def count(self, name: str, amount: int = 1) -> None:
        """Increment a named event counter (hits, misses, offloads...)."""
        with self._lock:
            self.counts[name] += amount
