"""Model sizing and the lazy, reproducible block data generator."""
from __future__ import annotations

import numpy as np
import pytest
from kv_cache.blockdata import PAGE_BYTES, BlockDataSource, key_hash
from kv_cache.models import MODEL_CONFIGS, block_bytes, get_model

SPEC_BYTES_PER_TOKEN = {  # from the functional spec table (A1)
    "tiny-1b": 24_576, "mistral-7b": 131_072, "llama3.1-8b": 131_072,
    "llama2-7b": 524_288, "llama3.1-70b-instruct": 327_680,
}


@pytest.mark.parametrize("name,expected", sorted(SPEC_BYTES_PER_TOKEN.items()))
def test_bytes_per_token_matches_spec(name, expected):
    assert get_model(name).bytes_per_token == expected


def test_model_table_has_exactly_the_wrapper_models():
    assert set(MODEL_CONFIGS) == set(SPEC_BYTES_PER_TOKEN)


def test_block_bytes_scales_with_tokens_and_tensor_parallel():
    model = get_model("llama3.1-8b")
    assert block_bytes(model, 8192) == 8192 * 131_072
    assert block_bytes(model, 8192, tensor_parallel=4) == 8192 * 131_072 // 4


def test_same_key_same_bytes_and_different_keys_differ():
    source = BlockDataSource(42, pool_bytes=1 << 20, chunk_bytes=1 << 16)
    size = 300_001  # several chunks plus an unaligned tail
    a1 = source.block_bytes(key_hash(42, "a"), size)
    a2 = BlockDataSource(42, pool_bytes=1 << 20, chunk_bytes=1 << 16).block_bytes(
        key_hash(42, "a"), size)
    b = source.block_bytes(key_hash(42, "b"), size)
    other_seed = BlockDataSource(43, pool_bytes=1 << 20, chunk_bytes=1 << 16).block_bytes(
        key_hash(43, "a"), size)
    assert a1.nbytes == size
    assert np.array_equal(a1, a2)
    assert (a1 != b).mean() > 0.9
    assert (a1 != other_seed).mean() > 0.9


def test_every_page_is_unique_within_and_across_blocks():
    source = BlockDataSource(1, pool_bytes=1 << 20, chunk_bytes=1 << 16)
    pages = [source.block_bytes(key_hash(1, k), 64 * PAGE_BYTES).reshape(-1, PAGE_BYTES)
             for k in ("x", "y")]
    rows = np.concatenate(pages)
    assert len({row.tobytes() for row in rows}) == rows.shape[0]


def test_expected_first_word_matches_generated_bytes():
    source = BlockDataSource(5, pool_bytes=1 << 20, chunk_bytes=1 << 16)
    h = key_hash(5, "k")
    block = source.block_bytes(h, 5 * (1 << 16))
    for offset in range(0, block.nbytes, 1 << 16):
        assert int(block[offset:offset + 8].view(np.uint64)[0]) == \
            source.expected_first_word(h, offset)


def test_fill_rejects_unaligned_offsets():
    source = BlockDataSource(5, pool_bytes=1 << 20, chunk_bytes=1 << 16)
    with pytest.raises(ValueError):
        source.fill(1, 100, np.empty(10, dtype=np.uint8))
