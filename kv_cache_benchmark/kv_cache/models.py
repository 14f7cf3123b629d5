"""Model table: KV-cache bytes per token for the supported model keys."""
from __future__ import annotations

from dataclasses import dataclass

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


@dataclass(frozen=True)
class ModelConfig:
    """Shape facts needed to size one token of KV cache."""

    name: str
    num_layers: int
    hidden_dim: int
    num_heads: int
    kv_heads: int
    dtype: str = "float16"
    head_dim_override: int | None = None
    mla_kv_lora_rank: int | None = None
    mla_rope_dim: int | None = None

    @property
    def head_dim(self) -> int:
        """Per-head dimension (hidden / heads unless overridden)."""
        if self.head_dim_override is not None:
            return self.head_dim_override
        return self.hidden_dim // self.num_heads

    @property
    def bytes_per_token(self) -> int:
        """KV bytes stored for one token across all layers (K and V)."""
        dtype_bytes = DTYPE_BYTES[self.dtype]
        if self.mla_kv_lora_rank is not None:
            latent = self.mla_kv_lora_rank + (self.mla_rope_dim or 0)
            return self.num_layers * latent * dtype_bytes
        return self.num_layers * self.kv_heads * self.head_dim * 2 * dtype_bytes


MODEL_CONFIGS: dict[str, ModelConfig] = {
    cfg.name: cfg
    for cfg in (
        ModelConfig("tiny-1b", 12, 1024, 8, 4),
        ModelConfig("mistral-7b", 32, 4096, 32, 8),
        ModelConfig("llama2-7b", 32, 4096, 32, 32),
        ModelConfig("llama3.1-8b", 32, 4096, 32, 8),
        ModelConfig("llama3.1-70b-instruct", 80, 8192, 64, 8),
    )
}

DEFAULT_MODEL = "llama3.1-8b"


def get_model(name: str) -> ModelConfig:
    """Return the model config for ``name``; raises KeyError if unknown."""
    return MODEL_CONFIGS[name]


def block_bytes(model: ModelConfig, tokens: int, tensor_parallel: int = 1) -> int:
    """Bytes of one KV block of ``tokens`` tokens as stored by one TP rank."""
    total = model.bytes_per_token * max(0, tokens)
    return total // max(1, tensor_parallel)
