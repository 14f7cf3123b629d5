"""MultiTierCache: LRU placement over GPU -> CPU -> NVMe with demotion.

Placement (``allocate``) tries tiers fastest first. A non-terminal tier rejects
a block larger than 95% of its limit (so a zero limit skips the tier); when a
block does not fit it evicts least-recently-used blocks until usage + new <=
80% of the limit, and each evicted block is *demoted* (written to the next
tier, then deleted here). The terminal NVMe tier evicts by deleting files and
may fill up to 100%; if no tier can take a block it is forced onto NVMe.
Reads (``access``) never promote; a hit only refreshes the LRU position.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .blockdata import BlockDataSource, key_hash
from .stats import IoCounters, OpTiming
from .tiers import BlockMissingError, Tier

NON_TERMINAL_MAX_FRACTION = 0.95
NON_TERMINAL_EVICT_TARGET = 0.80
MAX_DEMOTION_DEPTH = 10


@dataclass
class CacheEntry:
    """Bookkeeping for one stored block."""

    key: str
    block_hash: int
    size: int
    tokens: int
    tier_index: int
    access_count: int = 0


class MultiTierCache:
    """Three-tier LRU KV cache with byte accounting per tier."""

    def __init__(self, tiers: list[Tier], data: BlockDataSource, seed: int,
                 max_concurrent_allocs: int = 0) -> None:
        self.tiers = tiers
        self.data = data
        self.seed = seed
        self.counters = IoCounters()
        self.first_io_at: float | None = None     # perf_counter() of the first tier op
        self._lock = threading.RLock()
        self._entries: dict[str, CacheEntry] = {}
        self._lru: list[OrderedDict[str, CacheEntry]] = [OrderedDict() for _ in tiers]
        self._in_flight: set[str] = set()
        self.usage = [0 for _ in tiers]          # committed + reserved bytes
        self._alloc_gate = (threading.BoundedSemaphore(max_concurrent_allocs)
                            if max_concurrent_allocs > 0 else contextlib.nullcontext())

    # ----------------------------------------------------------- inspection
    def tier_of(self, key: str) -> str | None:
        """Name of the tier holding ``key`` (None if absent)."""
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else self.tiers[entry.tier_index].name

    def keys_in_lru_order(self, tier_name: str) -> list[str]:
        """Keys held by a tier, least recently used first."""
        index = self._tier_index(tier_name)
        with self._lock:
            return list(self._lru[index])

    def entry_count(self, tier_name: str) -> int:
        """Number of blocks held by a tier."""
        return len(self.keys_in_lru_order(tier_name))

    def used_bytes(self, tier_name: str) -> int:
        """Bytes accounted to a tier (including in-flight reservations)."""
        with self._lock:
            return self.usage[self._tier_index(tier_name)]

    def _tier_index(self, tier_name: str) -> int:
        for index, tier in enumerate(self.tiers):
            if tier.name == tier_name:
                return index
        raise KeyError(tier_name)

    def contains(self, key: str) -> bool:
        """True if ``key`` is stored in any tier."""
        with self._lock:
            return key in self._entries

    # ------------------------------------------------------------- placement
    def allocate(self, key: str, tokens: int, size: int, first_tier: int = 0) -> float:
        """Write block ``key`` (``size`` bytes) if absent; returns seconds spent.

        ``first_tier`` skips faster tiers (preconditioning writes NVMe only).
        """
        with self._lock:
            if key in self._entries or key in self._in_flight:
                return 0.0
            self._in_flight.add(key)
        try:
            with self._alloc_gate:
                entry = CacheEntry(key, key_hash(self.seed, key), size, tokens, -1)
                return self._place(entry, first_tier=first_tier, payload=None, depth=0)
        finally:
            with self._lock:
                self._in_flight.discard(key)

    def _place(self, entry: CacheEntry, first_tier: int, payload, depth: int) -> float:
        """Reserve space in the first tier that fits, demote victims, write."""
        with self._lock:
            chosen, victims = None, []
            for index in range(first_tier, len(self.tiers)):
                plan = self._plan_space(index, entry.size, force=False)
                if plan is not None:
                    chosen, victims = index, plan
                    break
            if chosen is None:
                chosen = len(self.tiers) - 1
                victims = self._plan_space(chosen, entry.size, force=True)
            for victim in victims:
                self._remove_entry(victim)
                self._in_flight.add(victim.key)
            self.usage[chosen] += entry.size
        seconds = 0.0
        try:
            for victim in victims:
                seconds += self._evict_or_demote(victim, chosen, depth)
            tier = self.tiers[chosen]
            timing = self._timed_io(tier, "write", entry, payload)
        except BaseException:
            with self._lock:
                self.usage[chosen] -= entry.size
            raise
        with self._lock:
            entry.tier_index = chosen
            self._entries[entry.key] = entry
            self._lru[chosen][entry.key] = entry
        if tier.name == "cpu":
            self.counters.count("offloads_cpu")
        elif tier.name == "storage":
            self.counters.count("offloads_storage")
        return seconds + timing.total

    def _plan_space(self, index: int, size: int, force: bool) -> list[CacheEntry] | None:
        """LRU victims to free for ``size`` bytes in tier ``index`` (None = no fit)."""
        tier = self.tiers[index]
        limit = tier.capacity_bytes
        if not tier.terminal and size > NON_TERMINAL_MAX_FRACTION * limit:
            return None
        used = self.usage[index]
        if used + size <= limit:
            return []
        target = limit if tier.terminal else NON_TERMINAL_EVICT_TARGET * limit
        victims, freed = [], 0
        for victim in self._lru[index].values():
            if used - freed + size <= target:
                break
            victims.append(victim)
            freed += victim.size
        if used - freed + size <= (target if tier.terminal else limit) or force:
            return victims
        return None

    def _remove_entry(self, entry: CacheEntry) -> None:
        """Drop an entry from the index (caller holds the lock)."""
        self._entries.pop(entry.key, None)
        self._lru[entry.tier_index].pop(entry.key, None)
        self.usage[entry.tier_index] -= entry.size

    def _evict_or_demote(self, victim: CacheEntry, from_tier: int, depth: int) -> float:
        """Demote a victim to the next tier, or delete it from the last tier."""
        tier = self.tiers[from_tier]
        if tier.terminal or depth >= MAX_DEMOTION_DEPTH:
            tier.delete(victim.key)
            with self._lock:
                self._in_flight.discard(victim.key)
            self.counters.count("evictions")
            return 0.0
        payload = tier.payload(victim.key)
        moved = CacheEntry(victim.key, victim.block_hash, victim.size, victim.tokens,
                           -1, victim.access_count)
        try:
            seconds = self._place(moved, from_tier + 1, payload, depth + 1)
        finally:
            tier.delete(victim.key)
            with self._lock:
                self._in_flight.discard(victim.key)
        self.counters.count("demotions")
        return seconds

    def _timed_io(self, tier: Tier, op: str, entry: CacheEntry, payload=None) -> OpTiming:
        if self.first_io_at is None:
            self.first_io_at = time.perf_counter()
        busy = None
        if tier.name == "storage":
            busy = self.counters.write_busy if op == "write" else self.counters.read_busy
            busy.begin()
        try:
            if op == "write":
                timing = tier.write(entry.key, entry.block_hash, entry.size, payload)
            else:
                timing = tier.read(entry.key, entry.block_hash, entry.size)
        finally:
            if busy is not None:
                busy.end()
        self.counters.record(tier.name, op, entry.size, timing)
        if tier.name == "storage":
            self.counters.count("storage_tokens_processed", entry.tokens)
        return timing

    # ----------------------------------------------------------------- reads
    def access(self, key: str) -> tuple[bool, float]:
        """Read block ``key`` from its tier. Returns (hit, seconds)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._lru[entry.tier_index].move_to_end(key)
                entry.access_count += 1
                tier = self.tiers[entry.tier_index]
        if entry is None:
            self.counters.count("cache_misses")
            return False, 0.0
        try:
            timing = self._timed_io(tier, "read", entry)
        except BlockMissingError:
            self.counters.count("cache_misses")
            return False, 0.0
        self.counters.count("cache_hits")
        return True, timing.total

    # ------------------------------------------------------------- lifecycle
    def reset_stats(self) -> None:
        """Zero the I/O counters (used after preconditioning)."""
        self.counters.reset()

    def clear(self) -> None:
        """Delete every stored block from every tier."""
        with self._lock:
            entries = list(self._entries.values())
            for entry in entries:
                self._remove_entry(entry)
        for entry in entries:
            self.tiers[entry.tier_index].delete(entry.key)
