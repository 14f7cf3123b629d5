"""Per-rank checkpoint sizing for the llama3 checkpointing workloads.

The model table lives in ``models.yaml`` next to this module. Sizes there are
binary GiB; everything returned here is in bytes.

Sharding rules (MLPerf Storage checkpointing):

* ZeRO-3: model and optimizer state are both split evenly over the world size.
* ZeRO-1: the optimizer state is split over the world size, while each of the
  first ``gpus_per_data_parallel`` ranks also holds ``1/gpus_per_data_parallel``
  of the model (one data-parallel replica writes the model).

In *subset* mode (fewer ranks than a CLOSED run uses) the world size is the
CLOSED process count and only the first ``num_ranks`` shards are written.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

GIB = 1 << 30
MODEL_TABLE_PATH = Path(__file__).with_name("models.yaml")


class CheckpointUsageError(ValueError):
    """A bad option or environment detected before any I/O; ``option`` names the culprit."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


@dataclass(frozen=True)
class ModelSpec:
    """One row of the model table."""

    name: str
    dlio_name: str
    model_GiB: float
    optimizer_GiB: float
    zero_stage: int
    tensor_parallelism: int
    pipeline_parallelism: int
    gpus_per_data_parallel: int
    closed_num_processes: int

    @property
    def model_parallel_size(self) -> int:
        """Ranks that together hold one model copy (TP x PP)."""
        return self.tensor_parallelism * self.pipeline_parallelism


@dataclass(frozen=True)
class RankShard:
    """Bytes one rank writes per checkpoint, split by state kind."""

    rank: int
    model_bytes: int
    optimizer_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.model_bytes + self.optimizer_bytes


@dataclass(frozen=True)
class CheckpointPlan:
    """Everything the workload needs to know about one sized run."""

    model: ModelSpec
    num_ranks: int
    subset: bool
    world_size: int
    data_parallelism: int
    size_scale: float
    shards: tuple[RankShard, ...]

    @property
    def total_bytes(self) -> int:
        return sum(shard.total_bytes for shard in self.shards)


@functools.lru_cache(maxsize=1)
def load_model_table() -> dict[str, ModelSpec]:
    """Read ``models.yaml`` into ``{model name: ModelSpec}``."""
    raw = yaml.safe_load(MODEL_TABLE_PATH.read_text())["models"]
    return {name: ModelSpec(name=name, **fields) for name, fields in raw.items()}


def model_names() -> list[str]:
    """Known model names, in table order."""
    return list(load_model_table())


def get_model(name: str) -> ModelSpec:
    """Look a model up by name; raise CheckpointUsageError naming ``--model`` if unknown."""
    table = load_model_table()
    if name not in table:
        raise CheckpointUsageError(
            "--model", f"unknown model {name!r}; choose one of {', '.join(table)}"
        )
    return table[name]


def resolve_subset(spec: ModelSpec, num_ranks: int, subset: bool | None) -> bool:
    """Decide subset mode: ``None`` means automatic (fewer ranks than the CLOSED count)."""
    if num_ranks < 1:
        raise CheckpointUsageError("--num-processes", f"need at least 1 rank, got {num_ranks}")
    if subset is None:
        return num_ranks < spec.closed_num_processes
    if subset and num_ranks >= spec.closed_num_processes:
        raise CheckpointUsageError(
            "--subset",
            f"subset mode needs fewer than {spec.closed_num_processes} ranks for {spec.name} "
            f"(got {num_ranks}); drop --subset",
        )
    return subset


def plan_checkpoint(
    model: str, num_ranks: int, subset: bool | None = None, size_scale: float = 1.0
) -> CheckpointPlan:
    """Size every rank's shard for ``model`` run on ``num_ranks`` ranks."""
    spec = get_model(model)
    if not size_scale > 0:
        raise CheckpointUsageError("--size-scale", f"must be > 0, got {size_scale}")
    use_subset = resolve_subset(spec, num_ranks, subset)
    if use_subset:
        world_size = spec.closed_num_processes
        data_parallelism = spec.closed_num_processes // spec.gpus_per_data_parallel
    else:
        if num_ranks % spec.model_parallel_size:
            raise CheckpointUsageError(
                "--num-processes",
                f"{spec.name} needs a multiple of tensor x pipeline parallelism = "
                f"{spec.model_parallel_size} ranks (got {num_ranks}); run a multiple of "
                f"{spec.model_parallel_size} ranks or use subset mode with fewer than "
                f"{spec.closed_num_processes}",
            )
        world_size = num_ranks
        data_parallelism = num_ranks // spec.model_parallel_size
    model_bytes = round(spec.model_GiB * GIB * size_scale)
    optimizer_bytes = round(spec.optimizer_GiB * GIB * size_scale)
    shards = []
    for rank in range(num_ranks):
        if spec.zero_stage == 3:
            rank_model = model_bytes // world_size
        elif spec.zero_stage == 1:
            holds_model = rank < spec.gpus_per_data_parallel
            rank_model = model_bytes // spec.gpus_per_data_parallel if holds_model else 0
        else:
            raise ValueError(f"unsupported zero_stage {spec.zero_stage} for {spec.name}")
        shards.append(RankShard(rank, rank_model, optimizer_bytes // world_size))
    return CheckpointPlan(
        model=spec,
        num_ranks=num_ranks,
        subset=use_subset,
        world_size=world_size,
        data_parallelism=data_parallelism,
        size_scale=size_scale,
        shards=tuple(shards),
    )


def checkpoint_bytes_per_rank(
    model: str, num_ranks: int, subset: bool | None = None, size_scale: float = 1.0
) -> list[int]:
    """Bytes each rank writes per checkpoint (index = rank)."""
    plan = plan_checkpoint(model, num_ranks, subset=subset, size_scale=size_scale)
    return [shard.total_bytes for shard in plan.shards]


def checkpoint_size_GB(
    model: str, num_ranks: int, subset: bool | None = None, size_scale: float = 1.0
) -> float:
    """One checkpoint summed over ranks, in GiB (the ``checkpoint_size_GB`` metric)."""
    return sum(checkpoint_bytes_per_rank(model, num_ranks, subset, size_scale)) / GIB
