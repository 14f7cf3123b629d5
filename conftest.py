"""Root conftest: keeps pytest from collecting generated data when it is run from the repository root.

The MLPerf Storage plugin itself is loaded through its `pytest11` entry point (mlps_harness.plugin).
"""

collect_ignore_glob = ["results/*", "data/*", ".venv/*", "kv_cache_benchmark/*"]
