"""Generate `docs/RULES.md` from the rule registry: `python -m mlps_harness.rules.docs [--check] [PATH]`.

`--check` exits 1 when the file differs from what the registry produces (the test suite runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlps_harness.rules import all_rules
from mlps_harness.rulesets import DATA_DIR, VERSIONS

PREAMBLE = """# MLPerf Storage rules in mlps-harness

Generated from the rule registry by `python -m mlps_harness.rules.docs`; do not edit by hand
(`tests/test_docs.py` fails when this file is stale).

Every rule is one function registered with its upstream rule id and a slug; a test id reads
`<run or group>::<id>-<slug>`, and `-m "rule(id='3.3.2')"` selects by id. Ids starting with `H` are
assigned by mlps-harness where upstream has a rule without a number (or none at all). Thresholds and model
tables live in the versioned ruleset files under `mlps_harness/rulesets/<version>/<benchmark>.yaml`.

Outcomes: a rule yields findings, each CLOSED, OPEN or INVALID; the rule's outcome is the worst one. A run's
verdict is the worst outcome of its rules, a submission group's the worst of its rules and its runs, and the
overall verdict the worst of all. A rule that does not apply is skipped; a rule that crashes is an error and
counts as INVALID.

## Choices where upstream versions disagree

- **Ruleset selection** (`--rules-version auto`): the version recorded in the run's metadata by our harness,
  else `mlpstorage_version`, else the layout (a `closed|open/<org>/results/<system>/` prefix means v3.0).
- **Run count (2.1.17)**: v2.0 requires at least warm-up + 5 run directories; v3.0 exactly 6, counted per
  accelerator type (upstream issue #679). Leftover `datasize` directories are never runs (#760).
- **Gaps (2.1.18)**: v2.0 follows the review checker (idle time between runs <= mean run duration); v3.0 follows
  Rules.md (consecutive starts less than twice the shortest run apart).
- **Dataset size (3.1.2)**: the datasize formula of rules.md §2 with memory from, in order, our MPI-collected
  cluster information, DLIO's `host_memory_GB`, or the declared `--client-host-memory-in-gb`; never skipped when
  cluster information is absent (upstream #503 skipped or crashed).
- **Allowed parameters (3.6.2)**: tool-injected keys (`dataset.data_folder`, storage keys, `dataset.skip_listing`)
  are reported CLOSED and never count as user overrides (#494, #503); `workflow.*` keys are the harness's own.
- **unet3d checkpointing (H2.5, v2.0 only)**: implemented so that it really fires (upstream compared the command
  with `run_benchmark`, which never occurs).
- **Zero-step runs (H2.7)**: DLIO 2.0.0 exits 0 with all-zero metrics below 2 steps per epoch; such runs are INVALID.
- **Checkpoint subset mode (4.3.5)**: v2.0 (Submission_guidelines, PR #141) forbids subset for llama3-8b; v3.0
  (newest Rules.md) allows subset only for llama3-8b. ZeRO levels use the corrected table (8b/70b 3, 405b/1t 1).
- **Checkpoint totals (H4.10)**: 10 writes and 10 reads across the group; other totals are INVALID in v2.0 and OPEN
  in v3.0 (Rules.md 4.7.1 lets OPEN use any counts). The upstream v2.0 checker was empty (issue #170).
- **KV cache (H7.x, v3.0 only)**: the normative Rules.md §6 is followed; generation mode `none` is what the CLOSED
  Options require, so it is not OPEN (the stale run checker said it was), and the benchmark is not treated as a
  preview (`preview: false` in the ruleset; `true` restores upstream's "always OPEN").
- **Vector database (H5.x)**: runs on milvus-lite are OPEN (an embedded single-process engine is not a storage system
  under test); a runtime under 30 s is INVALID in v3.0 and OPEN in v2.0 (which had no such check).
"""


def render() -> str:
    """The full Markdown text."""
    rules = all_rules()
    out = [PREAMBLE]
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
    for version in VERSIONS:
        files = sorted(p.name for p in (DATA_DIR / version).glob("*.yaml"))
        out.append(f"- {version}: " + ", ".join(f"`mlps_harness/rulesets/{version}/{f}`" for f in files))
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
