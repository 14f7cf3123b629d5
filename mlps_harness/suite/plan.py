"""What every suite plan has: the fields all four share, the common options read once, one usage error shape.

A benchmark's plan is a dataclass deriving from `SuitePlan` (or `MpiSuitePlan` when it launches with mpirun) and
adds only what is its own; `build_plan` functions start from `common_settings(config)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mlps_harness.launch import MpiLaunchSpec

DEFAULT_RESULTS_DIR = "results"


def usage(option: str, problem: str, fix: str) -> pytest.UsageError:
    """A usage error naming the option, what is wrong, and how to fix it."""
    return pytest.UsageError(f"{option}: {problem}; {fix}")


@dataclass(kw_only=True)
class SuitePlan:
    """Checked before anything runs; shown by the suite's header and by --what-if."""

    results_dir: Path
    rules_version: str
    division: str | None
    embedded: bool                 #: no benchmark option given: the suite's small embedded default
    warnings: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class MpiSuitePlan(SuitePlan):
    """A plan whose launches go through mpirun."""

    hosts: list[str]
    num_processes: int
    mpi: "MpiLaunchSpec"
    timeout: float | None


def common_settings(config: pytest.Config, auto_version: str) -> dict[str, Any]:
    """The options every suite reads the same way (after the MLPSTORAGE_* environment defaults): results dir and
    data dir (resolved), rules version (`auto` becomes `auto_version`, which the benchmark chooses), declared
    division, run timeout. The invocation is recorded in `<results-dir>/history.jsonl` when the session ends."""
    from mlps_harness import history
    from mlps_harness.suite.options import apply_env_defaults, default_data_dir
    from mlps_harness.suite.submission import (
        run_root,  # --org/--system: the submission tree's prefix
    )

    sources = apply_env_defaults(config)
    opt = config.getoption
    version = opt("--rules-version")
    results = Path(opt("--results-dir") or DEFAULT_RESULTS_DIR).expanduser().resolve()
    settings = {"results_dir": run_root(config, results),
                "rules_version": auto_version if version == "auto" else version,
                "data_dir": Path(opt("--data-dir") or default_data_dir()).expanduser().resolve(),
                "division": opt("--division"), "timeout": opt("--run-timeout")}
    history.register(config, results, settings["results_dir"],
                     {**{k: str(v) if isinstance(v, Path) else v for k, v in settings.items()},
                      "sources": {option.lstrip("-"): source for option, source in sources.items()}})
    return settings
