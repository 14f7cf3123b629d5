"""The results index of a suite: only the runs this session wrote (plus the datagen run its dataset came from),
loaded through the very same loader the audit uses, with planned slots ("run/0", "datagen", "group") resolved."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.loader import ResultsIndex, discover
from mlps_harness.loader.discover import Discovery


class SuiteIndex(ResultsIndex):
    """A `ResultsIndex` restricted to some run directories, with slot aliases for planned targets."""

    def __init__(self, root: Path, run_dirs: dict[str, Path], rules_version: str = "auto"):
        from mlps_harness.suite.submission import results_root

        root = results_root(root)  # a run root inside a submission tree: discover from the tree's top
        full = discover(root)
        wanted = {str(p.resolve()): slot for slot, p in run_dirs.items()}
        refs = [r for r in full.runs if str(Path(r.path).resolve()) in wanted]
        super().__init__(root, rules_version, Discovery(root=root, runs=refs))
        self.aliases = {wanted[str(Path(r.path).resolve())]: r.run_id for r in refs}
        groups = sorted({r.group_id for r in refs})
        if groups:
            self.aliases["group"] = groups[0]

    def resolve(self, target: str) -> str:
        return self.aliases.get(target, target)
