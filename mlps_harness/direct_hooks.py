"""Calling the audit's per-test reporting hooks without pluggy's per-call bookkeeping.

An audit of 1,000 runs calls `pytest_runtest_logstart`, `pytest_runtest_logreport` (three times) and
`pytest_runtest_logfinish` for each of its 20,000+ rule tests; pluggy's dispatch (argument defaults and checks, a
copy of the implementation list, the monitoring indirection, the wrapper machinery) costs more than most of the
implementations it calls. `DirectHook` calls the same implementations, in pluggy's order, with the same arguments,
when nothing needs that machinery: no implementation wraps the hook (`wrapper` / `hookwrapper`) or takes keyword-only
arguments, and no hook-call monitoring (`--debug`, `add_hookcall_monitoring`) is active. Otherwise, and whenever the
registered implementations change, it checks again, and it calls the hook itself while any of that holds.

A `DirectHook` may also leave one plugin out (`skip`) of its direct calls, for reports that plugin is known to
ignore; when pluggy's dispatch is needed, that plugin gets the call like every other.
"""

from __future__ import annotations

from typing import Any

import pluggy

try:   # the function pluggy calls hooks with unless a monitor replaced it (a private name: checked, never assumed)
    from pluggy._callers import _multicall as _PLAIN_EXEC
except ImportError:   # pragma: no cover - another pluggy layout: always use the hook
    _PLAIN_EXEC = None


class DirectHook:
    """A callable standing for one hook caller (`ihook.pytest_runtest_logreport`, ...)."""

    __slots__ = ("caller", "manager", "skip", "_impls", "_calls")

    def __init__(self, caller: Any, manager: pluggy.PluginManager, skip: object = None) -> None:
        self.caller = caller
        self.manager = manager
        self.skip = skip
        self._impls: list[Any] | None = None
        self._calls: tuple[tuple[Any, tuple[str, ...]], ...] | None = None

    def __call__(self, **kwargs: Any) -> None:
        impls = self.caller.get_hookimpls()
        if impls != self._impls:
            self._impls = impls
            self._calls = _plain_calls(impls, self.skip)
        calls = self._calls
        if calls is None or _PLAIN_EXEC is None or getattr(self.manager, "_inner_hookexec", None) is not _PLAIN_EXEC:
            self.caller(**kwargs)
            return
        for function, argnames in calls:
            function(*[kwargs[name] for name in argnames])


def _plain_calls(impls: list[Any], skip: object = None) -> tuple[tuple[Any, tuple[str, ...]], ...] | None:
    """(function, argument names) in pluggy's calling order (last registered first), leaving out `skip`'s, or None
    if any implementation needs pluggy's own dispatch."""
    calls = []
    for impl in reversed(impls):
        if impl.wrapper or impl.hookwrapper or impl.kwargnames:
            return None
        if skip is None or impl.plugin is not skip:
            calls.append((impl.function, tuple(impl.argnames)))
    return tuple(calls)
