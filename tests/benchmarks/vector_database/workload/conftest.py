"""Fixtures: one embedded milvus-lite server and one small loaded collection per session."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Callable, Iterator

import pytest

from mlps_harness.benchmarks.vector_database.workload import (
    EmbeddedMilvus,
    MilvusEndpoint,
    load_collection,
)
from tests.helpers import REPO as REPO_ROOT

SMALL_VECTORS = 2000
SMALL_DIMENSION = 32
SHARED_COLLECTION = "shared_hnsw"


@pytest.fixture(scope="session")
def milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusEndpoint]:
    """An embedded milvus-lite server shared by the vectordb tests."""
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    with EmbeddedMilvus(tmp_path_factory.mktemp("milvus") / "data") as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def shared_collection(milvus: MilvusEndpoint) -> dict:
    """2,000 x 32-d uniform vectors under HNSW/COSINE, loaded once."""
    return load_collection(milvus, collection=SHARED_COLLECTION, num_vectors=SMALL_VECTORS,
                           dimension=SMALL_DIMENSION, chunk_size=700, batch_size=300,
                           force=True, log=lambda message: None)


def _run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run([sys.executable, "-m", "mlps_harness.benchmarks.vector_database.workload", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT, env=env)


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m mlps_harness.benchmarks.vector_database.workload ARGS`` and capture its output."""
    return _run_cli
