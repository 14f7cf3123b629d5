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


class IndexBuild(BaseModel):
    """Rules.md §5.2.2: what shows that the index was built (and compacted, when configured) before querying."""

    model_config = ConfigDict(extra="forbid")

    #: index states that mean "built" (Milvus IndexState names; 3 is Finished in its enum)
    finished_states: list[str]
    #: no record in upstream's datagen dir: INVALID (the newest validator) or a warning (the v3.0 round published it)
    upstream_missing_record: Literal["warning", "INVALID"]


class ParameterLists(BaseModel):
    """Rules.md §5.6.4 / §5.6.5: which parameters (dotted keys of upstream's `configs/vectordbbench` YAML) a run may
    change, and where a run records them."""

    model_config = ConfigDict(extra="forbid")

    #: CLOSED may change these (and only these)
    closed: list[str]
    #: OPEN may also change these
    open: list[str]
    #: CLOSED keys whose value must also be one of these for CLOSED (another value is OPEN)
    closed_values: dict[str, list[str]]
    #: keys in neither list with the value every run has; a recorded other value is INVALID
    fixed: dict[str, str | int | float]
    #: where a run records its parameters: document ("metadata args", "config.json", "load_summary.json") ->
    #: {field, dotted for a nested one -> parameter key}
    recorded: dict[str, dict[str, str]]


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
    #: Rules.md §5.2.2 (v3.0); absent from a version without the rule
    index_build: IndexBuild | None = None
    #: Rules.md §5.6.4 (v3.0); absent from a version without the rule
    parameters: ParameterLists | None = None

    @property
    def index_types(self) -> list[str]:
        """Every index type either division accepts."""
        return [*self.closed_index_types, *self.open_index_types]


def vectordb_rules(version: str) -> VectorDbRules:
    """The vector database ruleset for a version."""
    return rulesets.section(version, BENCHMARK, VectorDbRules)
