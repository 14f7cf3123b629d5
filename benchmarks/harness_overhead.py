"""What the training suite costs on top of DLIO: the same tiny workload bare and through the suite, alternating.

    python benchmarks/harness_overhead.py [--rounds 3] [--runs 3]

Bare = `mpirun ... dlio_benchmark workload=unet3d_h100 <overrides>` run `--runs` times back to back (TensorFlow
stubbed through a stub package on PYTHONPATH, as DLIO's own docs suggest). Suite = `pytest suites/training
--loops <runs-1>` with the dataset already generated (reused through the manifest), i.e. the same DLIO launches
plus cluster collection, metadata, logs and every rule test. Prints the wall-time ratio and the added seconds
per run. Target (issue #3): at most 5 % or 3 s per run, whichever is larger.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlps_harness.launch import MpiLaunchSpec, build_mpirun_argv  # noqa: E402
from mlps_harness.benchmarks.training.plan import EMBEDDED_PARAMS  # noqa: E402


def bare_run(work: Path, data: Path, stub: Path, index: int) -> float:
    run_dir = work / "bare" / f"run{index}"
    dlio = Path(sys.executable).with_name("dlio_benchmark")
    overrides = {**EMBEDDED_PARAMS, "dataset.data_folder": str(data / "unet3d"),
                 "checkpoint.checkpoint_folder": str(data / "checkpoints" / "unet3d")}
    command = [str(dlio), "workload=unet3d_h100", f"++hydra.run.dir={run_dir}", "++hydra.output_subdir=dlio_config",
               *(f"++workload.{k}={v}" for k, v in overrides.items()),
               f"--config-dir={ROOT / 'mlps_harness' / 'configs' / 'dlio'}"]
    argv = build_mpirun_argv(MpiLaunchSpec(num_ranks=2, export_variables=("PYTHONPATH",)), command)
    env = {**os.environ, "PYTHONPATH": str(stub)}
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def suite(work: Path, data: Path, runs: int, extra: list[str]) -> float:
    t0 = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites" / "training"), "-q",
                             "-p", "no:cacheprovider", f"--loops={runs - 1}", f"--results-dir={work / 'results'}",
                             f"--data-dir={data}", *extra], cwd=work, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if result.returncode not in (0, 1):
        raise SystemExit(f"suite failed ({result.returncode}):\n{result.stdout[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="DLIO runs per measurement (suite: warm-up + runs-1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlps-overhead-") as tmp:
        work, data, stub = Path(tmp), Path(tmp) / "data", Path(tmp) / "stub"
        (stub / "tensorflow").mkdir(parents=True)
        (stub / "tensorflow" / "__init__.py").write_text("")
        print("generating the dataset once (through the suite) ...")
        suite(work, data, 1, ["-k", "datagen"])
        bare_times, suite_times = [], []
        for r in range(args.rounds):
            order = ("bare", "suite") if r % 2 == 0 else ("suite", "bare")
            for kind in order:
                if kind == "bare":
                    bare_times.append(sum(bare_run(work, data, stub, r * 100 + i) for i in range(args.runs)))
                else:
                    suite_times.append(suite(work, data, args.runs, []))
            print(f"round {r + 1}: bare {bare_times[-1]:.1f} s, suite {suite_times[-1]:.1f} s for {args.runs} runs")
        bare, through = statistics.median(bare_times), statistics.median(suite_times)
        per_run = (through - bare) / args.runs
        allowed = max(0.05 * bare / args.runs, 3.0)
        print(f"median: bare {bare:.1f} s, suite {through:.1f} s; ratio suite/bare = {through / bare:.3f}; "
              f"added {per_run:.2f} s per run (target <= {allowed:.2f} s per run: 5 % or 3 s, whichever is larger)")


if __name__ == "__main__":
    main()
