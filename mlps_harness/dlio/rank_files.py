"""DLIO's per-rank files (`<rank>_output.json`, `<rank>_per_epoch_stats.json`) checked against summary.json.

Only contradictions are findings: published trees often keep a few rank files or stand-ins without the fields, so a
field that is absent is never compared. Compared when present:

* the rank in the file name is below `num_accelerators`;
* epoch numbers recorded by a rank are within 1..`epochs` (training);
* a rank's `host_memory_GB` / `host_cpu_count` is one of the summary's per-host values;
* the rank files name no more distinct hostnames than `num_hosts`;
* with every rank's `_output.json` present: each epoch's `metric.train_au_percentage` is the mean of the ranks'
  AU and `metric.train_throughput_samples_per_second` their sum (DLIO's aggregation);
* a rank's checkpoint throughput is `checkpoint_size_GB` / its duration, and, with every rank's
  `_per_epoch_stats.json` present, each phase's mean checkpoint duration lies between the mean of the per-checkpoint
  fastest and slowest rank (upstream DLIO reports rank 0's, our workload the slowest rank's).
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

from mlps_harness.argtypes import ascii_whole, finite_float
from mlps_harness.loader.safe_io import read_json
from mlps_harness.outcomes import Finding, invalid

RANK_FILE = re.compile(r"^(\d+)_(output|per_epoch_stats)\.json$")
#: Relative tolerance of aggregates recomputed from per-rank values (DLIO writes full floats).
AGGREGATE_TOLERANCE = 1e-6
#: Relative tolerance of a checkpoint throughput against size / duration (durations are rounded to microseconds).
THROUGHPUT_TOLERANCE = 0.01
#: Per-checkpoint durations are written rounded to microseconds; summary means may come from the unrounded ones.
DURATION_ROUNDING = 1e-6
FIX = "restore the per-rank files and summary.json of one run as the benchmark wrote them; they must agree"


def _close(a: float, b: float, rel: float = AGGREGATE_TOLERANCE) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def read_rank_files(run_dir: str, names: list[str], shown: str) -> tuple[dict, dict, list[Finding]]:
    """`({rank: output doc}, {rank: per-epoch doc}, read problems)` for the rank files among `names`."""
    outputs: dict[int, dict] = {}
    epochs: dict[int, dict] = {}
    problems: list[Finding] = []
    for name in sorted(names):
        match = RANK_FILE.match(name)
        if not match:
            continue
        data, problem = read_json(os.path.join(run_dir, name), f"{shown}/{name}")
        if problem is not None:
            problems.append(problem)
        elif isinstance(data, dict):
            (outputs if match.group(2) == "output" else epochs)[int(match.group(1))] = data
        else:
            problems.append(invalid(f"{shown}/{name} is a JSON {type(data).__name__}, not an object",
                                    file=f"{shown}/{name}", fix=FIX))
    return outputs, epochs, problems


def rank_file_consistency(summary: dict[str, Any], outputs: dict[int, dict], epochs: dict[int, dict],
                          shown: str) -> list[Finding]:
    """Every disagreement between the per-rank documents and the summary (`shown` is the run's displayed path)."""
    found: list[Finding] = []

    def bad(name: str, parameter: str, message: str) -> None:
        found.append(invalid(f"{shown}/{name}: {message}", file=f"{shown}/{name}", parameter=parameter, fix=FIX))

    ranks = finite_float(summary.get("num_accelerators"))
    for rank, kind in sorted([(r, "output") for r in outputs] + [(r, "per_epoch_stats") for r in epochs]):
        if ranks is not None and rank >= ranks:
            bad(f"{rank}_{kind}.json", "rank", f"rank {rank} but summary.json has num_accelerators = {int(ranks)}")
    _check_epochs(summary, outputs, epochs, bad)
    _check_hosts(summary, outputs, bad)
    if ranks is not None and ranks >= 1 and set(outputs) == set(range(int(ranks))):
        _check_training_aggregates(summary, outputs, bad)
    _check_checkpoints(summary, epochs, ranks, bad)
    return found


def _check_epochs(summary: dict, outputs: dict[int, dict], epochs: dict[int, dict], bad) -> None:
    count = summary.get("epochs")
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        return  # checkpointing runs have epochs 0 and record their checkpoints under "1"
    for kind, docs in (("output", outputs), ("per_epoch_stats", epochs)):
        for rank, doc in sorted(docs.items()):
            numbers = (ascii_whole(k) for k in doc)
            beyond = sorted(n for n in numbers if n is not None and not 1 <= n <= count)
            if beyond:
                bad(f"{rank}_{kind}.json", str(beyond[0]),
                    f"records epoch {beyond[0]} but summary.json has epochs = {count}")


def _check_hosts(summary: dict, outputs: dict[int, dict], bad) -> None:
    for field in ("host_memory_GB", "host_cpu_count"):
        per_host = summary.get(field)
        listed = [v for v in (per_host if isinstance(per_host, list) else [per_host]) if finite_float(v) is not None]
        if not listed:
            continue
        for rank, doc in sorted(outputs.items()):
            value = finite_float(doc.get(field))
            if value is not None and not any(_close(value, float(v)) for v in listed):
                bad(f"{rank}_output.json", field, f"{field} = {doc[field]!r} is none of summary.json's {listed}")
    num_hosts = finite_float(summary.get("num_hosts"))
    names: dict[str, int] = {}
    for rank, doc in sorted(outputs.items()):
        if isinstance(doc.get("hostname"), str):
            names.setdefault(doc["hostname"], rank)
    if num_hosts is not None and len(names) > num_hosts:
        rank = sorted(names.values())[int(num_hosts)]
        bad(f"{rank}_output.json", "hostname",
            f"the rank files name {len(names)} hosts ({', '.join(sorted(names))}) but summary.json has "
            f"num_hosts = {int(num_hosts)}")


def _epoch_block(doc: dict, epoch: int, key: str) -> float | None:
    entry = doc.get(str(epoch))
    values = entry.get(key) if isinstance(entry, dict) else None
    if not isinstance(values, dict) or len(values) != 1:
        return None  # several blocks per epoch (or none): DLIO's per-epoch figure is not a single block's
    return finite_float(next(iter(values.values())))


def _check_training_aggregates(summary: dict, outputs: dict[int, dict], bad) -> None:
    metric = summary.get("metric")
    if not isinstance(metric, dict):
        return
    for list_key, rank_key, combine, how in (
            ("train_au_percentage", "au", lambda v: math.fsum(v) / len(v), "mean"),
            ("train_throughput_samples_per_second", "throughput", math.fsum, "sum")):
        reported = metric.get(list_key)
        if not isinstance(reported, list):
            continue
        for index, value in enumerate(reported):
            per_rank = [_epoch_block(doc, index + 1, rank_key) for _, doc in sorted(outputs.items())]
            if finite_float(value) is None or any(v is None for v in per_rank):
                continue
            expected = combine(per_rank)
            if not _close(float(value), expected):
                bad("summary.json", f"metric.{list_key}.{index}",
                    f"metric.{list_key}[{index}] = {value!r} but the {how} of epoch {index + 1}'s {rank_key} "
                    f"over the {len(per_rank)} <rank>_output.json files is {expected!r}")


def _checkpoint_records(doc: dict, phase: str) -> dict[int, dict]:
    entry = doc.get("1")
    if not isinstance(entry, dict):
        return {}
    records = {}
    for key, value in entry.items():
        number = ascii_whole(key[len(phase) + 5:]) if key.startswith(f"{phase}_ckpt") else None
        if number is not None and isinstance(value, dict):
            records[number] = value
    return records


def _rate_fits(rate: float, size: float, duration: float) -> bool:
    """`rate` is `size` / the duration before it was rounded to microseconds, within THROUGHPUT_TOLERANCE."""
    fastest = size / max(duration - DURATION_ROUNDING, duration / 2)
    slowest = size / (duration + DURATION_ROUNDING)
    return slowest * (1 - THROUGHPUT_TOLERANCE) <= rate <= fastest * (1 + THROUGHPUT_TOLERANCE)


def _check_checkpoints(summary: dict, epochs: dict[int, dict], ranks: float | None, bad) -> None:
    metric = summary.get("metric")
    size = finite_float(metric.get("checkpoint_size_GB")) if isinstance(metric, dict) else None
    if size is None:
        return
    for phase in ("save", "load"):
        by_rank = {rank: _checkpoint_records(doc, phase) for rank, doc in sorted(epochs.items())}
        for rank, records in by_rank.items():
            for number, record in sorted(records.items()):
                duration, rate = finite_float(record.get("duration")), finite_float(record.get("throughput"))
                if duration and duration > 0 and rate is not None and not _rate_fits(rate, size, duration):
                    bad(f"{rank}_per_epoch_stats.json", f"1.{phase}_ckpt{number}.throughput",
                        f"{phase}_ckpt{number} throughput {rate!r} is not checkpoint_size_GB {size!r} / duration "
                        f"{duration!r} = {size / duration!r}")
        mean = finite_float(metric.get(f"{phase}_checkpoint_duration_mean_seconds"))
        complete = ranks is not None and ranks >= 1 and set(by_rank) == set(range(int(ranks)))
        if mean is None or not complete:
            continue
        numbers = set.intersection(*(set(records) for records in by_rank.values()))
        spans = []
        for number in sorted(numbers):
            durations = [finite_float(records[number].get("duration")) for records in by_rank.values()]
            if any(d is None for d in durations):
                return
            spans.append((min(durations), max(durations)))
        if not spans or numbers != set.union(*(set(records) for records in by_rank.values())):
            continue
        low = math.fsum(s[0] for s in spans) / len(spans)
        high = math.fsum(s[1] for s in spans) / len(spans)
        slack = DURATION_ROUNDING + AGGREGATE_TOLERANCE * high
        if not low - slack <= mean <= high + slack:
            bad("summary.json", f"metric.{phase}_checkpoint_duration_mean_seconds",
                f"metric.{phase}_checkpoint_duration_mean_seconds = {mean!r} is outside {low!r}..{high!r}, the "
                f"means of the fastest and slowest rank's {phase} durations in the <rank>_per_epoch_stats.json files")
