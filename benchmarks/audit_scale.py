"""Audit speed and memory at scale (issue #14): `pytest compliance` on a realistic tree of N runs, side by side
with upstream `mlpstorage reports reportgen` on the same tree, repeated, plus a synthetic tree as a second case.

    python benchmarks/audit_scale.py [--runs 1000] [--repeat 2] [--keep DIR] [--upstream PATH]

The realistic tree is built by `benchmarks/realistic_tree.py` from the upstream-written sample runs (167 systems x 6
runs for N = 1,000, one OPEN finding per run, one INVALID per system); the synthetic tree by the training
benchmark's `write_training_submission` (no findings, small files). Each round runs, interleaved: upstream
reportgen on N runs (when `--upstream` exists; it writes results.json/csv into the tree, removed after), ours serially
on N/2 and N runs, ours with `-n 2` on N runs (the audit pool), ours serially on the synthetic N-run tree, and ours
with `-n 2` through pytest-xdist's workers (`-p no:mlps_audit_pool`, for comparison). Prints per command the wall
and CPU seconds, the peak RSS of the pytest process (the main one under -n) and the output line count, then the
targets: serial time <= 1.0x upstream's measured in the same round (else under 12 s), time(N) / 2 time(N/2) near 1,
peak RSS <= 150 MB, `-n 2` <= 1.3x serial, output of the -q audit at most a few hundred lines (<= 500).
Before the rounds, each tool audits the N/2 tree once, untimed, with bytecode caches written as in a user's shell.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from realistic_tree import build_realistic_tree  # noqa: E402

from mlps_harness.benchmarks.training.synthetic import write_training_submission  # noqa: E402

UPSTREAM = Path("/work/upstream-venv/bin/mlpstorage")
#: every command runs as a user's would: bytecode caches written (pip compiles an installed package; an editable
#: checkout and pytest's rewritten conftests get theirs on first import), whatever this shell sets
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def build_synthetic(root: Path, runs: int) -> None:
    """`runs` run directories in groups of 6 (one v3.0 submitter per group), each group with its datagen dir."""
    groups, rest = divmod(runs, 6)
    for g in range(groups + (1 if rest else 0)):
        n = 6 if g < groups else rest
        write_training_submission(root, runs=n, prefix=f"closed/org{g:04d}/results/system1", accelerator="b200",
                                  start=datetime(2025, 1, 1) + timedelta(days=g))


def measure(cmd: list[str], out: Path) -> dict[str, float]:
    """Wall and CPU seconds, peak RSS (MiB) of the started process itself, output lines and exit code."""
    t0 = time.perf_counter()
    with out.open("w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    with out.open(errors="replace") as f:
        lines = sum(1 for _ in f)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024,
            "lines": lines, "rc": os.waitstatus_to_exitcode(status)}


def ours(root: Path, workers: int = 1, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "compliance"), f"--results-dir={root}", "-q",
           "-p", "no:cacheprovider", *extra]
    return cmd + (["-n", str(workers)] if workers > 1 else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--keep", type=Path, default=None, help="build the trees here (reused if present)")
    parser.add_argument("--upstream", type=Path, default=UPSTREAM, help="upstream mlpstorage executable")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="mlps-audit-scale-"))
    n, half = args.runs, args.runs // 2
    try:
        trees = {"real": base / f"realistic-{n}", "half": base / f"realistic-{half}", "synth": base / f"synthetic-{n}"}
        for key, size in (("real", n), ("half", half)):
            if not trees[key].exists():
                info = build_realistic_tree(trees[key], size)
                print(f"built realistic tree: {size} runs, {info['systems']} systems, {info['files']} files, "
                      f"{info['bytes'] / 2**20:.0f} MiB in {info['seconds']:.1f} s")
        if not trees["synth"].exists():
            build_synthetic(trees["synth"], n)
            print(f"built synthetic tree: {n} runs")
        commands = {f"upstream reportgen {n}": [str(args.upstream), "reports", "reportgen", "--results-dir",
                                                str(trees["real"])]} if args.upstream.exists() else {}
        commands |= {f"ours serial {half}": ours(trees["half"]), f"ours serial {n}": ours(trees["real"]),
                     f"ours -n 2 {n}": ours(trees["real"], 2), f"ours serial synthetic {n}": ours(trees["synth"]),
                     f"ours -n 2 xdist {n}": ours(trees["real"], 2, "-p", "no:mlps_audit_pool")}
        rows: dict[str, list[dict[str, float]]] = {k: [] for k in commands}
        warm = [ours(trees["half"])] + ([[str(args.upstream), "reports", "reportgen", "--results-dir",
                                          str(trees["half"])]] if args.upstream.exists() else [])
        for cmd in warm:   # untimed: writes the bytecode caches both tools read from then on
            measure(cmd, base / "out.txt")
        for leftover in ("results.json", "results.csv"):
            (trees["half"] / leftover).unlink(missing_ok=True)
        print("warm-up (untimed): one audit of the N/2 tree by each tool, bytecode caches written")
        for rnd in range(args.repeat):
            for label, cmd in commands.items():
                r = measure(cmd, base / "out.txt")
                for leftover in ("results.json", "results.csv"):
                    (trees["real"] / leftover).unlink(missing_ok=True)
                if r["rc"] not in (0, 1):
                    print((base / "out.txt").read_text()[-3000:])
                    raise SystemExit(f"{label}: exit code {r['rc']}")
                rows[label].append(r)
                print(f"round {rnd + 1} {label:28} {r['wall']:6.2f} s wall {r['cpu']:6.2f} s CPU "
                      f"peak RSS {r['rss']:5.0f} MiB {r['lines']:6d} lines  (load {os.getloadavg()[0]:.1f})")
        med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "cpu", "rss", "lines")}
               for k, v in rows.items()}
        serial, parallel = f"ours serial {n}", f"ours -n 2 {n}"
        print("\ntargets (medians over rounds; ratios per round, measured side by side):")
        up = f"upstream reportgen {n}"
        if up in rows:
            ratios = [o["wall"] / u["wall"] for o, u in zip(rows[serial], rows[up], strict=True)]
            cpu = [o["cpu"] / u["cpu"] for o, u in zip(rows[serial], rows[up], strict=True)]
            print(f"  serial / upstream reportgen: wall {', '.join(f'{x:.2f}' for x in ratios)} (median "
                  f"{statistics.median(ratios):.2f}); CPU {', '.join(f'{x:.2f}' for x in cpu)} (target <= 1.0; "
                  f"upstream {med[up]['wall']:.1f} s, "
                  f"{med[up]['rss']:.0f} MiB, {med[up]['lines']:.0f} lines)")
        else:
            print(f"  serial {n} runs: {med[serial]['wall']:.2f} s (target < 12 s; no upstream at {args.upstream})")
        linear = [f / (2 * h["wall"]) for f, h in zip((r["wall"] for r in rows[serial]), rows[f"ours serial {half}"],
                                                      strict=True)]
        print(f"  linearity time({n}) / 2 time({half}): {', '.join(f'{x:.2f}' for x in linear)} (1.0 = linear)")
        print(f"  peak RSS serial {n}: {med[serial]['rss']:.0f} MiB, {half}: {med[f'ours serial {half}']['rss']:.0f} "
              f"MiB (target <= 150 MB)")
        xd = [p["wall"] / s["wall"] for p, s in zip(rows[parallel], rows[serial], strict=True)]
        print(f"  -n 2 / serial: {', '.join(f'{x:.2f}' for x in xd)} (target <= 1.3; the audit pool); main process "
              f"peak RSS {med[parallel]['rss']:.0f} MiB")
        xdist = [p["wall"] / s["wall"] for p, s in zip(rows[f"ours -n 2 xdist {n}"], rows[serial], strict=True)]
        print(f"  -n 2 with pytest-xdist workers instead (-p no:mlps_audit_pool) / serial: "
              f"{', '.join(f'{x:.2f}' for x in xdist)}")
        print(f"  output lines of the -q audit: {med[serial]['lines']:.0f} (target: a few hundred, <= 500)")
        print(f"  synthetic {n} runs serial: {med[f'ours serial synthetic {n}']['wall']:.2f} s")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
