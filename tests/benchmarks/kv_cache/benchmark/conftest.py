"""Fixtures for the kv_cache tests; see kvcache_helpers for the helpers."""
from __future__ import annotations

import pytest

from .helpers import build_cache


@pytest.fixture
def make_cache(tmp_path):
    """Factory for small caches whose NVMe files live in tmp_path."""
    created = []

    def build(gpu: int, cpu: int, storage: int, seed: int = 7):
        cache = build_cache(tmp_path, gpu, cpu, storage, seed)
        created.append(cache)
        return cache

    yield build
    for cache in created:
        cache.tiers[-1].remove_created_files()
