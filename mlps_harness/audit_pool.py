"""`-n N` for an audit: N forked processes parse the runs and evaluate the rules ahead of the test loop, and this
process runs every rule test's protocol and reporting with their results.

Why not pytest-xdist's workers: an audit test's work is a rule evaluation of a few microseconds on a run parsed once,
while every test sends six messages from a worker and the controller must receive, rebuild and report each of its
three reports. On this work the controller alone costs more than a whole serial audit (docs/PERFORMANCE.md), so
xdist cannot pay off at any number of cores. What does parallelise is the parsing and the evaluation: that goes to
the pool, submission group by submission group, a few groups ahead of the tests that need them.

The reports are the ones a serial audit makes (tests prove it): each test runs here, through the same protocol, with
the same properties. A case the pool did not finish normally (a rule that crashes, a target that is not there) is
evaluated again here, exactly as serially. `-p no:mlps_audit_pool`, or an explicit `--dist` or `--tx`, leaves the
audit to pytest-xdist.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

import pytest
from _pytest.outcomes import OutcomeException

from mlps_harness.cases import RuleOutcome, shared_pair

if TYPE_CHECKING:
    from mlps_harness.audit import RuleItem

POOL_PLUGIN = "mlps_audit_pool"

#: the rule tests of each unit (one submission group's tests, in test order); set before the fork, read by the pool's
#: processes from their copy of this process
_UNITS: list[list["RuleItem"]] = []


def claim_workers(config: pytest.Config) -> None:
    """If `-n N` asked pytest-xdist to distribute this audit, take its N processes for the pool instead (unless the
    distribution was spelled out with --dist/--tx, or `-p no:mlps_audit_pool` is given)."""
    option = config.option
    if not getattr(option, "numprocesses", None) or getattr(option, "dist", "no") != "load" \
            or not getattr(option, "tx", None) or hasattr(config, "workerinput") or option.collectonly:
        return
    if config.pluginmanager.is_blocked(POOL_PLUGIN) or config.pluginmanager.has_plugin(POOL_PLUGIN) \
            or "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return   # forking a process that runs other threads (pytest run inside another program) is not safe
    if any(arg == "-d" or arg.startswith(("--dist", "--tx")) for arg in config.invocation_params.args):
        return
    processes = len(option.tx)
    option.dist, option.tx = "no", []   # pytest-xdist's configure then starts no session
    config.pluginmanager.register(AuditPool(processes), POOL_PLUGIN)


def _ignore_interrupts() -> None:
    """A pool process leaves Ctrl-C to the pytest process, which stops the audit and the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _evaluate_unit(unit: int) -> tuple[dict[int, tuple[list[tuple[str, str]], Any, str | None]], set[str]]:
    """In a pool process: every case of one unit that evaluates normally, by position: (properties, result,
    effective division); and the runs whose record went on one of this unit's reports."""
    from mlps_harness.metrics import sent_results

    records = {}
    items = _UNITS[unit]
    sent = sent_results(items[0].config) if items else set()
    before = set(sent)
    for position, item in enumerate(items):
        start = len(item.user_properties)
        try:
            outcome = item.evaluate()
        except (Exception, OutcomeException):   # evaluated again in the test loop, where its report is made
            continue
        records[position] = (item.user_properties[start:], outcome.result, outcome.declared)
    return records, sent - before


class AuditPool:
    """Evaluates the audit's cases in forked processes, a window of units ahead of the test loop."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.window = 4 * processes
        self.pool: ProcessPoolExecutor | None = None
        self.pending: dict[int, Future] = {}
        self.stopped: str | None = None   #: why the pool stopped early (the loop then evaluates every case itself)
        self.unit = -1
        self.records: dict[int, tuple] = {}
        self.submitted = 0

    def pytest_report_header(self) -> list[str]:
        return [(f"audit: {self.processes} processes parse the runs and evaluate the rules; every test runs and "
                 "reports in this one (instead of pytest-xdist workers; -p no:mlps_audit_pool gives them back)")]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.stopped:
            terminalreporter.write_line(f"audit pool: {self.stopped}; the remaining rule tests were evaluated in the "
                                        "pytest process (same reports, serial speed)", yellow=True)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from mlps_harness.audit import RuleItem

        units: list[list[RuleItem]] = []
        last: object = None
        for item in session.items:
            if type(item) is not RuleItem:
                continue
            if item.case.group != last:
                units.append([])
                last = item.case.group
            item.pool, item.pool_slot = self, (len(units) - 1, len(units[-1]))
            units[-1].append(item)
        _UNITS[:] = units
        session.config.add_cleanup(self.close)
        session.config.add_cleanup(_UNITS.clear)

    def outcome(self, item: "RuleItem") -> RuleOutcome | None:
        """The pool's evaluation of this item's case (its properties added to the item), or None."""
        unit, position = item.pool_slot
        if unit != self.unit:
            from mlps_harness.metrics import sent_results

            self.unit, (self.records, sent) = unit, self._fetch(unit)
            sent_results(item.config).update(sent)   # a case evaluated here again must not repeat them
        record = self.records.pop(position, None)
        if record is None:
            return None
        props, result, effective = record
        item.user_properties.extend(shared_pair(name, value) for name, value in props)
        return RuleOutcome(item.case, result, effective)

    def _fetch(self, unit: int) -> tuple[dict[int, tuple], set[str]]:
        if self.stopped:
            return {}, set()
        if self.pool is None:
            self.pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_ignore_interrupts)
        self.submitted = max(self.submitted, unit)
        while self.submitted < min(unit + self.window, len(_UNITS)):
            self.pending[self.submitted] = self.pool.submit(_evaluate_unit, self.submitted)
            self.submitted += 1
        waiting = self.pending.pop(unit, None) or self.pool.submit(_evaluate_unit, unit)
        for stale in [k for k in self.pending if k < unit]:   # units the loop passed by (deselected, reordered)
            self.pending.pop(stale).cancel()
        try:
            return waiting.result()
        except BrokenProcessPool:   # a pool process died (killed, out of memory): nothing is lost but speed
            self.stopped = "a pool process stopped unexpectedly"
        except Exception as exc:   # noqa: BLE001 - e.g. a result that cannot be pickled
            self.stopped = f"the pool failed ({type(exc).__name__}: {exc})"
        self.close()
        return {}, set()

    def close(self) -> None:
        """Stop the pool: idle processes exit; after a failure, or with work still queued, they are terminated."""
        pool, self.pool = self.pool, None
        if pool is None:
            return
        busy = self.stopped is not None or any(not f.done() for f in self.pending.values())
        self.pending.clear()
        if not busy:
            pool.shutdown(wait=True)
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)
