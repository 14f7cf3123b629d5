#!/usr/bin/env bash
# Install everything mlps-harness needs on a clean Debian machine (run as root).
#
#   bash scripts/setup.sh [--with-tensorflow] [--with-vectordb | --without-vectordb]
#
# Steps (each is skipped when already done, so a second run is fast):
#   1. Open MPI (apt-get: openmpi-bin libopenmpi-dev) unless mpirun is on PATH
#   2. a virtual environment at ./.venv (override with MLPS_VENV=/path)
#   3. the project itself: pip install -e ".[mpi,kvcache,vectordb]"
#   4. DLIO 2.0.0 without its unusable dependency list (nvidia-dali, CUDA torch,
#      tensorflow) plus the packages it really needs, torch CPU included
#   5. optional TensorFlow (tfrecord workloads: resnet50, cosmoflow) and a
#      tfrecord2idx stand-in, which DLIO calls after writing each TFRecord file
set -euo pipefail

WITH_TENSORFLOW=0
WITH_VECTORDB=1   # CI needs the vector database benchmark, so it is on by default

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

for argument in "$@"; do
    case "$argument" in
        --with-tensorflow) WITH_TENSORFLOW=1 ;;
        --with-vectordb) WITH_VECTORDB=1 ;;
        --without-vectordb) WITH_VECTORDB=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "setup.sh: unknown option '$argument'; expected --with-tensorflow, --with-vectordb, --without-vectordb or --help" >&2
           exit 2 ;;
    esac
done

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MLPS_VENV:-$REPO_ROOT/.venv}"
PYTHON="$VENV/bin/python"
START_SECONDS=$SECONDS

say() { echo "[setup] $*"; }
run() { echo "[setup] + $*"; "$@"; }
fail() { echo "[setup] error: $*" >&2; exit 1; }

apt_install() {
    [ "$(id -u)" -eq 0 ] || fail "installing $* needs root; re-run as root (or sudo bash scripts/setup.sh)"
    command -v apt-get >/dev/null || fail "apt-get not found; install $* with your package manager"
    if [ -z "${APT_UPDATED:-}" ]; then
        run apt-get update -q
        APT_UPDATED=1
    fi
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

# --- 1. Open MPI -------------------------------------------------------------
if command -v mpirun >/dev/null; then
    say "Open MPI: mpirun already at $(command -v mpirun) - skipping apt-get"
else
    say "Open MPI: installing openmpi-bin libopenmpi-dev"
    apt_install openmpi-bin libopenmpi-dev
fi

# --- 2. virtual environment --------------------------------------------------
command -v python3 >/dev/null || apt_install python3
if [ -x "$PYTHON" ]; then
    say "venv: $VENV exists - keeping it"
else
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        say "venv: python3-venv missing"
        apt_install python3-venv
    fi
    run python3 -m venv "$VENV"
fi
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 10)' 2>/dev/null \
    || fail "$PYTHON is older than Python 3.10; the project needs >= 3.10"

# Print the requirement specs that the venv does not satisfy yet (empty: all done).
missing_requirements() {
    "$PYTHON" -I - "$@" <<'PY'
import sys
from importlib import metadata
try:
    from packaging.requirements import Requirement
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
for spec in sys.argv[1:]:
    requirement = Requirement(spec)
    try:
        installed = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        print(spec)
        continue
    if requirement.specifier and not requirement.specifier.contains(installed, prereleases=True):
        print(spec)
PY
}

pip_install_missing() {  # pip_install_missing <label> [pip options --] spec...
    local label="$1"; shift
    local options=()
    if [ "${1:-}" = "--no-deps" ]; then options+=(--no-deps); shift; fi
    local missing
    missing="$(missing_requirements "$@")"
    if [ -z "$missing" ]; then
        say "$label: already installed - skipping"
        return
    fi
    # shellcheck disable=SC2086  # one spec per line, none contains spaces
    run "$PYTHON" -m pip install -q "${options[@]}" $missing
}

# --- 3. the project ----------------------------------------------------------
EXTRAS="mpi,kvcache,s3"
VECTORDB_PINS=()
if [ "$WITH_VECTORDB" -eq 1 ]; then
    EXTRAS="$EXTRAS,vectordb"
    VECTORDB_PINS=("pymilvus==3.0.2" "milvus-lite==3.2.2")
