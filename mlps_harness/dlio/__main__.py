"""``python -m mlps_harness.dlio workload=<name> ++workload.<key>=<value> ...``"""
import sys

from mlps_harness.dlio.entry import main

if __name__ == "__main__":
    sys.exit(main())
