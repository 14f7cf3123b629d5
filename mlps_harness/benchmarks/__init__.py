"""Benchmarks known to the harness; see `registry` for how one is added."""
