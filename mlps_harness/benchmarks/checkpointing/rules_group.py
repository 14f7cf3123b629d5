"""Checkpointing submission rules (rules.md §4 multi-run): 10 writes + 10 reads in total, the invocation
structure (one combined invocation, or a write-only then a read-only one at most 30 s apart in v3.0), and the v3.0
timestamp-dir count (2.1.23), invocation gap (2.1.24) and declared remap time (4.7.3) checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlps_harness.benchmarks.checkpointing.documents import (
    checkpoint_counts,
    invocation_bounds,
)
from mlps_harness.benchmarks.checkpointing.ruleset import (
    CheckpointRules,
    checkpoint_rules,
)
from mlps_harness.loader.safe_io import read_yaml
from mlps_harness.model import Run, RunGroup
from mlps_harness.outcomes import (
    Division,
    Finding,
    NotApplicable,
    closed,
    invalid,
    open_,
    warning,
)
from mlps_harness.rules.registry import rule
from mlps_harness.rules.submission_tree import submitter_dir

C = "checkpointing"


def _invocations(group: RunGroup) -> list[Run]:
    runs = group.by_command("run")
    if not runs:
        raise NotApplicable("no checkpointing runs in the group")
    return runs


def _counts(run: Run) -> tuple[int, int]:
    writes, reads = checkpoint_counts(run)
    return writes or 0, reads or 0


@rule("H4.10", "checkpoint-totals", benchmark=C, scope="group")
def checkpoint_totals(group: RunGroup) -> Iterator[Finding]:
    """The group writes 10 and reads 10 checkpoints in total (OPEN may use other counts in v3.0)."""
    rs = checkpoint_rules(group.rules_version)
    runs = _invocations(group)
    writes = sum(_counts(r)[0] for r in runs)
    reads = sum(_counts(r)[1] for r in runs)
    make = invalid if rs.counts_mismatch == Division.INVALID.value else open_
    for what, got, want, option in (("written", writes, rs.num_checkpoints_write, "--num-checkpoints-write"),
                                    ("read", reads, rs.num_checkpoints_read, "--num-checkpoints-read")):
        if got != want:
            yield make(f"{got} checkpoints {what} over {len(runs)} invocation(s)", parameter=option.lstrip("-"),
                       expected=str(want), actual=str(got), file=group.group_id,
                       fix=f"run {want} in total ({option} {want}); keep only this submission's invocations")
        else:
            yield closed(f"{got} checkpoints {what}", parameter=option.lstrip("-"), actual=str(got))


def _any_split(runs: list[Run]) -> Iterator[Finding]:
    """v2.0: any split of the writes and reads; every write before any read-only invocation, one combined at most."""
    counts = [_counts(r) for r in runs]
    shown = ", ".join(f"{r.ref.leaf} ({w}, {rd})" for r, (w, rd) in zip(runs, counts))
    combined = [r for r, (w, rd) in zip(runs, counts) if w and rd]
    empty = [r for r, (w, rd) in zip(runs, counts) if not w and not rd]
    last_write = max((i for i, (w, _) in enumerate(counts) if w), default=-1)
    first_read = min((i for i, (w, rd) in enumerate(counts) if rd and not w), default=len(runs))
    if empty:
        yield invalid(f"{empty[0].ref.leaf} neither writes nor reads", parameter="invocations",
                      actual=shown, file=empty[0].run_id, fix="remove the empty invocation")
    if len(combined) > 1:
        yield invalid(f"{len(combined)} invocations both write and read", parameter="invocations",
                      expected="at most one combined invocation", actual=shown, file=combined[1].run_id,
                      fix="keep one combined invocation, or split the writes and the reads")
    if first_read < last_write:
        yield invalid("a read-only invocation ran before the last write invocation", parameter="invocations",
                      expected="writes first, then reads", actual=shown, file=runs[first_read].run_id,
                      fix="run every write invocation (--num-checkpoints-read 0) before the read invocations")
    if 0 <= last_write < first_read < len(runs):
        write_end = invocation_bounds(runs[last_write])[1]
        read_start = invocation_bounds(runs[first_read])[0]
        if write_end and read_start and read_start < write_end:
            yield invalid(f"{runs[first_read].ref.leaf} started {(write_end - read_start).total_seconds():.1f} s "
                          f"before {runs[last_write].ref.leaf} (the last write) ended", parameter="phase gap",
                          expected=">= 0 s", actual=shown, file=runs[first_read].run_id,
                          fix="run the read invocations after the write invocations finished")
    yield closed(f"{len(runs)} invocation(s), writes before reads", parameter="invocations", actual=shown)


def _timing(rs: CheckpointRules, message: str, **kw: Any) -> Finding:
    """A timing violation: INVALID, or a reviewer's warning where the ruleset follows the v3.0 round."""
    return warning(message, **kw) if rs.gap_outcome == "warning" else invalid(message, **kw)


