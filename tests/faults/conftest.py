"""Fixtures for fault tests: file systems this test mounts itself (root only), and process/port leak checks."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def _mount(args: list[str]) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip() or done.returncode}); fault tests need root")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """`tmpfs(size="2m", read_only=False)` mounts a fresh tmpfs under tmp_path and returns its path;
    every mount is removed at teardown (lazily, so a leftover process cannot keep it)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted: list[Path] = []

    def make(size: str = "2m", read_only: bool = False, name: str | None = None) -> Path:
        point = tmp_path / (name or f"tmpfs{len(mounted)}")
        point.mkdir()
        _mount(["-t", "tmpfs", "-o", f"size={size}" + (",ro" if read_only else ""), "tmpfs", str(point)])
        mounted.append(point)
        return point

    yield make
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.fixture
def read_only_bind(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """`read_only_bind(src)`: a read-only bind mount of `src` (root only), removed at teardown."""
    if os.geteuid() != 0:
        pytest.skip("a bind mount needs root")
    mounted: list[Path] = []

    def make(source: Path) -> Path:
        point = tmp_path / f"ro{len(mounted)}"
        point.mkdir()
        _mount(["--bind", str(source), str(point)])
        mounted.append(point)
        _mount(["-o", "remount,bind,ro", str(point)])
        return point

    yield make
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)
