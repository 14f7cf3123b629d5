"""Checkpointing submission rules (rules.md §4 multi-run): 10 writes + 10 reads in total, and the invocation
structure (one combined invocation, or a write-only then a read-only one at most 30 s apart in v3.0)."""

from __future__ import annotations

from collections.abc import Iterator

from mlps_harness.model import Run, RunGroup
from mlps_harness.outcomes import Division, Finding, NotApplicable, closed, invalid, open_
from mlps_harness.rules.checkpoint_ruleset import checkpoint_counts, checkpoint_rules, invocation_bounds
from mlps_harness.rules.registry import rule

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


@rule("4.7.1", "invocation-structure", benchmark=C, scope="group")
def invocation_structure(group: RunGroup) -> Iterator[Finding]:
    """One invocation that writes and reads, or two: write-only then read-only, the read starting soon after."""
    rs = checkpoint_rules(group.rules_version)
    runs = _invocations(group)
    if len(runs) > rs.max_invocations:
        yield invalid(f"{len(runs)} invocations", parameter="invocations", expected=f"1 or {rs.max_invocations}",
                      actual=", ".join(r.ref.leaf for r in runs), file=group.group_id,
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
        yield invalid(f"the read invocation started {-gap:.1f} s before the write invocation ended",
                      parameter="phase gap", expected=">= 0 s", actual=f"{gap:.1f} s ({where})",
                      file=second.run_id, fix="run the read invocation after the write invocation finished")
    elif rs.max_phase_gap_seconds is not None and gap > rs.max_phase_gap_seconds:
        yield invalid(f"{gap:.1f} s between the write and the read invocation", parameter="phase gap",
                      expected=f"<= {rs.max_phase_gap_seconds:g} s", actual=f"{gap:.1f} s ({where})",
                      file=second.run_id, fix="start the read invocation right after the write invocation")
    else:
        yield closed(f"write then read, {gap:.1f} s apart", parameter="phase gap", actual=f"{gap:.1f} s ({where})")
