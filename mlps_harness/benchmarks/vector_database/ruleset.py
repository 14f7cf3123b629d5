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
    #: supported OPEN backends (§5.6.5); any other engine is INVALID
    open_engines: list[str]
    #: backends whose native index families are all OPEN (§5.6.5: not limited to Milvus's index names)
    native_index_engines: list[str]
    #: a mean recall below this draws a reviewer's warning with the figure (no target is set: §5.3.2 is deferred)
    low_recall_warning: float
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
