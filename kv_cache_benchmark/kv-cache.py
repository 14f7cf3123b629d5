#!/usr/bin/env python3
"""KV-cache storage benchmark entry point (the code lives in ./kv_cache)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kv_cache.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
