"""Training submission rules (rules.md §3): warm-up + 5 runs, gaps, one datagen, consistent parameters."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

from mlps_harness.benchmarks.training.ruleset import training_rules
from mlps_harness.model import Run, RunGroup
from mlps_harness.outcomes import Finding, NotApplicable, closed, invalid, warning
from mlps_harness.rules.registry import rule

T = "training"


def _by_accelerator(runs: list[Run]) -> dict[str, list[Run]]:
    """Runs split by accelerator type: a submission may hold one set of runs per accelerator (issue #679)."""
    out: dict[str, list[Run]] = {}
    for run in runs:
        out.setdefault(run.accelerator or "unknown", []).append(run)
    return out


@rule("2.1.17", "run-count", benchmark=T, scope="group")
def run_count(group: RunGroup) -> Iterator[Finding]:
    """One warm-up plus five measured runs per accelerator type (v3.0: exactly six run directories)."""
    sub = training_rules(group.rules_version).submission
    need = sub.warmup_runs + sub.measured_runs
    runs = group.by_command("run")
    if not runs:
        yield invalid("no run directories", parameter="run/", expected=str(need), actual="0",
                      file=f"{group.group_id}/run",
                      fix=f"run the benchmark {need} times (1 warm-up + {sub.measured_runs})")
        return
    for accel, subset in sorted(_by_accelerator(runs).items()):
        n = len(subset)
        too_many = sub.exact_run_dirs and n > need
        if n < need or too_many:
            yield invalid(f"{n} run directories for {accel}; {need} are required (1 warm-up + {sub.measured_runs})",
                          parameter="run/", expected=str(need) if sub.exact_run_dirs else f">= {need}",
                          actual=str(n), file=f"{group.group_id}/run",
                          fix=f"run --loops {sub.measured_runs} (plus the warm-up) and keep exactly {need} "
                          "consecutive runs" if too_many else f"run {need - n} more time(s) in one sequence")
        else:
            yield closed(f"{n} runs for {accel}", parameter="run/", actual=str(n))


@rule("2.1.18", "run-gaps", benchmark=T, scope="group")
def run_gaps(group: RunGroup) -> Iterator[Finding]:
    """Runs follow each other without long pauses (v2.0: gap <= mean duration; v3.0: start gap < 2x shortest)."""
    sub = training_rules(group.rules_version).submission
    runs = [r for r in group.by_command("run") if r.summary and r.summary.start and r.summary.end]
    missing = [r.run_id for r in group.by_command("run") if r not in runs]
    for run_id in missing:
        yield invalid("run has no usable start/end times", file=f"{run_id}/summary.json", parameter="start/end",
                      fix="restore summary.json; gaps cannot be checked without it")
    if len(runs) < 2:
        if not missing:
            raise NotApplicable("fewer than two timed runs")
        return
    runs.sort(key=lambda r: r.summary.start)
    durations = [r.summary.duration_seconds or 0.0 for r in runs]
    if sub.gap_rule == "mean_duration":
        limit = sum(durations) / len(durations)
        for prev, nxt in pairwise(runs):
            gap = (nxt.summary.start - prev.summary.end).total_seconds()
            if gap > limit:
                yield invalid(f"{gap:.1f} s pause before {nxt.ref.leaf}, longer than the mean run time "
                              f"({limit:.1f} s)", parameter="gap", expected=f"<= {limit:.1f} s",
                              actual=f"{gap:.1f} s", file=nxt.run_id,
                              fix="run all loops in one sequence (--loops); with runs of a few seconds the "
                                  "benchmark's own start-up between runs already exceeds this, so use a real "
                                  "dataset size")
    else:
        limit = 2 * min(durations)
        for prev, nxt in pairwise(runs):
            gap = (nxt.summary.start - prev.summary.start).total_seconds()
            if gap >= limit:
                yield invalid(f"{gap:.0f} s between the starts of {prev.ref.leaf} and {nxt.ref.leaf}",
                              parameter="gap", expected=f"< {limit:.0f} s (2x shortest run)", actual=f"{gap:.0f} s",
                              file=nxt.run_id, fix="run all loops in one sequence (--loops)")


@rule("2.1.13", "datagen-once", benchmark=T, scope="group", commands=None)
def datagen_once(group: RunGroup) -> Iterator[Finding]:
    """The dataset was generated once: exactly one datagen directory."""
    sub = training_rules(group.rules_version).submission
    gens = group.by_command("datagen")
    if len(gens) != sub.datagen_dirs:
        yield invalid(f"{len(gens)} datagen directories", parameter="datagen/", expected=str(sub.datagen_dirs),
                      actual=str(len(gens)), file=f"{group.group_id}/datagen",
                      fix="keep the one datagen run that produced the dataset used by the runs"
                      if gens else "include the datagen output (generation logs) in the submission")


@rule("3.2.1", "datagen-covers-run", benchmark=T, scope="group", commands=None)
def datagen_covers_run(group: RunGroup) -> Iterator[Finding]:
    """The generated dataset is at least as large as what each run reads."""
    gens = [g for g in group.by_command("datagen") if g.workload and g.workload.num_files_train]
    if not gens:
        raise NotApplicable("no datagen run with a recorded file count")
    generated = max(g.workload.num_files_train for g in gens)
    for run in group.by_command("run"):
        if run.workload and run.workload.num_files_train and run.workload.num_files_train > generated:
            yield invalid(f"the run reads {run.workload.num_files_train} files but only {generated} were generated",
                          parameter="dataset.num_files_train", expected=f"<= {generated}",
                          actual=str(run.workload.num_files_train), file=run.run_id,
                          fix="generate the dataset with at least as many files as the runs use")


CONSISTENT = ("accelerator", "num_processes", "num_files_train", "params")


@rule("3.3.9", "consistent-parameters", benchmark=T, scope="group")
def consistent_parameters(group: RunGroup) -> Iterator[Finding]:
    """Every run of the submission used the same accelerators, processes, dataset and overrides."""
    runs = group.by_command("run")
    if len(runs) < 2:
        raise NotApplicable("fewer than two runs")

    def signature(r: Run) -> dict:
        params = {k: v for k, v in r.params.items() if k != "dataset.data_folder"}
        return {"accelerator": r.accelerator, "num_processes": r.num_processes,
                "num_files_train": r.workload.num_files_train if r.workload else None, "params": params}

    for accel, subset in sorted(_by_accelerator(runs).items()):
        sigs = [(r, signature(r)) for r in subset]
        for key in CONSISTENT:
            # a value the run's documents do not hold cannot be compared: said once per run, not as a difference
            for run, sig in sigs:
                if sig[key] is None:
                    yield invalid(f"{key} is not recorded for {run.ref.leaf}, so it cannot be shown to match the "
                                  "other runs", parameter=key, expected="recorded", actual="not recorded",
                                  file=run.run_id, fix="restore the run's documents (see its H6.1/H6.3 findings)")
            known = [(run, sig[key]) for run, sig in sigs if sig[key] is not None]
            for other, value in known[1:]:
                if value != known[0][1]:
                    yield invalid(f"{key} differs between {known[0][0].ref.leaf} and {other.ref.leaf}",
                                  parameter=key, expected=str(known[0][1]), actual=str(value),
                                  file=other.run_id, fix="all runs of a submission must use identical parameters")


@rule("2.1.12", "training-phases", benchmark=T, scope="group", commands=None, versions=("v3.0",))
def datasize_phase(group: RunGroup) -> Iterator[Finding]:
    """The training tree keeps its `datasize/` phase directory beside `datagen/` and `run/` (the v3.0 review's
    trainingPhases check: a warning, the verdict unchanged)."""
    ref = next((r.ref for r in group.runs if r.ref.command in ("run", "datagen")), None)
    if ref is None:
        raise NotApplicable("no run or datagen directory in this group")
    model_dir = Path(ref.path).parent.parent
    if (model_dir / "datasize").is_dir():
        yield closed("datasize/ phase directory present", parameter="datasize/")
    else:
        yield warning(f"{group.group_id}/datasize/ is absent: the v3.0 round expects the datasize phase's output "
                      "beside datagen/ and run/", parameter="datasize/", expected="directory", actual="absent",
                      file=f"{group.group_id}/datasize",
                      fix="keep the datasize step's output directory (its metadata and log) in the submission")
