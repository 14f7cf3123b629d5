#!/usr/bin/env bash
# The main job: the embedded training suite on this machine (small unet3d, 2 ranks, warm-up + 5 runs into
# ./results), then the audit of ./results, producing report.html, junit.xml and verdict.json.
# Extra arguments go to the training suite (e.g. --loops 1, or a real configuration).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
"$PY" -m pytest suites/training -p no:cacheprovider "$@"
suite=$?
if [ "$suite" -ge 2 ]; then
    echo "main-job: the training suite stopped (exit $suite); see above" >&2
    exit "$suite"
fi
"$PY" -m pytest compliance -p no:cacheprovider --results-dir=results --html=report.html --self-contained-html \
    --junitxml=junit.xml --mlps-json=verdict.json -q
audit=$?
echo "main-job: report.html, junit.xml and verdict.json written (audit exit $audit: 0 = CLOSED/OPEN, 1 = INVALID)"
exit "$audit"
