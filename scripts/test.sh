#!/usr/bin/env bash
# The harness's own tests (unit, plugin via pytester, real mpirun/DLIO/milvus-lite integration at small size).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec .venv/bin/python -m pytest tests -p no:cacheprovider -q "$@"
