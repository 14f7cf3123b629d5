"""Streaming shard I/O from one reusable, page-aligned buffer.

A shard is never held in memory: writes stream ``transfer_size`` blocks out of a
single buffer filled once with seeded pseudo-random bytes; each block gets its
(checkpoint, block) index stamped into its first 16 bytes so no two blocks of a
shard are identical. Reads stream back into the same buffer.
"""

from __future__ import annotations

import mmap
import os
import random
import struct
from pathlib import Path

DIRECT_IO_ALIGNMENT = 4096
DROP_CACHES_PATH = Path("/proc/sys/vm/drop_caches")
_FILL_CHUNK = 1 << 20
_BLOCK_STAMP = struct.Struct("<QQ")


class TransferBuffer:
    """A page-aligned anonymous buffer of ``size`` bytes with seeded content."""

    def __init__(self, size: int, seed: int) -> None:
        aligned = -(-size // DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT
        self.size = aligned
        self._mmap = mmap.mmap(-1, aligned)
        self.view = memoryview(self._mmap)
        rng = random.Random(seed)
        for offset in range(0, aligned, _FILL_CHUNK):
            length = min(_FILL_CHUNK, aligned - offset)
            self.view[offset : offset + length] = rng.randbytes(length)

    def stamp(self, checkpoint_index: int, block_index: int) -> None:
        """Make this block distinct from every other block written."""
        _BLOCK_STAMP.pack_into(self._mmap, 0, checkpoint_index, block_index)

    def close(self) -> None:
        self.view.release()
        self._mmap.close()


def _open_flags(base: int, odirect: bool) -> int:
    return base | (os.O_DIRECT if odirect else 0)


def write_shard(
    path: Path,
    size: int,
    buffer: TransferBuffer,
    transfer_size: int,
    checkpoint_index: int,
    fsync: bool = True,
    odirect: bool = False,
) -> int:
    """Write ``size`` bytes to ``path`` in ``transfer_size`` blocks; return bytes written."""
    flags = _open_flags(os.O_WRONLY | os.O_CREAT | os.O_TRUNC, odirect)
    fd = os.open(path, flags, 0o644)
    try:
        written = 0
        block_index = 0
        while written < size:
            length = min(transfer_size, size - written)
            if odirect and length % DIRECT_IO_ALIGNMENT:
                length = -(-length // DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT
            buffer.stamp(checkpoint_index, block_index)
            done = 0
            while done < length:
                done += os.write(fd, buffer.view[done:length])
            written += length
            block_index += 1
        if written != size:  # O_DIRECT padded the tail block
            os.ftruncate(fd, size)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    return size


def read_shard(
    path: Path, expected_size: int, buffer: TransferBuffer, transfer_size: int, odirect: bool = False
) -> int:
    """Read ``path`` to the end in ``transfer_size`` blocks; fail if its size is not ``expected_size``."""
    fd = os.open(path, _open_flags(os.O_RDONLY, odirect))
    try:
        block = buffer.view[:transfer_size]
        total = 0
        while True:
            count = os.readv(fd, [block])
            if count == 0:
                break
            total += count
    finally:
        os.close(fd)
    if total != expected_size:
        raise OSError(f"checkpoint shard {path} holds {total} bytes, expected {expected_size}")
    return total


def try_drop_page_cache() -> bool:
    """Drop the whole page cache via /proc/sys/vm/drop_caches; False when not permitted."""
    try:
        os.sync()
        with open(DROP_CACHES_PATH, "w") as handle:
            handle.write("1\n")
        return True
    except OSError:
        return False


def evict_files_from_cache(paths: list[Path]) -> None:
    """Ask the kernel to forget cached pages of ``paths`` (posix_fadvise DONTNEED)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def direct_io_supported(folder: Path) -> bool:
    """Whether ``folder``'s filesystem accepts O_DIRECT opens."""
    probe = folder / f".odirect-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644)
        os.close(fd)
        return True
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)
