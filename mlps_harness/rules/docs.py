"""Generate `docs/RULES.md` from the rule registry: `python -m mlps_harness.rules.docs [--check] [PATH]`.

`--check` exits 1 when the file differs from what the registry produces (the test suite runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlps_harness.rules import all_rules
from mlps_harness.rulesets import VERSIONS, RulesetError, ruleset_file
from mlps_harness.spec import benchmarks

PREAMBLE = """# MLPerf Storage rules in mlps-harness

Generated from the rule registry by `python -m mlps_harness.rules.docs`; do not edit by hand
(`tests/core/test_docs.py` fails when this file is stale).

Every rule is one function registered with its upstream rule id and a slug; a test id reads
`<run or group>::<id>-<slug>`, and `-m "rule(id='3.3.2')"` selects by id. Ids starting with `H` are
assigned by mlps-harness where upstream has a rule without a number (or none at all). Thresholds and model
tables live in the versioned ruleset files each benchmark ships, listed at the end of this page.

Outcomes: a rule yields findings, each CLOSED, OPEN or INVALID; the rule's outcome is the worst one. A run's
verdict is the worst outcome of its rules, a submission group's the worst of its rules and its runs, and the
overall verdict the worst of all. A rule that does not apply is skipped; a rule that crashes is an error and
counts as INVALID. A rule that is not part of the ruleset a run (or group) is judged under makes no test for it.

## Choices where upstream versions disagree

- **Ruleset selection** (`--rules-version auto`): the version recorded in the run's metadata by our harness,
  else `mlpstorage_version`, else the layout (a `closed|open/<org>/results/<system>/` prefix means v3.0). The
  metadata is read as written (a document that fails validation still names its version); a group is judged
  under the newest version among its runs.
"""


REVIEW_FILE = "review.yaml"   #: per benchmark: `<ruleset_dir>/v3.0/review.yaml`; the shared rows sit beside this module


def review_rows() -> list[dict]:
    """The v3.0 review's checks mapped to our rules: the shared rows, then each benchmark's, in name order."""
    import yaml

    files = [Path(__file__).with_name("review_v3.0.yaml")]
    files += [spec.ruleset_dir / "v3.0" / REVIEW_FILE for _name, spec in sorted(benchmarks().items())
              if spec.ruleset_dir is not None]
    rows: list[dict] = []
    for path in files:
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            benchmark = "every benchmark" if path.parent == Path(__file__).parent else path.parents[2].name
            rows += [{**row, "benchmark": benchmark} for row in data if isinstance(row, dict)]
    return rows


def _review_table() -> list[str]:
    out = ["\n## The v3.0 round's review checks and our rules\n",
           "From the round's `ApparentProblems.md` / `CodeAnalysis.md` (`mlcommons/storage_results_v3.0`). "
           "*Review level* is the round's; *ours* is our finding's `review_level` (INVALID or OPEN = error, a "
           "warning finding = warning, CLOSED = info; reports label a warning WARNING). A warning never changes the "
           "verdict; an error does. See docs/V3_ROUND.md for published systems run through both.\n",
           "| benchmark | review check | review level | our rule | our outcome | ours |", "|---|---|---|---|---|---|"]
    for row in review_rows():
        cells = [row.get("benchmark"), row.get("review"), row.get("level"), row.get("rule"), row.get("outcome"),
                 row.get("ours")]
        out.append("| " + " | ".join(str(c or "").replace("|", "/") for c in cells) + " |")
    return out


def render() -> str:
    """The full Markdown text."""
    rules = all_rules()
    out = [PREAMBLE.rstrip("\n")]
    for _name, spec in sorted(benchmarks().items()):
        out += [f"- {note}" for note in spec.rule_notes]
    out += _review_table()
    for benchmark in sorted({r.benchmark for r in rules}, key=lambda b: (b != "*", b)):
        title = "Layout rules (every benchmark)" if benchmark == "*" else f"Benchmark `{benchmark}`"
        out.append(f"\n## {title}\n")
        out.append("| id | slug | scope | category | versions | commands | rule |")
        out.append("|---|---|---|---|---|---|---|")
        for r in (r for r in rules if r.benchmark == benchmark):
            commands = ", ".join(r.commands) if r.commands else "all"
            out.append(f"| {r.id} | {r.slug} | {r.scope} | {r.category} | {', '.join(r.versions)} | {commands} "
                       f"| {r.title} |")
        details = [r for r in rules if r.benchmark == benchmark and "\n" in r.description]
        for r in details:
            out.append(f"\n**{r.name}**: " + " ".join(r.description.split()))
    out.append("\n## Ruleset data files\n")
    root = Path(__file__).resolve().parents[2]
    for version in VERSIONS:
        files = []
        for name in sorted(benchmarks()):
            try:
                path = ruleset_file(version, name).resolve()
            except RulesetError:
                continue
            files.append(f"`{path.relative_to(root) if path.is_relative_to(root) else path}`")
        out.append(f"- {version}: " + ", ".join(files))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/RULES.md from the rule registry")
    parser.add_argument("path", nargs="?", default="docs/RULES.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    path, text = Path(args.path), render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            print(f"{path} is stale: run python -m mlps_harness.rules.docs {path}", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({len(all_rules())} rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
