"""The `<benchmark>_<datetime>_metadata.json` file written beside every run (upstream format, plus our keys)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from mlps_harness.argtypes import finite_float
from mlps_harness.model.types import Count, Int, Measure, Str


class MetadataArgs(BaseModel):
    """The command-line arguments recorded under `args`."""

    model_config = ConfigDict(extra="allow")

    program: Str | None = None
    command: Str | None = None
    model: Str | None = None
    hosts: list[Str] | Str | None = None
    num_processes: Count | None = None
    num_accelerators: Count | None = None
    accelerator_type: Str | None = None
    client_host_memory_in_gb: Measure | None = None
    num_client_hosts: Count | None = None
    data_dir: Str | None = None
    results_dir: Str | None = None
    checkpoint_folder: Str | None = None
    num_checkpoints_read: Count | None = None
    num_checkpoints_write: Count | None = None
    #: `--params` entries; the v3.0 tool writes "" (a string) when none were given, read as no entries
    params: list[Str] | None = None
    closed: bool | None = None
    open: bool | None = None

    @field_validator("params", mode="before")
    @classmethod
    def _empty_params_string(cls, value: Any) -> Any:
        """`"params": ""` (the v3.0 tool without --params) means no entries; any other string stays an error."""
        return [] if value == "" else value

    @property
    def host_list(self) -> list[str]:
        """`hosts` as a list, whether it was recorded as a list or a comma string."""
        if self.hosts is None:
            return []
        if isinstance(self.hosts, str):
            return [h for h in self.hosts.split(",") if h]
        return list(self.hosts)


class RunMetadata(BaseModel):
    """Upstream's metadata dump (benchmark object attributes) or ours, which uses the same keys."""

    model_config = ConfigDict(extra="allow")

    benchmark_type: Str | None = None
    run_datetime: Str | None = None
    # Absent is fine (older files); null is not: these fields default to None but do not accept null.
    run_number: Count = None  # type: ignore[assignment]
    runtime: Measure = None  # type: ignore[assignment]
    verification: Str | None = None
    args: MetadataArgs | None = None
    params_dict: dict[str, Any] | None = None
    yaml_params: dict[str, Any] | None = None
    combined_params: dict[str, Any] | None = None
    #: A dict from our harness; upstream v2.0 wrote an unusable object repr string here.
    cluster_information: dict[str, Any] | Str | None = None
    #: Our harness records its own version and the ruleset it ran under.
    harness: dict[str, Any] | None = None
    #: Set by our harness when the run did not finish.
    incomplete: dict[str, Any] | None = None
    #: The launch's exit code, written by our harness after the run (absent in upstream's files).
    returncode: Int = None  # type: ignore[assignment]
    #: The datasize calculation our harness records beside a run: numbers in it are finite and >= 0.
    datasize: dict[str, Any] | None = None

    @field_validator("datasize")
    @classmethod
    def _datasize_numbers(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """Every number in the datasize record is finite and >= 0 (bools and strings are left alone)."""
        for key, item in (value or {}).items():
            if isinstance(item, (int, float)) and not isinstance(item, bool) \
                    and (finite_float(item) is None or item < 0):
                raise ValueError(f"datasize.{key} = {item!r}: must be a finite number >= 0")
        return value