@rule("4.7.1", "invocation-structure", benchmark=C, scope="group")
def invocation_structure(group: RunGroup) -> Iterator[Finding]:
    """One invocation that writes and reads, or two: write-only then read-only, the read starting soon after.

    v2.0 allows any split of the writes and reads (writes first). v3.0: more than two invocations are OPEN (OPEN
    may use any counts); the 30 s bound and a negative gap are the round's warnings."""
    rs = checkpoint_rules(group.rules_version)
    runs = _invocations(group)
    if rs.max_invocations is None:
        yield from _any_split(runs)
        return
    if len(runs) > rs.max_invocations:
        make = open_ if rs.invocation_overflow == "OPEN" else invalid
        yield make(f"{len(runs)} invocations is not a CLOSED structure", parameter="invocations",
                   expected=f"1 or {rs.max_invocations}", actual=", ".join(r.ref.leaf for r in runs),
                   file=group.group_id,
                   fix="keep the one combined invocation, or the write invocation and the read invocation")
        return
    if len(runs) == 1:
        writes, reads = _counts(runs[0])
        if not writes or not reads:
            yield invalid(f"a single invocation must write and read (it did {writes} writes, {reads} reads)",
                          parameter="invocations", expected="writes > 0 and reads > 0",
                          actual=f"({writes}, {reads})", file=runs[0].run_id,
                          fix="add the missing write or read invocation")
        return
    first, second = runs
    (w1, r1), (w2, r2) = _counts(first), _counts(second)
    if not (w1 > 0 and r1 == 0 and w2 == 0 and r2 > 0):
        yield invalid("two invocations must be a write-only one followed by a read-only one",
                      parameter="invocations", expected="(writes, 0) then (0, reads)",
                      actual=f"({w1}, {r1}) then ({w2}, {r2})", file=group.group_id,
                      fix="run the writes first (--num-checkpoints-read 0), then the reads (--num-checkpoints-write 0)")
        return
    _, write_end, source_w = invocation_bounds(first)
    read_start, _, source_r = invocation_bounds(second)
    if write_end is None or read_start is None:
        yield invalid("the invocations' start/end times are not recorded", parameter="invocation times",
                      file=group.group_id, fix="keep summary.json (and our metadata) of both invocations")
        return
    gap = (read_start - write_end).total_seconds()
    where = f"read start ({source_r}) - write end ({source_w})"
    if gap < 0:
        yield _timing(rs, f"the read invocation started {-gap:.1f} s before the write invocation ended (overlap, "
                      "or the hosts' clocks disagree)", parameter="phase gap", expected=">= 0 s",
                      actual=f"{gap:.1f} s ({where})", file=second.run_id,
                      fix="run the read invocation after the write invocation finished, with synchronised clocks")
    elif rs.max_phase_gap_seconds is not None and gap > rs.max_phase_gap_seconds:
        yield _timing(rs, f"{gap:.1f} s between the write and the read invocation", parameter="phase gap",
                      expected=f"<= {rs.max_phase_gap_seconds:g} s", actual=f"{gap:.1f} s ({where})",
                      file=second.run_id, fix="start the read invocation right after the write invocation")
    else:
        yield closed(f"write then read, {gap:.1f} s apart", parameter="phase gap", actual=f"{gap:.1f} s ({where})")


@rule("2.1.23", "checkpointing-timestamps", benchmark=C, scope="group", versions=("v3.0",))
def timestamp_dirs(group: RunGroup) -> Iterator[Finding]:
    """A checkpointing group holds 1 or 2 timestamp directories, one per invocation.

    Other commands' leftovers (e.g. datasize) are not counted (issues #760/#791)."""
    rs = checkpoint_rules(group.rules_version)
    if rs.max_timestamp_dirs is None:
        raise NotApplicable(f"{group.rules_version} sets no limit on timestamp directories")
    runs = _invocations(group)
    leaves = ", ".join(r.ref.leaf for r in runs)
    if len(runs) > rs.max_timestamp_dirs:
        yield invalid(f"{len(runs)} timestamp directories", parameter="timestamp directories",
                      expected=f"1 to {rs.max_timestamp_dirs}", actual=leaves, file=group.group_id,
                      fix="keep only this submission's invocation(s): the combined one, or the write and the read one")
    else:
        yield closed(f"{len(runs)} timestamp director{'y' if len(runs) == 1 else 'ies'}",
                     parameter="timestamp directories", actual=leaves)


