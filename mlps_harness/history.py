"""Invocation history, as upstream's `mlpstorage history show|rerun`.

Every suite invocation appends one JSON line to `<results-dir>/history.jsonl`: id, time, the full command line and
the directory it ran in, the resolved settings (with each one's source), rules version, harness and git version, the
run directories it wrote and the verdict.

    python -m mlps_harness.history show [--results-dir DIR] [--limit N] [--id ID]
    python -m mlps_harness.history rerun ID [--results-dir DIR] [--what-if]

`rerun` prints the recorded command, then runs exactly it again (with `--what-if` appended when asked) in the
directory it first ran in. A damaged or foreign line in the file is reported and skipped, never fatal.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FILE_NAME = "history.jsonl"
RECORD_KIND = "mlps-harness-invocation"
REQUIRED = ("kind", "id", "time", "args", "cwd")
PLUGIN_NAME = "mlps_harness.history"


def history_path(results_dir: Path) -> Path:
    """The history file of a results dir."""
    return results_dir / FILE_NAME


def _git_version() -> str | None:
    """The checkout's commit (with '-dirty' when it has local changes), or None outside a git checkout."""
    here = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("-dirty" if dirty else "")


def resolved_options(config: pytest.Config) -> dict[str, Any]:
    """Every option value set in this session (after defaults and MLPSTORAGE_* variables), JSON-plain."""
    resolved: dict[str, Any] = {}
    for key, value in sorted(vars(config.option).items()):
        if value is None or value is False or value == [] or value == "":
            continue
        if isinstance(value, (str, int, float, bool)):
            resolved[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
            resolved[key] = list(value)
    return resolved


class HistoryRecorder:
    """A pytest plugin (registered by every suite's plan): appends this session's record when it ends."""

    def __init__(self, config: pytest.Config, results_dir: Path, run_root: Path, settings: dict[str, Any]) -> None:
        self.config = config
        self.results_dir = results_dir
        self.run_root = run_root
        self.settings = settings
        self.started = time.strftime("%Y%m%d_%H%M%S")
        self.started_iso = time.strftime("%Y-%m-%dT%H:%M:%S")

    def written_runs(self) -> list[str]:
        """Run directories (relative to the results dir) whose datetime is not earlier than this session's start."""
        from mlps_harness.loader import discover

        if not self.results_dir.is_dir():
            return []
        return [ref.run_id for ref in discover(self.results_dir).runs if ref.leaf >= self.started]

    def record(self, exitstatus: int) -> dict[str, Any]:
        """This session's history record."""
        from mlps_harness import __version__
        from mlps_harness.verdict import book

        verdict = book(self.config).verdict()
        params = self.config.invocation_params
        return {
            "kind": RECORD_KIND, "id": f"{self.started}-{secrets.token_hex(2)}", "time": self.started_iso,
            "args": [str(a) for a in params.args], "cwd": str(params.dir), "python": sys.executable,
            "settings": self.settings, "options": resolved_options(self.config),
            "harness_version": __version__, "git": _git_version(),
            "what_if": bool(self.config.getoption("--what-if")), "exit_status": int(exitstatus),
            "runs": self.written_runs(), "verdict": verdict.value if verdict else None,
        }

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(self.config, "workerinput"):
            return
        try:
            self.results_dir.mkdir(parents=True, exist_ok=True) if not self.config.getoption("--what-if") else None
            if not self.results_dir.is_dir():
                return          # --what-if with a results dir that does not exist yet: nothing is created
            line = json.dumps(self.record(exitstatus), default=str)
            with open(history_path(self.results_dir), "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:
            self.config.get_terminal_writer().line(f"warning: history not recorded in {self.results_dir} ({exc})")


def register(config: pytest.Config, results_dir: Path, run_root: Path, settings: dict[str, Any]) -> None:
    """Record this suite invocation in `<results_dir>/history.jsonl` at the end of the session (once)."""
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(HistoryRecorder(config, results_dir, run_root, settings), PLUGIN_NAME)


@dataclass
class Loaded:
    """The usable records of a history file and a message per skipped line."""

    records: list[dict[str, Any]]
    skipped: list[str]


def load(path: Path) -> Loaded:
    """Every valid record of a history file; damaged or foreign lines are listed in `skipped`, never fatal."""
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    try:
        with open(path, "rb") as handle:
            raw_lines = handle.read().split(b"\n")
    except OSError as exc:
        return Loaded([], [f"{path}: cannot read ({exc.strerror})"])
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            skipped.append(f"{path} line {number}: not a JSON record ({exc.__class__.__name__}); skipped")
            continue
        if not isinstance(doc, dict) or doc.get("kind") != RECORD_KIND:
            skipped.append(f"{path} line {number}: not an mlps-harness history record; skipped")
            continue
        missing = [key for key in REQUIRED if key not in doc]
        if missing or not isinstance(doc["args"], list) or not all(isinstance(a, str) for a in doc["args"]):
            skipped.append(f"{path} line {number}: record lacks {', '.join(missing) or 'a list of args'}; skipped")
            continue
        records.append(doc)
    return Loaded(records, skipped)


def command_line(record: dict[str, Any]) -> str:
    """The recorded invocation as a shell command."""
    return "pytest " + shlex.join(record["args"])


def _show(records: list[dict[str, Any]], limit: int | None, wanted: str | None) -> int:
    if wanted is not None:
        records = [r for r in records if r["id"] == wanted]
        if not records:
            print(f"history: no record with id {wanted!r}", file=sys.stderr)
            return 2
    for record in records[-limit:] if limit else records:
        runs = record.get("runs") or []
        print(f"{record['id']}  {record['time']}  verdict {record.get('verdict') or '-'}"
              f"{'  (what-if)' if record.get('what_if') else ''}  exit {record.get('exit_status', '-')}")
        print(f"    {command_line(record)}")
        print(f"    in {record['cwd']}; rules {record.get('settings', {}).get('rules_version', '-')}; "
              f"harness {record.get('harness_version', '-')} git {record.get('git') or '-'}")
        if wanted is not None:
            for key, value in sorted((record.get("settings") or {}).items()):
                print(f"    {key}: {value}")
        for run in runs:
            print(f"    wrote {run}")
    return 0


def _rerun(records: list[dict[str, Any]], wanted: str, what_if: bool) -> int:
    matches = [r for r in records if r["id"] == wanted]
    if not matches:
        print(f"history: no record with id {wanted!r}; `python -m mlps_harness.history show` lists them",
              file=sys.stderr)
        return 2
    record = matches[-1]
    args = list(record["args"])
    if what_if and "--what-if" not in args:
        args.append("--what-if")
    cwd = Path(record["cwd"])
    if not cwd.is_dir():
        print(f"history: {wanted} ran in {cwd}, which no longer exists", file=sys.stderr)
        return 2
    print(f"rerun {wanted} in {cwd}: pytest {shlex.join(args)}", flush=True)
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=cwd).returncode


def main(argv: list[str] | None = None) -> int:
    """`python -m mlps_harness.history show|rerun`; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m mlps_harness.history",
                                     description="list or rerun recorded suite invocations")
    parser.add_argument("--results-dir", default=None,
                        help="results dir holding history.jsonl (default $MLPSTORAGE_RESULTS_DIR, else ./results)")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="list recorded invocations")
    show.add_argument("--limit", "-n", type=int, default=None, help="only the last N")
    show.add_argument("--id", "-i", default=None, help="only this record, with every setting")
    again = sub.add_parser("rerun", help="run a recorded invocation again")
    again.add_argument("id")
    again.add_argument("--what-if", action="store_true", help="add --what-if: print what it would run")
    for sub_parser in (show, again):
        sub_parser.add_argument("--results-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if getattr(args, "limit", None) is not None and args.limit < 1:
        parser.error(f"--limit: expected a whole number > 0, got {args.limit}")
    results_dir = Path(args.results_dir or os.environ.get("MLPSTORAGE_RESULTS_DIR") or "results").expanduser()
    path = history_path(results_dir)
    if not path.is_file():
        print(f"history: no {FILE_NAME} in {results_dir}; suites record their invocations there "
              "(pass --results-dir DIR for another results dir)", file=sys.stderr)
        return 2
    loaded = load(path)
    for message in loaded.skipped:
        print(f"warning: {message}", file=sys.stderr)
    if args.command == "show":
        return _show(loaded.records, args.limit, args.id)
    return _rerun(loaded.records, args.id, args.what_if)


if __name__ == "__main__":
    sys.exit(main())
