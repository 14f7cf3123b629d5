#!/usr/bin/env bash
# The main job: the embedded training suite on this machine (small unet3d, 2 ranks, warm-up + 5 runs into
# ./results), then the audit of ./results, producing report.html, junit.xml, verdict.json and results.json/csv
# (every run's figures; the suite also writes them into ./results), and printing each group's headline figure.
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
    --junitxml=junit.xml --mlps-json=verdict.json --mlps-results=. -q
audit=$?
if [ "$audit" -ge 2 ]; then
    echo "main-job: the audit stopped (exit $audit); see above" >&2
    exit "$audit"
fi
verdict=$("$PY" -c 'import json; print(json.load(open("verdict.json"))["verdict"])' 2>/dev/null || echo unknown)
# the headline figure of each group (results.json: group figures, units from the benchmark's headlines)
headline=$("$PY" -c '
import json
from mlps_harness.metrics import lookup
for g in json.load(open("results.json"))["groups"]:
    h = (g.get("headlines") or [None])[0]
    value = lookup(g["metrics"], h["key"]) if h else None
    figure = "%s %s %s" % (h["label"], format(value, ",.2f"), h["unit"]) if value is not None else "no figures"
    print("%s: %s (%s)" % (g["group"], figure, g["category"]))
' 2>/dev/null || echo "no figures")
# The job is done once the report is written; the verdict is its result, not the job's status. The embedded
# small run is INVALID by design (its dataset is far below the closed-division size). For a CI gate, run
# `pytest compliance --results-dir=... --division=closed`, which exits 1 unless every run qualifies.
echo "$headline"
echo "main-job: done - verdict $verdict; report.html, junit.xml, verdict.json, results.json and results.csv written"
