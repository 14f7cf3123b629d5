"""The package's shape: every module imports on its own (no cycle), and core modules name no benchmark."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlps_harness.spec import benchmarks

PACKAGE = Path(__file__).resolve().parents[2] / "mlps_harness"
BENCHMARKS_DIR = PACKAGE / "benchmarks"


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    """Import each module first, in its own interpreter: an import cycle fails for whichever module starts it."""
    script = ("import importlib, sys, traceback\n"
              "bad = []\n"
              "for name in sys.argv[1:]:\n"
              "    for key in [k for k in sys.modules if k.startswith('mlps_harness') or k == 'kv_cache']:\n"
              "        del sys.modules[key]\n"
              "    try:\n"
              "        importlib.import_module(name)\n"
              "    except Exception:\n"
              "        bad.append(name + ': ' + traceback.format_exc(limit=3).splitlines()[-1])\n"
              "print('\\n'.join(bad))\n"
              "sys.exit(1 if bad else 0)\n")
    # one interpreter per module would take a minute; purging sys.modules between imports gives each a cold start
    # of the package (third-party modules stay cached, which cannot hide a cycle inside ours)
    done = subprocess.run([sys.executable, "-c", script, *_modules()], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_cycle_would_be_caught(tmp_path: Path) -> None:
    """The import check itself fails on a real cycle between two modules (so the test above can fail)."""
    pkg = tmp_path / "cyc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyc.b import B\nA = 1\n")
    (pkg / "b.py").write_text("from cyc.a import A\nB = 2\n")
    done = subprocess.run([sys.executable, "-c", "import cyc.a"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0 and "circular import" in done.stderr


def _strings_naming_a_benchmark(path: Path, names: list[str]) -> list[str]:
    """String constants (docstrings excluded) that name a benchmark as a word."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, names)) + r")(?![\w])")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if pattern.search(node.value):
                shown = path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE.parent) else path.name
                found.append(f"{shown}:{node.lineno}: {node.value[:70]!r}")
    return found


def test_core_modules_name_no_benchmark() -> None:
    """Only `mlps_harness/benchmarks/<name>/` may name a benchmark; the core learns them from the registry."""
    names = sorted(benchmarks())
    core = [p for p in PACKAGE.rglob("*.py") if BENCHMARKS_DIR not in p.parents]
    found = [hit for path in core for hit in _strings_naming_a_benchmark(path, names)]
    assert not found, "core modules naming a benchmark:\n" + "\n".join(found)


def test_the_benchmark_name_check_can_fail(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""training is fine in a docstring."""\nHINT = "place runs under training/"\nOK = "pretraining"\n')
    hits = _strings_naming_a_benchmark(module, ["training"])
    assert len(hits) == 1 and "place runs under" in hits[0]


@pytest.mark.parametrize("name", sorted(benchmarks()))
def test_each_benchmark_lives_in_its_own_package(name: str) -> None:
    spec = benchmarks()[name]
    assert (BENCHMARKS_DIR / name / "spec.py").is_file()
    for module in spec.rule_modules:
        assert module.startswith(f"mlps_harness.benchmarks.{name}."), module
    assert spec.ruleset_dir is not None and spec.ruleset_dir.is_relative_to(BENCHMARKS_DIR / name)


def test_no_rule_name_is_selected_by_the_datasize_stage_keyword() -> None:
    """`pytest suites/<benchmark> -k datasize` must select the datasize stage alone: a rule test whose name holds
    'datasize' would be selected too and make the suite launch its runs to evaluate it."""
    from mlps_harness.rules import all_rules

    assert [r.name for r in all_rules() if "datasize" in r.name.lower()] == []
