"""The schema of the KV cache ruleset files (`rulesets/<version>/kv_cache.yaml`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mlps_harness import rulesets
from mlps_harness.rules.schema import LayoutValues

KV = "kv_cache"


class OptionValues(BaseModel):
    """The locked parameters of one CLOSED Option."""

    model_config = ConfigDict(extra="forbid")

    model: str
    num_users: int
    duration_s: float
    gpu_mem_gb: float
    cpu_mem_gb: float
    max_concurrent_allocs: int
    generation_mode: str


class Thresholds(BaseModel):
    """A value below `invalid` makes the run INVALID, below `open` OPEN (upstream's run checker)."""

    invalid: float
    open: float


class KvCacheExists(BaseModel):
    """The part every version's file has: whether the benchmark exists in that version at all."""

    model_config = ConfigDict(extra="ignore")

    exists: bool
    note: str = ""


class KvCacheRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exists: bool
    note: str = ""
    preview: bool
    models: list[str]
    generation_modes: list[str]
    open_generation_modes: list[str]
    base_seed: int
    trials_per_option: int
    delay_between_options_s: float
    delay_tolerance_s: float
    options: dict[str, OptionValues]
    min_duration_s: Thresholds
    min_users: Thresholds
    #: Rules.md §6.6.1's allow-list: the only parameters a CLOSED run may set (system name, paths, client topology)
    topology_args: list[str]
    #: recorded harness settings that never reach kv-cache.py (launcher, division, ruleset): not parameters
    plumbing_args: list[str]
    #: our suite options that change the locked sequence (named as such; any other recorded arg is OPEN too)
    locked_args: list[str]
    #: benchmark flags that are never CLOSED (autoscaling, a YAML config)
    forbidden_flags: dict[str, str]
    layout: dict[str, LayoutValues]


def kvcache_exists(version: str) -> KvCacheExists:
    """Whether the KV cache benchmark is part of a ruleset version."""
    return rulesets.section(version, KV, KvCacheExists)


def kvcache_rules(version: str) -> KvCacheRules:
    """The KV cache ruleset for a version (only versions where the benchmark exists have one)."""
    return rulesets.section(version, KV, KvCacheRules)
