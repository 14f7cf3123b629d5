"""What one stage of a suite did: the one result type every benchmark's stages return to its suite's tests.

A stage is one planned slot of a suite (a data generation, a load, a measured run, one trial): usually one launched
process writing one run directory, sometimes a reused earlier output, sometimes a workload run in this process.
`StageResult` records that in the same fields for every benchmark, so a suite test is always "skip if absent, fail
with `failure()` unless `ok`", and the suite's results index is always `written_dirs(...)`.

A benchmark that must carry more subclasses it (a dataclass) and adds typed fields of its own; the KV cache's
`Trial` adds each rank's figures and the rank files that were missing. Figures a workload returns in this process
(JSON-plain) go in `figures` without a subclass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from mlps_harness.launch import RunResult, explain_failure


@dataclass
class StageResult:
    """One stage's outcome and where it wrote.

    `process` is the launched process's outcome (exit status, duration, logs, stderr tail, timed-out and
    interrupted flags); it is None when nothing was launched (`reused`, or the workload ran in this process).
    `error` is a failure the exit status does not show (the workload's exception, rank results missing);
    `causes` are the failure's own words (a rank's error line), shown before the launcher's explanation.
    """

    slot: str                            #: the test parameter it answers: "datagen", "run/0", "option_1/trial_1"
    run_dir: Path | None = None          #: where it wrote; None when it failed before a directory was made
    process: RunResult | None = None
    program: str = "the workload"        #: the program's name in failure messages ("DLIO", "kv-cache")
    reused: bool = False                 #: an earlier output with identical parameters was reused; nothing ran
    error: str | None = None
    causes: list[str] = field(default_factory=list)
    started_at: str | None = None        #: ISO 8601 local time, when the stage records it
    ended_at: str | None = None
    seconds: float = 0.0                 #: how long it ran (0 when reused)
    figures: dict[str, Any] = field(default_factory=dict)   #: what an in-process workload returned

    @classmethod
    def of_process(cls, slot: str, run_dir: Path, process: RunResult, program: str, **more: Any) -> Self:
        """The result of one launched process (its duration becomes `seconds`); `more` sets any other field."""
        return cls(slot, run_dir, process, program, seconds=process.duration_seconds, **more)

    @property
    def ok(self) -> bool:
        """It wrote a run directory, no error was found, and its process (if any) ended cleanly."""
        return self.error is None and self.run_dir is not None and (self.process is None or self.process.ok)

    def failure(self) -> str:
        """Why it failed, most specific first: its causes, its error, then how its process ended and what to do."""
        lines = [*self.causes, *([self.error] if self.error else [])]
        if self.process is not None and not self.process.ok:
            lines.append(explain_failure(self.process, self.program))
        return "\n".join(lines)


def written_dirs(results: Iterable[StageResult]) -> dict[str, Path]:
    """The run directories these stages wrote (and that still exist), by slot: what a suite's `SuiteIndex` loads."""
    return {r.slot: r.run_dir for r in results if r.run_dir is not None and r.run_dir.is_dir()}
