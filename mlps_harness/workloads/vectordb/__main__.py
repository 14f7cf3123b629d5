"""``python -m mlps_harness.workloads.vectordb``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