fi
project_is_installed() {
    "$PYTHON" -I - "$REPO_ROOT" <<'PY'
import json, sys
from importlib import metadata
try:
    direct_url = json.loads(metadata.distribution("mlps-harness").read_text("direct_url.json") or "{}")
except metadata.PackageNotFoundError:
    sys.exit(1)
editable = direct_url.get("dir_info", {}).get("editable", False)
sys.exit(0 if editable and direct_url.get("url") == "file://" + sys.argv[1] else 1)
PY
}
if project_is_installed && [ -z "$(missing_requirements pyyaml pydantic psutil mpi4py numpy boto3 "${VECTORDB_PINS[@]}")" ]; then
    say "project: mlps-harness is installed in editable mode from $REPO_ROOT - skipping"
else
    say "project: pip install -e .[$EXTRAS]"
    run "$PYTHON" -m pip install -q -e "$REPO_ROOT[$EXTRAS]" "${VECTORDB_PINS[@]}"
fi

# --- 4. DLIO 2.0.0 -----------------------------------------------------------
# A plain 'pip install dlio-benchmark' fails (nvidia-dali-cuda110 is a placeholder
# package) and would pull several GB of TensorFlow/CUDA torch; install it alone
# and add what it really imports.
pip_install_missing "DLIO" --no-deps "dlio-benchmark==2.0.0"
pip_install_missing "DLIO dependencies" \
    "hydra-core>=1.3.2" "omegaconf>=2.2.0" "PyYAML>=6.0.0" "numpy>=1.23.5" "pandas>=1.5.1" \
    "psutil>=5.9.8" "h5py>=3.11.0" "mpi4py>=3.1.4" "Pillow>=9.3.0" "pydftracer==1.0.2" \
    "torch==2.13.0"
say "(pip's notes that dlio-benchmark requires nvidia-dali, tensorflow, torchaudio or torchvision are expected)"
pip_install_missing "test tools" "pytest>=8.4" "pytest-xdist>=3.6" "pytest-html>=4.1" "pydantic>=2.6,<3" "hypothesis>=6.100" \
    "moto[server]>=5.0"   # a real S3-compatible server for the object-storage tests (docs/FROM_MLPSTORAGE.md)

# --- 5. optional TensorFlow --------------------------------------------------
if [ "$WITH_TENSORFLOW" -eq 1 ]; then
    pip_install_missing "TensorFlow" "tensorflow-cpu"
    SHIM="$VENV/bin/tfrecord2idx"
    if [ -x "$SHIM" ]; then
        say "tfrecord2idx: $SHIM exists - skipping"
    else
        say "tfrecord2idx: writing a stand-in to $SHIM (DLIO calls it after each TFRecord file)"
        cat > "$SHIM" <<SHIM_EOF
#!$PYTHON
"""Write a TFRecord index: one '<offset> <size>' line per record (stand-in for DALI's tool)."""
import struct
import sys


def main(record_file: str, index_file: str) -> None:
    with open(record_file, "rb") as records, open(index_file, "w") as index:
        while True:
            offset = records.tell()
            header = records.read(8)
            if len(header) < 8:
                break
            (length,) = struct.unpack("<Q", header)
            records.seek(4 + length + 4, 1)  # length CRC, payload, payload CRC
            index.write(f"{offset} {records.tell() - offset}\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: tfrecord2idx <file.tfrecord> <file.idx>")
    main(sys.argv[1], sys.argv[2])
SHIM_EOF
        chmod +x "$SHIM"
    fi
else
    say "TensorFlow: not requested (pass --with-tensorflow for resnet50/cosmoflow tfrecord workloads)"
fi

# --- check -------------------------------------------------------------------
say "check: importing the installed pieces"
TF_CPP_MIN_LOG_LEVEL=3 "$PYTHON" -I - <<'PY'
import importlib, sys
from importlib import metadata
problems = []
for module, dist in [("mlps_harness", "mlps-harness"), ("dlio_benchmark", "dlio-benchmark"),
                     ("dftracer", "pydftracer"), ("hydra", "hydra-core"), ("torch", "torch"),
                     ("mpi4py", "mpi4py"), ("psutil", "psutil"), ("pytest", "pytest"),
                     ("pymilvus", "pymilvus"), ("tensorflow", "tensorflow-cpu")]:
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        print(f"[setup]   {dist:16s} not installed")
        continue
    try:
        importlib.import_module(module)
        print(f"[setup]   {dist:16s} {version}")
    except Exception as error:  # report every broken package, not only the first
        problems.append(f"{dist}: {type(error).__name__}: {error}")
        print(f"[setup]   {dist:16s} {version} - IMPORT FAILED: {error}")
if problems:
    sys.exit("[setup] error: some packages do not import: " + "; ".join(problems))
PY
say "done in $((SECONDS - START_SECONDS)) s; activate with: source $VENV/bin/activate"
