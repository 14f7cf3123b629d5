"""Registration of the checkpointing benchmark (our MPI checkpoint workload, or upstream's DLIO branch)."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.spec import BenchmarkSpec

_HERE = "mlps_harness.benchmarks.checkpointing"

SPEC = BenchmarkSpec(
    name="checkpointing",
    path_layouts=(("model",), ("model", "command")),
    rule_modules=(f"{_HERE}.rules_run", f"{_HERE}.rules_group"),
    parse_hooks=("mlps_harness.dlio.documents:parse_dlio_documents", f"{_HERE}.documents:parse_checkpoint"),
    ruleset_dir=Path(__file__).parent / "rulesets",
    add_options=f"{_HERE}.options:add_options",
    metrics=f"{_HERE}.metrics",
    rule_notes=(
        ('**Checkpoint subset mode (4.3.5)**: v2.0 (Submission_guidelines, PR #141) forbids subset for '
         'llama3-8b; v3.0 (newest Rules.md) allows subset only for llama3-8b. ZeRO levels use the corrected '
         'table (8b/70b 3, 405b/1t 1).'),
        ('**Checkpoint totals (H4.10)**: 10 writes and 10 reads across the group; other totals are INVALID in '
         'v2.0 and OPEN in v3.0 (Rules.md 4.7.1 lets OPEN use any counts). The upstream v2.0 checker was empty'
         ' (issue #170).'),
    ),
    description="LLM checkpoint write and read-back (llama3-8b, 70b, 405b, 1t)",
)
