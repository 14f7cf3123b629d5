"""`DirectHook` calls what pluggy would call, in pluggy's order, and hands the call to pluggy whenever its machinery
matters (a wrapper, keyword-only arguments, hook-call monitoring, implementations that change)."""

from __future__ import annotations

import pluggy
import pytest

from mlps_harness.direct_hooks import DirectHook

spec = pluggy.HookspecMarker("toy")
impl = pluggy.HookimplMarker("toy")


class Spec:
    @spec
    def report(self, report, when):
        """One report."""


def _manager(calls: list) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("toy")
    pm.add_hookspecs(Spec)

    class Plain:
        @impl
        def report(self, report):
            calls.append(("plain", report))

    class First:
        @impl(tryfirst=True)
        def report(self, when, report):
            calls.append(("first", report, when))

    class Last:
        @impl(trylast=True)
        def report(self):
            calls.append(("last",))

    for plugin in (Last(), Plain(), First()):
        pm.register(plugin)
    return pm


def _both(pm: pluggy.PluginManager, calls: list, **kwargs) -> tuple[list, list]:
    pm.hook.report(**kwargs)
    by_pluggy = calls[:]
    calls.clear()
    DirectHook(pm.hook.report, pm)(**kwargs)
    return by_pluggy, calls[:]


def test_same_calls_in_the_same_order_as_pluggy() -> None:
    calls: list = []
    pm = _manager(calls)
    by_pluggy, direct = _both(pm, calls, report="r1", when="call")
    assert direct == by_pluggy == [("first", "r1", "call"), ("plain", "r1"), ("last",)]


def test_a_plugin_registered_later_is_called_too() -> None:
    calls: list = []
    pm = _manager(calls)
    hook = DirectHook(pm.hook.report, pm)
    hook(report="a", when="setup")

    class Late:
        @impl
        def report(self, report):
            calls.append(("late", report))

    pm.register(Late())
    calls.clear()
    hook(report="b", when="setup")
    assert calls[:2] == [("first", "b", "setup"), ("late", "b")]


@pytest.mark.parametrize("kind", ["wrapper", "hookwrapper"])
def test_a_wrapper_gets_pluggys_dispatch(kind: str) -> None:
    calls: list = []
    pm = _manager(calls)

    class Wrap:
        @impl(**{kind: True})
        def report(self, report):
            calls.append(("before", report))
            outcome = yield
            calls.append(("after", report))
            return outcome if kind == "wrapper" else None

    pm.register(Wrap())
    by_pluggy, direct = _both(pm, calls, report="w", when="call")
    assert direct == by_pluggy and direct[0] == ("before", "w") and direct[-1] == ("after", "w")


def test_monitoring_sees_every_call() -> None:
    calls: list = []
    pm = _manager(calls)
    seen: list = []
    undo = pm.add_hookcall_monitoring(lambda name, impls, kwargs: seen.append((name, kwargs["report"])),
                                      lambda outcome, name, impls, kwargs: None)
    hook = DirectHook(pm.hook.report, pm)
    hook(report="m", when="call")
    assert seen == [("report", "m")] and len(calls) == 3
    undo()
    hook(report="n", when="call")
    assert seen == [("report", "m")] and len(calls) == 6


def test_an_implementation_error_propagates() -> None:
    pm = _manager([])

    class Broken:
        @impl
        def report(self, report):
            raise ValueError(report)

    pm.register(Broken())
    with pytest.raises(ValueError, match="boom"):
        DirectHook(pm.hook.report, pm)(report="boom", when="call")


def test_an_audit_with_a_logreport_wrapper_reports_through_it(pytester: pytest.Pytester) -> None:
    """A conftest's `pytest_runtest_logreport` wrapper sees every report of every rule test (three per test)."""
    from mlps_harness.benchmarks.training.synthetic import write_training_submission
    from tests.helpers import REPO

    tree = pytester.path / "tree"
    write_training_submission(tree, runs=2)
    pytester.makepyfile(wrapplug="""
        import pytest
        SEEN = []
        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_logreport(report):
            SEEN.append(report.when)
            return (yield)
        def pytest_terminal_summary(terminalreporter):
            terminalreporter.write_line(f"WRAPPED {len(SEEN)} {SEEN.count('call')}")
    """)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess(str(REPO / "compliance"), f"--results-dir={tree}", "-p",
                                           "no:cacheprovider", "-p", "wrapplug")
    tests = sum(result.parseoutcomes().get(k, 0) for k in ("passed", "failed", "skipped", "open", "error"))
    assert tests > 20
    result.stdout.fnmatch_lines([f"WRAPPED {3 * tests} {tests}"])


def test_a_skipped_plugin_is_left_out_of_direct_calls_only() -> None:
    """`skip` leaves one plugin out while the hook is called directly; once pluggy's dispatch is needed (a wrapper
    registers), that plugin is called like every other."""
    calls: list = []
    pm = _manager(calls)
    plain = next(p for p in pm.get_plugins() if type(p).__name__ == "Plain")
    hook = DirectHook(pm.hook.report, pm, skip=plain)
    hook(report="r", when="setup")
    assert calls == [("first", "r", "setup"), ("last",)]

    class Wrapper:
        @impl(wrapper=True)
        def report(self):
            return (yield)

    pm.register(Wrapper())
    calls.clear()
    hook(report="r", when="teardown")
    assert calls == [("first", "r", "teardown"), ("plain", "r"), ("last",)]
