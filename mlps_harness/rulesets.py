"""Versioned ruleset data: thresholds, model tables and allowed lists, one YAML file per benchmark and version.

Each benchmark ships its files as `<BenchmarkSpec.ruleset_dir>/<version>/<benchmark>.yaml`.

A benchmark section is validated against the pydantic model its rules module declares, so a typo in a ruleset file
is caught the first time the section is read, with the file named.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mlps_harness.spec import benchmarks

VERSIONS = ("v2.0", "v3.0")   #: every rules version the harness knows, oldest first

M = TypeVar("M", bound=BaseModel)


class RulesetError(Exception):
    """A ruleset file is missing or does not match its schema."""


def ruleset_file(version: str, benchmark: str) -> Path:
    """The file that holds `benchmark`'s data for `version`."""
    spec_dirs = [spec.ruleset_dir for spec in benchmarks().values() if spec.ruleset_dir is not None]
    for base in spec_dirs:
        candidate = base / version / f"{benchmark}.yaml"
        if candidate.is_file():
            return candidate
    raise RulesetError(f"no ruleset data for benchmark {benchmark!r} in version {version!r}")


@functools.lru_cache(maxsize=None)
def _raw_section(version: str, benchmark: str) -> dict:
    path = ruleset_file(version, benchmark)
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise RulesetError(f"{path}: expected a mapping at the top level")
    return data


_typed: dict[tuple[str, str, type], BaseModel] = {}


def section(version: str, benchmark: str, model: type[M]) -> M:
    """`benchmark`'s ruleset data for `version`, validated as `model` (cached)."""
    if version not in VERSIONS:
        raise RulesetError(f"unknown rules version {version!r}; expected one of {', '.join(VERSIONS)}")
    key = (version, benchmark, model)
    if key not in _typed:
        try:
            _typed[key] = model.model_validate(_raw_section(version, benchmark))
        except ValidationError as exc:
            raise RulesetError(f"{ruleset_file(version, benchmark)}: {exc}") from None
    return _typed[key]  # type: ignore[return-value]
