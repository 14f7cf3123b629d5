"""The schema of the vector database ruleset files (`rulesets/<version>/vector_database.yaml`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from mlps_harness import rulesets
from mlps_harness.rules.schema import LayoutValues

BENCHMARK = "vector_database"


class VdbSubmission(BaseModel):
    """How many run directories a submission group holds."""

    model_config = ConfigDict(extra="forbid")

    measured_runs: int
    exact_run_dirs: bool


class VectorDbRules(BaseModel):
    """Engines, index types, metrics, runtime and layout of one ruleset version."""

    model_config = ConfigDict(extra="forbid")

    closed_engines: list[str]
    embedded_engines: list[str]
    open_engines: list[str]
    closed_index_types: list[str]
    open_index_types: list[str]
    required_metrics: list[str]
    min_runtime_seconds: float
    short_runtime_division: Literal["OPEN", "INVALID"]
    submission: VdbSubmission
    layout: dict[str, LayoutValues]

    @property
    def index_types(self) -> list[str]:
        """Every index type either division accepts."""
        return [*self.closed_index_types, *self.open_index_types]


def vectordb_rules(version: str) -> VectorDbRules:
    """The vector database ruleset for a version."""
    return rulesets.section(version, BENCHMARK, VectorDbRules)
