"""Registration of the training benchmark (DLIO under mpirun)."""

from __future__ import annotations

from pathlib import Path

from mlps_harness.spec import BenchmarkSpec

_HERE = "mlps_harness.benchmarks.training"

SPEC = BenchmarkSpec(
    name="training",
    path_layouts=(("model", "command"),),
    rule_modules=(f"{_HERE}.rules_run", f"{_HERE}.rules_group"),
    parse_hooks=("mlps_harness.dlio.documents:parse_dlio_documents", f"{_HERE}.documents:parse_training"),
    ruleset_dir=Path(__file__).parent / "rulesets",
    add_options=f"{_HERE}.options:add_options",
    metrics=f"{_HERE}.metrics",
    rule_notes=(
        ('**Run count (2.1.17)**: v2.0 requires at least warm-up + 5 run directories; v3.0 exactly 6, counted '
         'per accelerator type (upstream issue #679). Leftover `datasize` directories are never runs (#760).'),
        ('**Gaps (2.1.18)**: v2.0 follows the review checker (idle time between runs <= mean run duration); '
         'v3.0 follows Rules.md (consecutive starts less than twice the shortest run apart).'),
        ('**Dataset size (3.1.2)**: the datasize formula of rules.md §2 with memory from, in order, our MPI-'
         "collected cluster information, the v3.0 metadata's `system_info`, DLIO's `host_memory_GB`, "
         '`collector-staging/cluster_info.json`, or the declared `--client-host-memory-in-gb`; the file count '
         'from config.yaml, the overrides, then summary.json (the finding names the file). Never skipped when '
         'cluster information is absent (upstream #503). Too small is INVALID in v2.0 and the round\'s 3.3.1 '
         'warning in v3.0 (14 published rows).'),
        ('**Filesystems (3.4.2)**: `fs_separation.json` (`same_filesystem`) or our cluster record; with neither, '
         'v3.0 warns as the round did and v2.0 does not apply.'),
        ('**Allowed parameters (3.6.2)**: tool-injected keys (`dataset.data_folder`, storage keys, '
         '`dataset.skip_listing`) are reported CLOSED and never count as user overrides (#494, #503); '
         "`workflow.*` keys are the harness's own."),
        ('**unet3d checkpointing (H2.5, v2.0 only)**: implemented so that it really fires (upstream compared '
         'the command with `run_benchmark`, which never occurs).'),
        ('**Zero-step runs (H2.7)**: DLIO 2.0.0 exits 0 with all-zero metrics below 2 steps per epoch; such '
         'runs are INVALID.'),
    ),
    description="DLIO training workloads (unet3d, resnet50, cosmoflow, retinanet)",
)
