"""Audit speed and memory at scale: builds a synthetic tree of N runs (6 per submission group) and times
`pytest compliance` serially and with `-n 2`, side by side in one run.

    python benchmarks/audit_scale.py [--runs 1000] [--keep DIR]

Prints runs per second, seconds per rule test and peak memory (max RSS of the pytest processes), the
scaling ratio between N/2 and N runs (1.0 = perfectly linear), and pytest-xdist's floor on this machine: the same
number of empty pytest items (no fixtures, no plugin of ours) run serially and with -n 2. Targets (issue #2):
1,000 runs in under 8 s with -n 2 and under 15 s serially; upstream `mlpstorage reports reportgen` takes about
7.5 s for 1,000 runs.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlps_harness.benchmarks.training.synthetic import write_training_submission  # noqa: E402


def build_tree(root: Path, runs: int) -> None:
    """`runs` run directories in groups of 6 (one v3.0 submitter per group), each group with its datagen dir."""
    groups, rest = divmod(runs, 6)
    for g in range(groups + (1 if rest else 0)):
        n = 6 if g < groups else rest
        write_training_submission(root, runs=n, prefix=f"closed/org{g:04d}/results/system1", accelerator="b200",
                                  start=datetime(2025, 1, 1) + timedelta(days=g))


def audit(root: Path, workers: int) -> tuple[float, int, float]:
    """(wall seconds, rule tests, peak RSS MiB of children) for one audit of `root`."""
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "compliance"), f"--results-dir={root}", "-q",
           "-p", "no:cacheprovider", "--no-header", "-o", "console_output_style=classic"]
    if workers > 1:
        cmd += ["-n", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    counts = sum(int(n) for n in re.findall(r"(\d+) (?:passed|failed|skipped|open|error)", proc.stdout[-2000:]))
    if proc.returncode not in (0, 1):
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        raise SystemExit(f"audit failed with exit code {proc.returncode}")
    return wall, counts, max(peak, before) / 1024


FLOOR_CONFTEST = """
import pytest

class Empty(pytest.Item):
    def runtest(self):
        pass

class Items(pytest.File):
    def collect(self):
        for i in range(int(self.path.read_text())):
            yield Empty.from_parent(self, name=f"empty{i}")

def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".count":
        return Items.from_parent(parent, path=file_path)
"""


def floor(base: Path, items: int, workers: int) -> float:
    """Wall seconds for `items` empty pytest items, without our plugin: xdist's own per-test cost."""
    d = base / "floor"
    d.mkdir(exist_ok=True)
    (d / "conftest.py").write_text(FLOOR_CONFTEST)
    (d / "items.count").write_text(str(items))
    cmd = [sys.executable, "-m", "pytest", str(d), "-q", "-p", "no:cacheprovider", "-p", "no:mlps_harness",
           "--no-header", "-o", "console_output_style=classic", "--rootdir", str(d)]
    if workers > 1:
        cmd += ["-n", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=d)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
        raise SystemExit(f"floor run failed with exit code {proc.returncode}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--keep", type=Path, default=None, help="build the trees here and keep them")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="mlps-audit-scale-"))
    try:
        sizes = [args.runs // 2, args.runs]
        trees = {}
        for n in sizes:
            trees[n] = base / f"tree-{n}"
            if not trees[n].exists():
                t0 = time.perf_counter()
                build_tree(trees[n], n)
                print(f"built {n} runs in {time.perf_counter() - t0:.1f} s")
        results, counts = {}, {}
        for workers in (1, 2):
            for n in sizes:
                wall, tests, rss = audit(trees[n], workers)
                results[(workers, n)] = wall
                counts[n] = tests
                print(f"-n {workers}: {n:5d} runs  {wall:6.2f} s  {n / wall:7.1f} runs/s  "
                      f"{tests:6d} rule tests  {1000 * wall / max(tests, 1):.3f} ms/test  peak RSS {rss:.0f} MiB")
        for workers in (1, 2):
            half, full = results[(workers, sizes[0])], results[(workers, sizes[1])]
            print(f"-n {workers}: time({sizes[1]}) / (2 x time({sizes[0]})) = {full / (2 * half):.2f} "
                  "(1.0 = linear; below 1 means fixed start-up cost dominates)")
        tests = counts[args.runs]
        empty = {w: floor(base, tests, w) for w in (1, 2)}
        print(f"xdist floor: {tests} empty pytest items take {empty[1]:.2f} s serially, {empty[2]:.2f} s with -n 2 "
              f"(ratio -n 2 / serial {empty[2] / empty[1]:.2f}; the audit's ratio "
              f"{results[(2, args.runs)] / results[(1, args.runs)]:.2f})")
        print(f"target: {args.runs} runs under 8 s with -n 2 -> {results[(2, args.runs)]:.2f} s; "
              f"under 15 s serially -> {results[(1, args.runs)]:.2f} s")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
