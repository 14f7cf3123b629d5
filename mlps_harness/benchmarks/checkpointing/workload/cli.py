"""Command-line entry: parse options, run under MPI, map errors to exit statuses."""

from __future__ import annotations

import os
import sys

from .options import options_from_argv

_RANK_ENV_VARS = ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")


def _launcher_rank() -> int:
    for name in _RANK_ENV_VARS:
        if name in os.environ:
            try:
                return int(os.environ[name])
            except ValueError:
                return 0
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the workload; 0 on success, 1 when a rank failed, 2 on bad input."""
    quiet = _launcher_rank() != 0
    saved_stderr = sys.stderr
    try:
        if quiet:  # only rank 0 prints argument errors
            sys.stderr = open(os.devnull, "w")
        options = options_from_argv(argv)       # a bad value: argparse names it and exits with status 2
    finally:
        if sys.stderr is not saved_stderr:
            sys.stderr.close()
            sys.stderr = saved_stderr
    from .runner import run_workload

    return run_workload(options)
