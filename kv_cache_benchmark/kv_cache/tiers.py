"""The three storage tiers: simulated GPU, CPU RAM, NVMe files.

Every operation returns an :class:`OpTiming` (total, device, host seconds).
"""
from __future__ import annotations

import errno
import io
import os
import re
import threading
import time
from pathlib import Path

import numpy as np

from .blockdata import BlockDataSource
from .errors import StorageUnavailableError
from .stats import OpTiming

GIB = 1024 ** 3
FAULT_ENV_ENOSPC_AFTER_BYTES = "MLPS_KVCACHE_FAULT_ENOSPC_AFTER_BYTES"
OUR_FILE_PATTERN = re.compile(r"^(conv_|user_|precond_|decode_|kv_system_).*\.npy$")
_NO_SPACE_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


class BlockMissingError(Exception):
    """The block vanished from the tier (evicted or demoted concurrently)."""


class OperationAborted(Exception):
    """The run is stopping: a long block transfer was cut short."""


class _Scratch(threading.local):
    """One reusable chunk buffer per thread (bounded memory per worker)."""

    def get(self, nbytes: int) -> np.ndarray:
        buf = getattr(self, "buf", None)
        if buf is None or buf.nbytes < nbytes:
            buf = self.buf = np.empty(nbytes, dtype=np.uint8)
        return buf


class Tier:
    """Common interface: capacity in bytes and block write/read/delete."""

    name = "tier"
    terminal = False

    def __init__(self, capacity_bytes: int, data: BlockDataSource) -> None:
        self.capacity_bytes = int(capacity_bytes)
        self.data = data

    def write(self, key: str, block_hash: int, size: int,
              payload: np.ndarray | None = None) -> OpTiming:
        """Store a block; ``payload`` is given when demoting from a RAM tier."""
        raise NotImplementedError

    def read(self, key: str, block_hash: int, size: int) -> OpTiming:
        """Read the whole block back; raises BlockMissingError if gone."""
        raise NotImplementedError

    def payload(self, key: str) -> np.ndarray | None:
        """Bytes held in memory for demotion (None = regenerate from key)."""
        return None

    def delete(self, key: str) -> None:
        """Drop the block (eviction or demotion)."""
        raise NotImplementedError


class SimulatedGpuTier(Tier):
    """GPU HBM modelled by capacity and a bandwidth: no bytes are stored."""

    name = "gpu"

    def __init__(self, capacity_bytes: int, data: BlockDataSource,
                 bandwidth_gib_per_s: float) -> None:
        super().__init__(capacity_bytes, data)
        self.bytes_per_second = bandwidth_gib_per_s * GIB

    def _transfer(self, size: int) -> OpTiming:
        start = time.perf_counter()
        time.sleep(size / self.bytes_per_second)
        elapsed = time.perf_counter() - start
        return OpTiming(elapsed, elapsed, elapsed)

    def write(self, key, block_hash, size, payload=None) -> OpTiming:
        return self._transfer(size)

    def read(self, key, block_hash, size) -> OpTiming:
        return self._transfer(size)

    def delete(self, key: str) -> None:
        return None


class CpuTier(Tier):
    """CPU RAM: each block is a real uint8 array; reads are chunked copies."""

    name = "cpu"

    def __init__(self, capacity_bytes: int, data: BlockDataSource) -> None:
        super().__init__(capacity_bytes, data)
        self._blocks: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._scratch = _Scratch()

    def write(self, key, block_hash, size, payload=None) -> OpTiming:
        start = time.perf_counter()
        if payload is not None:
            block = payload.copy()
        else:
            block = self.data.block_bytes(block_hash, size)
        with self._lock:
            self._blocks[key] = block
        elapsed = time.perf_counter() - start
        return OpTiming(elapsed, elapsed, elapsed)

    def read(self, key, block_hash, size) -> OpTiming:
        with self._lock:
            block = self._blocks.get(key)
        if block is None:
            raise BlockMissingError(key)
        start = time.perf_counter()
        chunk = self.data.chunk_bytes
        scratch = self._scratch.get(chunk)
        for offset in range(0, block.nbytes, chunk):
            piece = block[offset:offset + chunk]
            np.copyto(scratch[: piece.nbytes], piece)
        elapsed = time.perf_counter() - start
        return OpTiming(elapsed, elapsed, elapsed)

    def payload(self, key: str) -> np.ndarray | None:
        with self._lock:
            return self._blocks.get(key)

    def delete(self, key: str) -> None:
        with self._lock:
            self._blocks.pop(key, None)


