"""Typed views of a results tree: DLIO summaries, upstream metadata, workload configs and runs."""

from mlps_harness.model.dlio import DlioMetric, DlioSummary, WorkloadConfig
from mlps_harness.model.metadata import MetadataArgs, RunMetadata
from mlps_harness.model.run import INCOMPLETE_MARKER, FileEntry, Run, RunGroup, RunRef

__all__ = [
    "DlioMetric", "DlioSummary", "WorkloadConfig", "MetadataArgs", "RunMetadata",
    "INCOMPLETE_MARKER", "FileEntry", "Run", "RunGroup", "RunRef",
]
