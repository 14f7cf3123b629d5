"""What a benchmark tells the core: `BenchmarkSpec`, and the registry of specs published as entry points.

This module imports nothing else from `mlps_harness`, so every layer (loader, rules, suites, plugin) can read the
registry without an import cycle. Hooks are named as dotted references (`"package.module:function"`) and only
imported when they are used: discovering a tree loads the spec modules, not every benchmark's rules.

A benchmark is added without touching any core file: publish a `BenchmarkSpec` under the
`mlps_harness.benchmarks` entry-point group (our own four are published the same way in pyproject.toml).
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

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
    #: parse hooks, `"module:function"`, each called with the parsed `Run` to add typed documents and findings
    parse_hooks: tuple[str, ...] = ()
    #: directory holding `<version>/<name>.yaml` ruleset data
    ruleset_dir: Path | None = None
    #: `"module:function"` adding the benchmark's own suite options to the option group it is given
    add_options: str | None = None
    #: the module (`"package.module"`) giving the run and group figures: `run_metrics(run)`, `group_metrics(runs)`,
    #: `headlines(metrics)`, `charts(group, runs)` (see `mlps_harness.metrics`), or None
    metrics: str | None = None
    #: Markdown paragraphs for docs/RULES.md: choices made where upstream versions or documents disagree
    rule_notes: tuple[str, ...] = ()
    description: str = ""
    extra: dict = field(default_factory=dict)

    def hook(self, reference: str) -> Any:
        """Import a `"module:attribute"` reference of this spec (an error names the benchmark and the fix)."""
        return resolve(reference, f"benchmark {self.name!r}")


def resolve(reference: str, owner: str = "") -> Any:
    """The object a `"module:attribute"` reference names."""
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attribute) if attribute else module
    except (ImportError, AttributeError) as exc:
        raise BenchmarkRegistryError(
            f"{owner + ': ' if owner else ''}{reference!r} cannot be loaded ({exc}); reinstall the package that "
            "provides it, or fix its BenchmarkSpec") from None


@functools.lru_cache(maxsize=1)
def benchmarks() -> dict[str, BenchmarkSpec]:
    """All registered benchmarks, by directory name (loaded once from entry points)."""
    found: dict[str, BenchmarkSpec] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            spec = ep.load()
        except Exception as exc:  # a broken third-party package must not take the audit down
            raise BenchmarkRegistryError(f"entry point {ep.name} = {ep.value!r} ({ENTRY_POINT_GROUP}) cannot be "
                                         f"loaded: {exc}; reinstall or uninstall the package that provides it"
                                         ) from None
        if callable(spec) and not isinstance(spec, BenchmarkSpec):
            spec = spec()
        if not isinstance(spec, BenchmarkSpec):
            raise BenchmarkRegistryError(f"entry point {ep.name} = {ep.value!r} is not a BenchmarkSpec")
        found[spec.name] = spec
    if not found:
        raise BenchmarkRegistryError(f"no benchmark is registered under the {ENTRY_POINT_GROUP!r} entry points; "
                                     "install the project (pip install -e .) so its entry points exist")
    return found


def benchmark_names() -> list[str]:
    """The registered benchmark directory names, sorted."""
    return sorted(benchmarks())
