"""The benchmark registry: how a benchmark lays out its results and which modules hold its rules.

A benchmark is added without touching core code: publish a `BenchmarkSpec` under the
`mlps_harness.benchmarks` entry-point group (our own four are published the same way in pyproject.toml).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlps_harness.model import Run

ENTRY_POINT_GROUP = "mlps_harness.benchmarks"


class BenchmarkRegistryError(Exception):
    """A registered benchmark cannot be loaded."""


@dataclass(frozen=True)
class BenchmarkSpec:
    """Everything the core needs to know about one benchmark."""

    name: str                                    #: directory name under the results dir
    #: the path components between the benchmark dir and the timestamp dir; alternatives chosen by depth
    path_layouts: tuple[tuple[str, ...], ...]
    #: the command when the layout has none (checkpointing writes `checkpointing/<model>/<datetime>`)
    default_command: str = "run"
    #: commands whose leaf directories are not runs at all (upstream issue #760: leftover `datasize` leaves)
    ignored_commands: tuple[str, ...] = ("datasize",)
    #: fields of the layout that, besides `model`, make a submission group (e.g. engine and index)
    group_fields: tuple[str, ...] = ("model",)
    #: modules whose import registers this benchmark's rules
    rule_modules: tuple[str, ...] = ()
    #: optional: adds benchmark-specific typed documents and findings to a parsed run
    parse_extra: Callable[["Run"], None] | None = None
    #: optional: extra ruleset data directory holding `<version>/<name>.yaml`
    ruleset_dir: Path | None = None
    #: optional: adds the benchmark's own suite options to the option group it is given
    add_options: Callable[[Any], None] | None = None
    description: str = ""
    extra: dict = field(default_factory=dict)


@functools.lru_cache(maxsize=1)
def benchmarks() -> dict[str, BenchmarkSpec]:
    """All registered benchmarks, by directory name (loaded once from entry points)."""
    found: dict[str, BenchmarkSpec] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        spec = ep.load()
        if callable(spec) and not isinstance(spec, BenchmarkSpec):
            spec = spec()
        found[spec.name] = spec
    if not found:  # running from a source tree that was never installed: fall back to our own four
        for module in ("training", "checkpointing", "kv_cache", "vector_database"):
            spec = importlib.import_module(f"mlps_harness.benchmarks.{module}").SPEC
            found[spec.name] = spec
    return found


def load_rule_modules() -> None:
    """Import every registered benchmark's rule modules (and the layout rules) so the registry is complete."""
    from mlps_harness import rulesets

    importlib.import_module("mlps_harness.rules.layout")
    importlib.import_module("mlps_harness.rules.submission_tree")
    for spec in benchmarks().values():
        if spec.ruleset_dir is not None:
            rulesets.add_ruleset_dir(spec.ruleset_dir)
        for module in spec.rule_modules:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                raise BenchmarkRegistryError(
                    f"benchmark {spec.name!r}: its rule module {module!r} cannot be imported ({exc}); "
                    "reinstall the package that provides it, or fix its BenchmarkSpec.rule_modules") from None