def _slower_than_gap(rs: CheckpointRules, first: Run, second: Run) -> Finding:
    """2.1.24 for one pair of consecutive invocations."""
    s1, e1, src1 = invocation_bounds(first)
    s2, e2, src2 = invocation_bounds(second)
    if None in (s1, e1, s2, e2):
        return invalid("the invocations' start/end times are not recorded", parameter="invocation times",
                       file=second.run_id if s2 is None or e2 is None else first.run_id,
                       fix="keep summary.json (and our metadata) of every invocation")
    assert s1 and e1 and s2 and e2
    gap = (s2 - e1).total_seconds()
    slower = max((e1 - s1).total_seconds(), (e2 - s2).total_seconds())
    where = f"{second.ref.leaf} start ({src2}) - {first.ref.leaf} end ({src1})"
    if gap >= slower:
        return _timing(rs, f"{gap:.1f} s between invocations, not less than the slower one's {slower:.1f} s",
                       parameter="invocation gap", expected=f"< {slower:.1f} s", actual=f"{gap:.1f} s ({where})",
                       file=second.run_id, fix="start the second invocation right after the first one ended")
    return closed(f"{gap:.1f} s between invocations (slower one {slower:.1f} s)", parameter="invocation gap",
                  actual=f"{gap:.1f} s ({where})")


@rule("2.1.24", "checkpointing-timestamp-gap", benchmark=C, scope="group", versions=("v3.0",))
def timestamp_gap(group: RunGroup) -> Iterator[Finding]:
    """The gap between two consecutive invocations is less than the slower invocation's duration.

    Invocations in directory (= start) order; 4.7.1 owns the 30 s bound and the no-overlap rule."""
    runs = _invocations(group)
    if len(runs) < 2:
        raise NotApplicable("a single invocation: no gap between invocations")
    rs = checkpoint_rules(group.rules_version)
    for first, second in zip(runs, runs[1:]):
        yield _slower_than_gap(rs, first, second)


def _declared_remap(group: RunGroup) -> tuple[Any, str]:
    """The system YAML's `remap_time_in_seconds` and the YAML's path shown in findings."""
    submitter, system, shown = submitter_dir(group)
    path, shown_path = submitter / "systems" / f"{system}.yaml", f"{shown}/systems/{system}.yaml"
    if not path.is_file():
        raise NotApplicable(f"no system YAML {shown_path}")
    data, problem = read_yaml(str(path), shown_path)
    if problem is not None:
        raise NotApplicable(f"{shown_path} is unreadable (H8.1 reports it)")
    value: Any = data
    for key in ("system_under_test", "solution", "capabilities", "remap_time_in_seconds"):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        raise NotApplicable(f"{shown_path} declares no remap_time_in_seconds")
    return value, shown_path


@rule("4.7.3", "remap-time", benchmark=C, scope="group", versions=("v3.0",))
def remap_time(group: RunGroup) -> Iterator[Finding]:
    """The observed remap gap is at least half the system YAML's declared `remap_time_in_seconds`.

    Observed gap = read invocation start - write invocation end; not applicable without a system YAML
    (`<division>/<org>/systems/<system>.yaml`), a declared value, or a write-only and a read-only invocation."""
    rs = checkpoint_rules(group.rules_version)
    if rs.remap_min_fraction is None:
        raise NotApplicable(f"{group.rules_version} has no remap-time rule")
    declared, shown = _declared_remap(group)
    param = "remap_time_in_seconds"
    if isinstance(declared, bool) or not isinstance(declared, (int, float)) or declared < 0:
        yield invalid(f"{shown}: remap_time_in_seconds must be a non-negative number", parameter=param,
                      actual=repr(declared), file=shown, fix="declare the system's remap time in seconds")
        return
    runs = _invocations(group)
    writes = [r for r in runs if _counts(r)[0] > 0 and _counts(r)[1] == 0]
    reads = [r for r in runs if _counts(r)[0] == 0 and _counts(r)[1] > 0]
    if not writes or not reads:
        raise NotApplicable("no write-only and read-only invocation pair: the remap gap is not observable")
    write, read = writes[-1], reads[0]
    write_end, read_start = invocation_bounds(write)[1], invocation_bounds(read)[0]
    if write_end is None or read_start is None:
        yield invalid("the invocations' start/end times are not recorded", parameter="invocation times",
                      file=group.group_id, fix="keep summary.json (and our metadata) of both invocations")
        return
    gap = (read_start - write_end).total_seconds()
    need = rs.remap_min_fraction * declared
    if gap < need:
        yield invalid(f"observed remap gap {gap:.1f} s is under {rs.remap_min_fraction:g} x the declared "
                      f"{declared:g} s", parameter=param, expected=f">= {need:g} s observed",
                      actual=f"{gap:.1f} s ({read.ref.leaf} start - {write.ref.leaf} end)", file=shown,
                      fix=f"declare the remap time the system really needs in {shown}, and remap between the "
                          "write and the read invocation")
    else:
        yield closed(f"observed remap gap {gap:.1f} s, declared {declared:g} s", parameter=param,
                     actual=f"{gap:.1f} s")


