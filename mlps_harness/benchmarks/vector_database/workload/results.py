"""Result directory layout shared with the suite."""

from __future__ import annotations

from pathlib import Path


def result_dir(results_root: str | Path, engine: str, index_type: str, command: str = "run") -> Path:
    """Create and return ``<root>/vector_database/<engine>/<INDEX>/<command>/<YYYYmmdd_HHMMSS>``.

    The upstream datetime format; back-to-back runs take the next free second, so none overwrites another.
    """
    from mlps_harness.suite.rundirs import new_run_dir

    return new_run_dir(Path(results_root), "vector_database", engine, index_type.upper(), command)
