"""The checkpointing and vector database options are declared once (`<benchmark>/options.py: FLAGS`) and seen the
same from `pytest suites/<benchmark> --help` and the workload's `--help`; a bad value gets the same message on both
sides; the workload commands a suite prints under --what-if parse with the workload's own parser. Real
subprocesses for both command lines."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from mlps_harness.benchmarks.checkpointing.options import FLAGS as CHECKPOINT_FLAGS
from mlps_harness.benchmarks.checkpointing.workload.options import options_from_argv
from mlps_harness.benchmarks.vector_database.options import FLAGS as VDB_FLAGS
from mlps_harness.benchmarks.vector_database.workload.cli import build_parser as vdb_parser
from mlps_harness.flags import FlagSet
from tests.helpers import REPO

WORKLOADS = {"checkpointing": ("mlps_harness.benchmarks.checkpointing.workload", CHECKPOINT_FLAGS, [[]]),
             "vector_database": ("mlps_harness.benchmarks.vector_database.workload", VDB_FLAGS,
                                 [["datasize"], ["load"], ["run"]])}
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("MLPSTORAGE_")}, "COLUMNS": "400"}


def _run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=300, env=ENV, cwd=cwd)


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return _run("-m", "pytest", "-p", "no:cacheprovider", *args, cwd=cwd)


@cache
def _helps(benchmark: str) -> tuple[str, str]:
    """(`pytest suites/<benchmark> --help`, every workload (sub)command's --help), one line per option."""
    module, _, commands = WORKLOADS[benchmark]
    suite = _pytest(str(REPO / "suites" / benchmark), "--help", cwd=REPO)
    assert suite.returncode == 0, suite.stderr[-2000:]
    workload = [_run("-m", module, *command, "--help") for command in commands]
    assert all(done.returncode == 0 for done in workload), [done.stderr for done in workload]
    return suite.stdout, "\n".join(done.stdout for done in workload)


def _entries(help_text: str) -> list[str]:
    """Each option of a --help output as one line: its spellings and its help (continuation lines joined)."""
    entries: list[str] = []
    for line in help_text.splitlines():
        if re.match(r"\s{1,4}-", line):
            entries.append(line.strip())
        elif entries and line.startswith(" " * 8) and line.strip():
            entries[-1] += " " + line.strip()
        else:
            entries.append("")
    return [entry for entry in entries if entry]


def _error(text: str) -> tuple[list[str], str]:
    """(option names, message) of an argparse/pytest usage error."""
    match = re.search(r"error: argument (\S+): (.+)", text)
    assert match, text[-2000:]
    return match.group(1).split("/"), match.group(2).strip()


@pytest.mark.parametrize("benchmark", sorted(WORKLOADS))
def test_each_shared_option_has_one_help_text_on_both_sides(benchmark: str) -> None:
    flags: FlagSet = WORKLOADS[benchmark][1]
    suite, workload = (_entries(text) for text in _helps(benchmark))
    for flag in flags.flags:
        spelling = flag.suite_flag(flags.prefix)
        line = next((line for line in suite if re.match(rf"{spelling}[= ]", line)), "")
        assert flags.suite_help(flag) in line, (spelling, line)
        # the workload spells it --<name> and also accepts the suite's spelling (vector DB `load --batch-size`, rows
        # per insert, is another option of the same name: it does not take --vdb-batch-size)
        lines = [line for line in workload if re.match(rf"--{flag.name}[ ,]", line) and spelling in line]
        assert lines, f"--{flag.name} (also {spelling}) missing from the workload's --help"
        for line in lines:
            assert flag.help in line, line
            if flag.shown_default() and "must match" not in line:
                assert f"(default {flag.shown_default()})" in line, line


@pytest.mark.parametrize("benchmark, flag, value, workload_args", [
    ("checkpointing", "size-scale", "0", []),
    ("checkpointing", "transfer-size", "lots", []),
    ("checkpointing", "num-checkpoints-write", "-1", []),
    ("checkpointing", "storage", "tape", []),
    ("vector_database", "num-vectors", "0", ["load"]),
    ("vector_database", "vdb-port", "70000", ["run"]),
    ("vector_database", "runtime", "nan", ["run"]),
    ("vector_database", "num-query-processes", "0", ["run"]),
])
def test_a_bad_value_gives_the_same_message_on_both_sides(tmp_path: Path, benchmark: str, flag: str, value: str,
                                                          workload_args: list[str]) -> None:
    module, flags, _ = WORKLOADS[benchmark]
    spelling = flags.suite_flag(flag)
    suite = _pytest(str(REPO / "suites" / benchmark), f"{spelling}={value}", f"--results-dir={tmp_path / 'r'}",
                    cwd=tmp_path)
    workload = _run("-m", module, *workload_args, f"--{flag}", value)
    assert suite.returncode == 4 and workload.returncode == 2, (suite.stderr[-1000:], workload.stderr[-1000:])
    assert "Traceback" not in suite.stderr + workload.stderr
    suite_names, suite_message = _error(suite.stderr)
    workload_names, workload_message = _error(workload.stderr)
    assert suite_names == [spelling] and f"--{flag}" in workload_names and spelling in workload_names
    assert suite_message == workload_message and repr(value) in suite_message
    assert not (tmp_path / "r").exists()


def _printed_command(stdout: str, module: str, slot: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.strip().startswith(f"{slot}:") and module in line)
    argv = shlex.split(line.split(f" -m {module} ", 1)[1])
    return [arg.replace("<YYYYMMDD_HHMMSS>", "20260101_000000") for arg in argv]


def test_vector_database_what_if_commands_parse_with_the_workload_parser(tmp_path: Path) -> None:
    done = _pytest(str(REPO / "suites" / "vector_database"), "--what-if", "--loops=1", "--vdb-num-vectors=300",
                   "--vdb-dimension=8", "--vdb-batch-size=4", "--vdb-runtime=2", "--vdb-force", f"--results-dir={tmp_path / 'r'}",
                   f"--data-dir={tmp_path / 'd'}", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    module = WORKLOADS["vector_database"][0]
    load = vdb_parser().parse_args(_printed_command(done.stdout, module, "load"))
    assert (load.command, load.num_vectors, load.dimension, load.index_type, load.force) == ("load", 300, 8, "HNSW",
                                                                                             True)
    run = vdb_parser().parse_args(_printed_command(done.stdout, module, "run/0"))
    assert (run.command, run.batch_size, run.runtime, run.dimension, run.num_query_processes) == ("run", 4, 2.0, 8, 1)


def test_checkpointing_what_if_command_parses_with_the_workload_parser(tmp_path: Path) -> None:
    done = _pytest(str(REPO / "suites" / "checkpointing"), "--what-if", "--checkpoint-size-scale=0.001",
                   "--checkpoint-transfer-size=256K", "--num-checkpoints-read=3", f"--results-dir={tmp_path / 'r'}",
                   f"--data-dir={tmp_path / 'd'}", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    options = options_from_argv(_printed_command(done.stdout, WORKLOADS["checkpointing"][0], "run/0"))
    assert (options.size_scale, options.transfer_size, options.num_checkpoints_read) == (0.001, 256 << 10, 3)
    assert options.num_checkpoints_write == 10 and options.checkpoint_folder == tmp_path / "d" / "checkpoints" / \
        "llama3-8b"
