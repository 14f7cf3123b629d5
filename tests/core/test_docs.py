"""docs/RULES.md is generated from the rule registry and must be up to date."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.rules import all_rules
from mlps_harness.rules.docs import main, render
from tests.helpers import REPO


def test_rules_doc_is_current() -> None:
    assert main(["--check", str(REPO / "docs" / "RULES.md")]) == 0, \
        "docs/RULES.md is stale: run .venv/bin/python -m mlps_harness.rules.docs"


def test_rules_doc_lists_every_rule() -> None:
    text = render()
    for entry in all_rules():
        assert f"| {entry.id} | {entry.slug} |" in text


def test_stale_doc_is_detected(tmp_path: Path) -> None:
    stale = tmp_path / "RULES.md"
    stale.write_text(render().replace("au-minimum", "au-minimun"))
    assert main(["--check", str(stale)]) == 1
