"""Lazy, reproducible block payloads.

Block bytes are never materialised as a whole. A small pool of random words
(``pool_bytes``, default 16 MiB) is generated once from a seeded Philox
(counter-based) generator. Any byte range of any block is then produced on
demand: each 4 KiB page is a copy of a pool window chosen from a hash of
(seed, key, chunk index), and the first 8 bytes of every page are XORed with a
stamp derived from (key, page index). Every page is therefore unique per key
and position (no dedup across or within blocks), incompressible, and the same
key always yields the same bytes. Reads can verify the stamps cheaply.
"""
from __future__ import annotations

import hashlib
import threading

import numpy as np

PAGE_BYTES = 4096
WORDS_PER_PAGE = PAGE_BYTES // 8
DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024
DEFAULT_POOL_BYTES = 16 * 1024 * 1024
_MASK64 = (1 << 64) - 1


def key_hash(seed: int, key: str) -> int:
    """64-bit hash of a block key under a run seed."""
    digest = hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _mix64(value: int) -> int:
    """SplitMix64 finaliser: a cheap, well-spread 64-bit mix."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


class BlockDataSource:
    """Produces any byte range of any block from a bounded random pool."""

    def __init__(self, seed: int, pool_bytes: int = DEFAULT_POOL_BYTES,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        if chunk_bytes % PAGE_BYTES or pool_bytes < 2 * chunk_bytes:
            raise ValueError("chunk must be page aligned and pool >= 2 chunks")
        self.seed = seed
        self.pool_bytes = pool_bytes
        self.chunk_bytes = chunk_bytes
        self._pool: np.ndarray | None = None
        self._lock = threading.Lock()

    def _pool_words(self) -> np.ndarray:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    rng = np.random.Generator(np.random.Philox(key=self.seed & _MASK64))
                    words = self.pool_bytes // 8
                    self._pool = rng.integers(0, 2**63, size=words, dtype=np.uint64)
        return self._pool

    def _window_start_word(self, block_hash: int, chunk_index: int) -> int:
        span_pages = (self.pool_bytes - self.chunk_bytes) // PAGE_BYTES
        page = _mix64(block_hash ^ _mix64(chunk_index)) % (span_pages + 1)
        return page * WORDS_PER_PAGE

    def fill(self, block_hash: int, offset: int, out: np.ndarray) -> None:
        """Write block bytes [offset, offset+len(out)) into ``out`` (uint8).

        ``offset`` must be a multiple of ``chunk_bytes``; ``out`` may be at most
        one chunk long (the tail of a block may be shorter and unaligned).
        """
        if offset % self.chunk_bytes or out.nbytes > self.chunk_bytes:
            raise ValueError("fill works on whole chunks only")
        pool = self._pool_words()
        chunk_index = offset // self.chunk_bytes
        start = self._window_start_word(block_hash, chunk_index)
        whole_words = out.nbytes // 8
        out_words = out[: whole_words * 8].view(np.uint64)
        np.copyto(out_words, pool[start:start + whole_words])
        tail = out.nbytes - whole_words * 8
        if tail:
            last = pool[start + whole_words: start + whole_words + 1].view(np.uint8)
            out[whole_words * 8:] = last[:tail]
        pages = whole_words // WORDS_PER_PAGE
        if pages:
            stamps = self._page_stamps(block_hash, offset // PAGE_BYTES, pages)
            out_words[: pages * WORDS_PER_PAGE: WORDS_PER_PAGE] ^= stamps

    @staticmethod
    def _page_stamps(block_hash: int, first_page: int, count: int) -> np.ndarray:
        base = np.uint64(_mix64(block_hash))
        index = np.arange(first_page + 1, first_page + 1 + count, dtype=np.uint64)
        return index ^ base

    def expected_first_word(self, block_hash: int, offset: int) -> int:
        """The first 8 bytes that ``fill`` writes at a chunk offset."""
        pool = self._pool_words()
        start = self._window_start_word(block_hash, offset // self.chunk_bytes)
        stamp = self._page_stamps(block_hash, offset // PAGE_BYTES, 1)[0]
        return int(pool[start] ^ stamp)

    def block_bytes(self, block_hash: int, size: int) -> np.ndarray:
        """Materialise a whole block (used by the CPU tier and tests)."""
        out = np.empty(size, dtype=np.uint8)
        for offset in range(0, size, self.chunk_bytes):
            end = min(size, offset + self.chunk_bytes)
            self.fill(block_hash, offset, out[offset:end])
        return out
