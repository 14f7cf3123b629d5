"""Runs as the rules see them: a reference found by discovery, and the parsed, typed run."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlps_harness.model.dlio import DlioSummary, WorkloadConfig
from mlps_harness.model.metadata import RunMetadata
from mlps_harness.outcomes import Finding

ACCELERATOR_DOC = "accelerator"   #: run.documents key: accelerator type found outside the metadata
INCOMPLETE_MARKER = ".mlps-incomplete"   #: file a suite leaves in a run directory whose launch did not finish


class RunRef(BaseModel):
    """What discovery knows about a run directory without reading any file in it."""

    model_config = ConfigDict(frozen=True)

    run_id: str            #: path relative to the results dir, with '/' separators
    path: str              #: absolute path of the run directory
    prefix: str = ""       #: 'closed/<org>/results/<system>' in a v3.0 submission tree, else ''
    division_dir: str | None = None   #: 'closed' or 'open' from the prefix
    benchmark: str         #: training, checkpointing, kv_cache, vector_database, or what the tree says
    model: str | None = None
    command: str | None = None
    leaf: str              #: the timestamp directory name
    group_id: str          #: submission group: prefix/benchmark/model (plus engine/index for vector DBs)
    layout_version: str    #: 'v3.0' when the submission prefix is present, else 'v2.0'
    is_symlink: bool = False   #: the run directory itself is a symbolic link (never followed)


class FileEntry(BaseModel):
    """One entry of a run directory listing (never followed through links)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: Literal["file", "dir", "symlink", "fifo", "other"]
    size: int = 0
    children: tuple[str, ...] = ()   #: for directories: the names inside, one level deep


class Run(BaseModel):
    """A parsed run: typed files plus the findings that parsing itself produced."""

    ref: RunRef
    rules_version: str
    files: list[FileEntry] = Field(default_factory=list)
    metadata: RunMetadata | None = None
    metadata_file: str | None = None
    summary: DlioSummary | None = None
    summary_raw: dict[str, Any] | None = None
    workload: WorkloadConfig | None = None
    workload_raw: dict[str, Any] | None = None
    overrides: list[str] | None = None
    #: user overrides as dotted keys -> values, from metadata `params_dict` or `dlio_config/overrides.yaml`
    params: dict[str, str] = Field(default_factory=dict)
    #: the file `params` were read from (relative to the results dir), for findings about an override
    params_file: str | None = None
    #: extra typed documents that a benchmark's parser adds (e.g. KV cache or vector DB summaries)
    documents: dict[str, Any] = Field(default_factory=dict)
    load_findings: list[Finding] = Field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.ref.run_id

    def file_names(self) -> set[str]:
        return {f.name for f in self.files}

    @property
    def accelerator(self) -> str | None:
        """Accelerator type from the metadata, else what a benchmark's parse hook read elsewhere (`ACCELERATOR_DOC`)."""
        if self.metadata and self.metadata.args and self.metadata.args.accelerator_type:
            return self.metadata.args.accelerator_type
        return self.documents.get(ACCELERATOR_DOC)

    @property
    def num_processes(self) -> int | None:
        """Ranks used: from the metadata args, else DLIO's `num_accelerators`."""
        args = self.metadata.args if self.metadata else None
        for value in (args.num_processes if args else None, args.num_accelerators if args else None,
                      self.summary.num_accelerators if self.summary else None):
            if value is not None:
                return value
        return None

    @property
    def incomplete(self) -> dict[str, Any] | None:
        return self.metadata.incomplete if self.metadata else None


class RunGroup(BaseModel):
    """All runs of one submission group (e.g. every training/unet3d timestamp dir)."""

    group_id: str
    benchmark: str
    model: str | None
    rules_version: str
    runs: list[Run]

    def by_command(self, command: str) -> list[Run]:
        """This group's runs of one command, sorted by directory name (= start time)."""
        return sorted((r for r in self.runs if r.ref.command == command), key=lambda r: r.ref.leaf)
