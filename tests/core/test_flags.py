"""`mlps_harness.flags`: one declaration rendered into a pytest option group and an argparse CLI, with the same
name, type, default and help on both sides; and the `byte_size` argument type."""

from __future__ import annotations

import argparse
import re

import pytest

from mlps_harness.argtypes import byte_size, positive_int
from mlps_harness.flags import Flag, FlagSet

TOY = FlagSet(prefix="toy-", label="toy", flags=(
    Flag("count", type=positive_int, default=3, metavar="N", help="how many toys"),
    Flag("toy-colour", choices=("red", "blue"), default="red", help="paint"),
    Flag("workers", aliases=("--procs",), suite_name="--toy-procs", type=positive_int, default=1,
         suite_default="--num-processes or 1", help="worker processes"),
    Flag("loud", action="store_true", help="make noise"),
))

CONFTEST = """
from tests.core.test_flags import TOY

def pytest_addoption(parser):
    TOY.add_to_suite(parser.getgroup("toy", "toy benchmark").addoption)

def pytest_report_header(config):
    return "values: " + repr({f.name: config.getoption(TOY.suite_flag(f.name)) for f in TOY.flags})
"""


def _cli() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toy-workload")
    for flag in TOY.flags:
        TOY.add_to_workload(parser.add_argument, flag.name)
    return parser


def _error(text: str) -> tuple[str, str]:
    """(option names, message) of an argparse/pytest usage error line."""
    match = re.search(r"error: argument (\S+): (.+)", text)
    assert match, text
    return match.group(1), match.group(2).strip()


def test_spellings_of_each_side() -> None:
    assert [TOY.suite_flag(f.name) for f in TOY.flags] == ["--toy-count", "--toy-colour", "--toy-procs", "--toy-loud"]
    names = {tuple(action.option_strings) for action in _cli()._actions}
    assert {("--count", "--toy-count"), ("--toy-colour",), ("--workers", "--procs", "--toy-procs"),
            ("--loud", "--toy-loud")} <= names


def test_workload_side_defaults_and_suite_spellings() -> None:
    args = _cli().parse_args([])
    assert (args.count, args.toy_colour, args.workers, args.loud) == (3, "red", 1, False)
    args = _cli().parse_args(["--toy-count", "7", "--procs", "2", "--toy-loud"])   # the suite's spelling works
    assert (args.count, args.workers, args.loud) == (7, 2, True)


def test_suite_side_defaults_are_not_given(pytester: pytest.Pytester) -> None:
    """Unset suite options read None (a plan tells "not given" from the declared default); values are typed."""
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest_inprocess("--co")
    result.stdout.fnmatch_lines(["values: {'count': None, 'toy-colour': None, 'workers': None, 'loud': False}"])
    result = pytester.runpytest_inprocess("--co", "--toy-count=4", "--toy-colour=blue", "--toy-procs=2")
    result.stdout.fnmatch_lines(["values: {'count': 4, 'toy-colour': 'blue', 'workers': 2, 'loud': False}"])


def test_one_help_text_on_both_sides(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")     # one line per option on both sides
    pytester.makeconftest(CONFTEST)
    suite_help = pytester.runpytest_inprocess("--help").stdout.str()
    cli_help = _cli().format_help()
    assert "--toy-count=N" in suite_help and "toy: how many toys (default 3)" in suite_help
    assert "--count N, --toy-count N" in cli_help and "how many toys (default 3)" in cli_help
    assert "toy: worker processes (default --num-processes or 1)" in suite_help
    assert "worker processes (default 1)" in cli_help
    assert "toy: paint (default red)" in suite_help and "--toy-colour={red,blue}" in suite_help


@pytest.mark.parametrize("flag, value", [("count", "0"), ("count", "many"), ("toy-colour", "green"),
                                         ("workers", "-1")])
def test_a_bad_value_gives_the_same_message_on_both_sides(pytester: pytest.Pytester, capsys, flag: str,
                                                          value: str) -> None:
    pytester.makeconftest(CONFTEST)
    suite = pytester.runpytest_inprocess(f"{TOY.suite_flag(flag)}={value}")
    assert suite.ret == pytest.ExitCode.USAGE_ERROR
    suite_names, suite_message = _error(suite.stderr.str())
    capsys.readouterr()                      # drop what the in-process pytest run printed
    with pytest.raises(SystemExit) as exited:
        _cli().parse_args([f"--{flag}", value])
    assert exited.value.code == 2
    cli_names, cli_message = _error(capsys.readouterr().err)
    assert suite_names == TOY.suite_flag(flag) and f"--{flag}" in cli_names.split("/")
    assert suite_message == cli_message and repr(value) in suite_message


def test_declarations_refuse_dashes_and_percent_signs() -> None:
    with pytest.raises(ValueError, match="without dashes"):
        Flag("--count", help="x")
    with pytest.raises(ValueError, match="'%'"):
        Flag("rate", help="in % of the peak")


def test_an_override_for_one_subcommand_is_shown_in_its_help() -> None:
    parser = argparse.ArgumentParser()
    TOY.add_to_workload(parser.add_argument, "count", default=None, note="must match the stored toys")
    assert parser.parse_args([]).count is None
    text = " ".join(parser.format_help().split())
    assert "how many toys; must match the stored toys" in text and "(default 3)" not in text


@pytest.mark.parametrize("text, expected", [("4096", 4096), ("64k", 64 << 10), ("16M", 16 << 20),
                                            ("1GiB", 1 << 30), (" 2 MB ", 2 << 20)])
def test_byte_size_accepts_binary_units(text: str, expected: int) -> None:
    assert byte_size(text) == expected


@pytest.mark.parametrize("text", ["0", "lots", "-4k", "1.5M", "16T", ""])
def test_byte_size_refuses_what_is_not_a_positive_size(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected a size > 0 in bytes, e\.g\. 4096, 64K"):
        byte_size(text)