def _npy_header(size: int) -> bytes:
    """A 128-byte .npy v1.0 header for a flat uint8 array of ``size`` bytes."""
    buffer = io.BytesIO()
    header = {"descr": "|u1", "fortran_order": False, "shape": (size,)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


class NvmeTier(Tier):
    """One ``<key>.npy`` file per block, written in large chunks and fsynced."""

    name = "storage"
    terminal = True

    def __init__(self, capacity_bytes: int, data: BlockDataSource, directory: Path,
                 verify_reads: bool = True) -> None:
        super().__init__(capacity_bytes, data)
        self.directory = Path(directory)
        self.verify_reads = verify_reads
        self.integrity_errors = 0
        self._created: set[Path] = set()
        self._lock = threading.Lock()
        self._scratch = _Scratch()
        self._bytes_written = 0
        self.abort: threading.Event | None = None   # set => cut long transfers short
        fault = os.environ.get(FAULT_ENV_ENOSPC_AFTER_BYTES)
        self._fault_after = int(fault) if fault else None

    def path_for(self, key: str) -> Path:
        """File that holds block ``key``."""
        return self.directory / f"{key}.npy"

    def remove_stale_files(self) -> int:
        """Delete block files left by an earlier run (our naming only)."""
        removed = 0
        for entry in os.scandir(self.directory):
            if entry.is_file() and OUR_FILE_PATTERN.match(entry.name):
                os.unlink(entry.path)
                removed += 1
        return removed

    def _check_abort(self) -> None:
        if self.abort is not None and self.abort.is_set():
            raise OperationAborted()

    def _account_write(self, nbytes: int) -> None:
        with self._lock:
            self._bytes_written += nbytes
            over = self._fault_after is not None and self._bytes_written > self._fault_after
        if over:
            raise OSError(errno.ENOSPC, "No space left on device (injected)")

    def write(self, key, block_hash, size, payload=None) -> OpTiming:
        path = self.path_for(key)
        chunk = self.data.chunk_bytes
        scratch = self._scratch.get(chunk)
        host = 0.0
        start = time.perf_counter()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with self._lock:
            self._created.add(path)
        try:
            os.write(fd, _npy_header(size))
            for offset in range(0, size, chunk):
                length = min(chunk, size - offset)
                if payload is not None:
                    view = memoryview(payload[offset:offset + length])
                else:
                    self.data.fill(block_hash, offset, scratch[:length])
                    view = memoryview(scratch[:length])
                self._check_abort()
                self._account_write(length)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            host = time.perf_counter() - start
            os.fsync(fd)
        except OperationAborted:
            os.close(fd)
            self._unlink(path)
            raise
        except OSError as exc:
            os.close(fd)
            self._unlink(path)
            if exc.errno in _NO_SPACE_ERRNOS:
                raise StorageUnavailableError(
                    f"cache directory {self.directory} is full ({exc.strerror}) "
                    f"while writing a {size / GIB:.2f} GiB block") from None
            raise StorageUnavailableError(
                f"writing {path} failed: {exc.strerror or exc}") from None
        os.close(fd)
        total = time.perf_counter() - start
        return OpTiming(total, total - host, host)

    def read(self, key, block_hash, size) -> OpTiming:
        path = self.path_for(key)
        chunk = self.data.chunk_bytes
        scratch = self._scratch.get(chunk)
        host = 0.0
        start = time.perf_counter()
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise BlockMissingError(key) from None
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            header = os.read(fd, 128)
            for offset in range(0, size, chunk):
                length = min(chunk, size - offset)
                self._check_abort()
                got = os.readv(fd, [scratch[:length]])
                if got != length:
                    raise BlockMissingError(f"{key}: short read")
                if self.verify_reads and length >= 8:
                    check_start = time.perf_counter()
                    expected = self.data.expected_first_word(block_hash, offset)
                    if int(scratch[:8].view(np.uint64)[0]) != expected:
                        with self._lock:
                            self.integrity_errors += 1
                    host += time.perf_counter() - check_start
        finally:
            os.close(fd)
        del header
        total = time.perf_counter() - start
        return OpTiming(total, total - host, host)

    def _unlink(self, path: Path) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        with self._lock:
            self._created.discard(path)

    def delete(self, key: str) -> None:
        self._unlink(self.path_for(key))

    def remove_created_files(self) -> int:
        """Delete every file this tier created that still exists."""
        with self._lock:
            paths = list(self._created)
        for path in paths:
            self._unlink(path)
        return len(paths)