@rule("4.7.2", "total-test-duration", benchmark=C, scope="group", versions=("v3.0",))
def total_test_duration(group: RunGroup) -> Iterator[Finding]:
    """Informational: the total test duration, first checkpoint written to last read, remapping included.

    Not applicable when a time is missing (4.7.1 reports that)."""
    runs = _invocations(group)
    bounds = [invocation_bounds(r) for r in runs]
    if any(start is None or end is None for start, end, _ in bounds):
        raise NotApplicable("an invocation's start/end is not recorded (the invocation-structure rule reports it)")
    writes = [b for r, b in zip(runs, bounds) if _counts(r)[0]]
    reads = [b for r, b in zip(runs, bounds) if _counts(r)[1]]
    if not writes or not reads:
        raise NotApplicable("the group does not both write and read")
    first_write, last_read = min(b[0] for b in writes), max(b[1] for b in reads)
    assert first_write is not None and last_read is not None
    total = (last_read - first_write).total_seconds()
    remap = ""
    split_reads = [b for r, b in zip(runs, bounds) if _counts(r)[1] and not _counts(r)[0]]
    if split_reads:
        last_write_end = max(b[1] for b in writes if b[1] is not None)
        remap = f", remap interval {(min(b[0] for b in split_reads if b[0]) - last_write_end).total_seconds():.1f} s"
    yield closed(f"total test duration {total:.1f} s over {len(runs)} invocation(s){remap}",
                 parameter="total_test_duration_seconds", actual=f"{total:.1f} s ({bounds[0][2]})")


CAPABILITIES = ("multi_host", "simultaneous_write", "simultaneous_read")


@rule("4.7.4", "simultaneous-rw-support", benchmark=C, scope="group", versions=("v3.0",))
def simultaneous_rw_support(group: RunGroup) -> Iterator[Finding]:
    """The system YAML declares multi_host, simultaneous_write and simultaneous_read (booleans) under
    `system_under_test.solution.capabilities`, consistent with remap_time_in_seconds (0 exactly when both
    simultaneous capabilities are true). A capability declared false is the round's warning."""
    caps, shown = _capabilities(group)
    bad = False
    for key in CAPABILITIES:
        value = caps.get(key)
        if not isinstance(value, bool):
            bad = True
            yield invalid(f"{shown}: capabilities.{key} must be true or false", parameter=f"capabilities.{key}",
                          expected="true or false", actual="absent" if value is None else repr(value), file=shown,
                          fix=f"declare system_under_test.solution.capabilities.{key}")
    if bad:
        return
    remap = caps.get("remap_time_in_seconds")
    both = caps["simultaneous_write"] and caps["simultaneous_read"]
    if isinstance(remap, (int, float)) and not isinstance(remap, bool) and (both == (remap != 0)):
        yield invalid(f"{shown}: remap_time_in_seconds {remap} contradicts simultaneous_write/read "
                      f"({caps['simultaneous_write']}/{caps['simultaneous_read']})",
                      parameter="capabilities.remap_time_in_seconds",
                      expected="0 when both are true, more than 0 otherwise", actual=str(remap), file=shown,
                      fix="declare the remap time the system needs between writing and reading (0 only if none)")
    false = [k for k in CAPABILITIES if caps[k] is False]
    if false:
        yield warning(f"{shown} declares {', '.join(false)} false: shared simultaneous read/write support is not "
                      "confirmed by the system description (the v3.0 round's 4.7.4 warning)",
                      parameter="capabilities", expected="true", actual=", ".join(f"{k}: false" for k in false),
                      file=shown,
                      fix="confirm the capabilities the system really has")
    else:
        yield closed("multi-host and simultaneous read/write support declared", parameter="capabilities")


def _capabilities(group: RunGroup) -> tuple[dict[str, Any], str]:
    """`system_under_test.solution.capabilities` of the group's system YAML, and the YAML's path shown in findings."""
    submitter, system, shown = submitter_dir(group)
    path, shown_path = submitter / "systems" / f"{system}.yaml", f"{shown}/systems/{system}.yaml"
    if not path.is_file():
        raise NotApplicable(f"no system YAML {shown_path} (H8.1 reports it)")
    data, problem = read_yaml(str(path), shown_path)
    if problem is not None:
        raise NotApplicable(f"{shown_path} is unreadable (H8.1 reports it)")
    value: Any = data
    for key in ("system_under_test", "solution", "capabilities"):
        value = value.get(key) if isinstance(value, dict) else None
    return (value if isinstance(value, dict) else {}), shown_path
