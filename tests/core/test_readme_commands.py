"""Every command in the README's bash blocks works as printed, in a sandbox that looks like a clean checkout.

Benchmark runs get `--what-if` appended (a real run takes minutes); `-k datasize`, the audits and the history
command run as printed. Placeholder paths (`/path/to/results`, `...`) become a real upstream sample tree. The
set-up lines (`bash scripts/setup.sh && ...`) are what CI itself runs (`.ci/run`); here they are syntax-checked.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, SAMPLES

SAMPLE = SAMPLES / "upstream-v2.0-unet3d-3runs"
LINKED = (".venv", "suites", "compliance", "kv_cache_benchmark", "mlps_harness", "scripts", "pyproject.toml")


def readme_commands() -> list[str]:
    """The commands of every ```bash block of README.md, continuation lines joined, comments dropped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command:
                commands.append(command)
    return commands


def _prepare(command: str) -> list[str] | None:
    """The argv to run for a README command (None: a set-up line, checked separately)."""
    if command.startswith("bash scripts/"):
        return None
    argv = shlex.split(command.replace("/path/to/results", str(SAMPLE)).replace("--results-dir=...",
                                                                                   f"--results-dir={SAMPLE}"))
    if argv[0].endswith("/pytest") and any(a.startswith("suites") for a in argv[1:]):
        selected = argv[argv.index("-k") + 1] if "-k" in argv else ""
        if "--what-if" not in argv and selected != "datasize":
            argv.append("--what-if")
    return argv


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A directory with the checkout's code linked in: results, reports and history land here, not in REPO."""
    root = tmp_path_factory.mktemp("checkout")
    for name in LINKED:
        (root / name).symlink_to(REPO / name)
    return root


def test_readme_has_the_commands_we_check() -> None:
    commands = readme_commands()
    assert any(c.startswith(".venv/bin/pytest compliance") for c in commands)
    assert any("suites/training" in c for c in commands) and any("mlps_harness.history" in c for c in commands)


def test_setup_lines_are_valid_bash() -> None:
    scripts = {word for c in readme_commands() if c.startswith("bash scripts/")
               for word in c.split() if word.startswith("scripts/")}
    assert scripts >= {"scripts/setup.sh", "scripts/main-job.sh", "scripts/test.sh"}
    for script in sorted(scripts):
        done = subprocess.run(["bash", "-n", str(REPO / script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_every_readme_command_works_as_printed(sandbox: Path) -> None:
    if not SAMPLE.is_dir():
        pytest.skip(f"{SAMPLE} not present (CI keeps ../shared beside the clone)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLPSTORAGE_", "PYTEST_"))}
    failures = []
    for command in readme_commands():
        argv = _prepare(command)
        if argv is None:
            continue
        if argv[0].startswith(".venv/"):
            argv[0] = str(sandbox / argv[0]) if (sandbox / argv[0]).exists() else sys.executable
        done = subprocess.run([*argv, *(["-p", "no:cacheprovider"] if argv[0].endswith("pytest") else [])],
                              cwd=sandbox, capture_output=True, text=True, timeout=900, env=env)
        out = done.stdout + done.stderr
        audit = "compliance" in argv
        ok = done.returncode in ((0, 1) if audit else (0,)) and "Traceback" not in out and "INTERNALERROR" not in out
        if not ok:
            failures.append(f"{command}\n  ran: {shlex.join(argv)}\n  exit {done.returncode}\n{out[-1500:]}")
    assert not failures, "\n\n".join(failures)
    assert not (sandbox / "data").exists()           # data never lands in the checkout
    assert (sandbox / "results" / "history.jsonl").is_file()
