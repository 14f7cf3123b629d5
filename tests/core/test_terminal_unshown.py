"""A rule test's passing setup and teardown reports skip pytest's terminal reporter (which would only file them
under "" and show nothing) only when that is provably so: its terminal output stays pytest's own in every style,
and a plugin that answers `pytest_report_teststatus` first, or a progress style that lists times, gets them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_audit_protocol import OFF, _terminal
from tests.core.test_plugin_outputs import build_mixed
from tests.helpers import COMPLIANCE

#: a plugin (`-p unshownprobe`) printing whether the audit's protocol skips the terminal for such reports
PROBE = """
import pytest

@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config):
    protocol = config.pluginmanager.get_plugin("mlps_audit_protocol")
    terminalreporter.write_line(f"UNSHOWN {getattr(protocol, 'unshown', None)}")
"""

#: a plugin (`-p setupletters`) registering, after the audit's, a tryfirst status answer giving setups a letter
SETUP_LETTERS = """
import pytest

class Letters:
    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report):
        if report.when == "setup" and report.passed:
            return "setups", "S", "SETUP"

@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    config.pluginmanager.register(Letters(), "setup-letters")
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    return build_mixed(tmp_path_factory.mktemp("unshown") / "results")


def _run(pytester: pytest.Pytester, tree: Path, *extra: str) -> pytest.RunResult:
    pytester.makepyfile(unshownprobe=PROBE, setupletters=SETUP_LETTERS)
    pytester.syspathinsert()
    return pytester.runpytest_subprocess(str(COMPLIANCE), f"--results-dir={tree}", "-p", "no:cacheprovider",
                                         "-p", "unshownprobe", *extra)


@pytest.mark.parametrize("style", [("-q",), ("-v", "-rA"), ("-o", "console_output_style=count", "-rA"),
                                   ("-o", "console_output_style=classic", "-q")],
                         ids=["quiet", "verbose", "count", "classic"])
def test_terminal_output_is_pytests(style: tuple[str, ...], mixed: Path, pytester: pytest.Pytester) -> None:
    fast = _run(pytester, mixed, *style)
    plain = _run(pytester, mixed, *style, *OFF)
    assert fast.ret == plain.ret == pytest.ExitCode.TESTS_FAILED
    assert "UNSHOWN True" in fast.stdout.lines
    # compared without the probe's line and -v's metadata line (it names the command line)
    dropped = ("UNSHOWN", "metadata: ")
    fast_lines, plain_lines = ([line for line in _terminal(r.stdout.str(), []) if not line.startswith(dropped)]
                               for r in (fast, plain))
    assert fast_lines == plain_lines


def test_a_first_status_answer_of_another_plugin_gets_every_report(mixed: Path, pytester: pytest.Pytester) -> None:
    result = _run(pytester, mixed, "-q", "-p", "setupletters")
    assert "UNSHOWN False" in result.stdout.lines
    letters = "".join(line for line in result.stdout.lines if set(line) <= set("SCOIsE. [%]0123456789"))
    calls = letters.count("C") + letters.count("O") + letters.count("I")
    assert calls > 0 and letters.count("S") >= calls   # a setup letter beside every rule test's outcome


@pytest.mark.parametrize("extra", [("-o", "console_output_style=times"), ("--durations=5",)],
                         ids=["times", "durations"])
def test_terminal_gets_them_when_it_reads_them(extra: tuple[str, ...], mixed: Path, pytester: pytest.Pytester) -> None:
    result = _run(pytester, mixed, "-q", *extra)
    assert "UNSHOWN False" in result.stdout.lines
