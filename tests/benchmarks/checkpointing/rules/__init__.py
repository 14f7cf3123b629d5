"""Checkpointing rules on hand-built trees (upstream v2.0 format and our workload's), both ruleset versions."""
