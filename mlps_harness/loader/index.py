"""`ResultsIndex`: one results tree, discovered once, with runs parsed on demand and kept in a bounded cache.

Tests are ordered run by run, so each run is parsed once per process while memory stays bounded:
runs are not all held at once.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from mlps_harness.loader.discover import Discovery, discover
from mlps_harness.loader.parse import parse_run, probe_rules_version
from mlps_harness.model import Run, RunGroup, RunRef

CACHE_SIZE = 64


class ResultsIndex:
    """A results tree: its discovered runs and groups, and a parse cache."""

    def __init__(self, root: Path, rules_version: str = "auto", discovery: Discovery | None = None):
        self.root = root
        self.rules_version = rules_version
        self.discovery = discovery or discover(root)
        self._refs = {ref.run_id: ref for ref in self.discovery.runs}
        self._groups = self.discovery.groups()
        self._cache: OrderedDict[str, Run] = OrderedDict()
        self._versions: dict[str, str] = {}
        self.parse_count = 0

    @property
    def refs(self) -> list[RunRef]:
        return self.discovery.runs

    def group_ids(self) -> list[str]:
        return sorted(self._groups)

    def resolve(self, target: str) -> str:
        """The run or group id a test target names (suites map planned slots such as "run/0" to real ids)."""
        return target

    def available(self, target: str) -> bool:
        """Whether a resolved run or group id exists in this index."""
        return target in self._refs or target in self._groups

    def ref(self, run_id: str) -> RunRef:
        return self._refs[run_id]

    def version(self, run_id: str) -> str:
        """The ruleset a run is judged under, known before it is parsed (its metadata document is read once, here,
        and parsing then uses the same answer)."""
        version = self._versions.get(run_id)
        if version is None:
            version = self._versions[run_id] = probe_rules_version(self._refs[run_id], self.rules_version)
        return version

    def group_version(self, group_id: str) -> str:
        """The ruleset a submission group is judged under: the newest of its runs' (as `group()` gives it)."""
        refs = self._groups[group_id]
        return max((self.version(ref.run_id) for ref in refs), default=refs[0].layout_version)

    def run(self, run_id: str) -> Run:
        """The parsed run (parsed at most once while it stays in the cache)."""
        cached = self._cache.get(run_id)
        if cached is not None:
            self._cache.move_to_end(run_id)
            return cached
        run = parse_run(self._refs[run_id], self._versions.get(run_id, self.rules_version))
        self.parse_count += 1
        self._cache[run_id] = run
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return run

    def group(self, group_id: str) -> RunGroup:
        """Every run of a submission group, parsed."""
        refs = self._groups[group_id]
        runs = [self.run(ref.run_id) for ref in refs]
        versions = sorted({r.rules_version for r in runs})
        return RunGroup(group_id=group_id, benchmark=refs[0].benchmark, model=refs[0].model,
                        rules_version=versions[-1] if versions else refs[0].layout_version, runs=runs)
