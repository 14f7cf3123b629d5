"""``python -m mlps_harness.benchmarks.checkpointing.workload``: see cli.main."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
