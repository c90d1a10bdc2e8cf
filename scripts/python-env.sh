#!/usr/bin/env bash
# Creates (or reuses) the Python environment for the model tools in tools/:
# a venv at .cache/venv with tools/requirements.txt installed. Prints the
# venv's python path on stdout; everything else goes to stderr.
#
#   scripts/python-env.sh            # create or reuse, print python path
#   scripts/python-env.sh --force    # rebuild from scratch
#
# Why the full CUDA wheel set: PyPI's Linux torch wheel is the CUDA build.
# Its libtorch_cpu.so / libtorch_cuda.so / libtorch_global_deps.so have
# DT_NEEDED entries on libcudart, cublas, cudnn, cusparse, nccl, ... so
# `pip install --no-deps torch` cannot even `import torch` on a CPU-only host
# ("libcudart.so.13: cannot open shared object file", measured with torch
# 2.15.0). The CPU-only wheels live on the PyTorch index, which this project's
# machines cannot reach. So we accept the full install (measured on the
# 2-core dev machine: 5.8 GB on disk, 1m45s idle, 4m15s under load) and cache
# it: the venv is kept and only rebuilt when tools/requirements.txt or the
# Python version changes. Set CROWDLENS_TORCH_INDEX_URL to a CPU wheel index
# (e.g. PyTorch's own /whl/cpu) on machines that can reach one to skip the
# nvidia-* wheels (that path cannot be exercised from this project's machines).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CROWDLENS_VENV:-$ROOT/.cache/venv}"
REQ="$ROOT/tools/requirements.txt"
PYTHON="${CROWDLENS_PYTHON:-python3}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { echo "[python-env] $*" >&2; }

command -v "$PYTHON" >/dev/null || { log "error: $PYTHON not found (need Python >= 3.10)"; exit 1; }
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || { log "error: $PYTHON is $("$PYTHON" -V 2>&1), need >= 3.10"; exit 1; }

mkdir -p "$(dirname "$VENV")"
# One creator at a time: parallel test files or a developer's shell may ask at once.
exec 9>"$VENV.lock"
flock 9

STAMP="$( { cat "$REQ"; "$PYTHON" -V 2>&1; echo "${CROWDLENS_TORCH_INDEX_URL:-}"; } | sha256sum | cut -c1-64)"
STAMP_FILE="$VENV/.crowdlens-stamp"

healthy() {
  [[ -x "$VENV/bin/python" ]] && [[ -f "$STAMP_FILE" ]] && [[ "$(cat "$STAMP_FILE")" == "$STAMP" ]] \
    && "$VENV/bin/python" -c '
import sys
from importlib.util import find_spec  # finds without importing: torch alone takes seconds to import
sys.exit(0 if all(find_spec(m) for m in ("torch", "torchvision", "onnx", "onnxruntime", "sklearn", "tqdm", "PIL")) else 1)
' 2>/dev/null
}

if [[ $FORCE -eq 0 ]] && healthy; then
  log "reusing $VENV"
  echo "$VENV/bin/python"
  exit 0
fi

# The install needs ~6 GB for the venv plus ~1 GB of unpacking; say so up front rather than
# leave pip's "No space left on device" two minutes in as the only clue.
free_kb=$(df -Pk "$(dirname "$VENV")" | awk 'NR==2 {print $4}')
if [[ -n "$free_kb" ]] && (( free_kb < 7 * 1024 * 1024 )); then
  log "warning: $((free_kb / 1024)) MB free under $(dirname "$VENV"); the install needs about 7 GB"
fi

start=$(date +%s)
log "creating $VENV (torch from PyPI pulls the CUDA wheels: expect ~2 min and ~6 GB)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)
"${PIP[@]}" install --quiet --upgrade pip >&2
EXTRA=()
# A CPU wheel index offers torch==X+cpu, which pip prefers over PyPI's X (a local
# version sorts higher) and which has no nvidia-* dependencies.
if [[ -n "${CROWDLENS_TORCH_INDEX_URL:-}" ]]; then EXTRA=(--extra-index-url "$CROWDLENS_TORCH_INDEX_URL"); fi
# --no-cache-dir: the venv is the cache; a second multi-GB copy in ~/.cache/pip buys nothing.
"${PIP[@]}" install --no-cache-dir --progress-bar off "${EXTRA[@]}" -r "$REQ" >&2
echo "$STAMP" >"$STAMP_FILE"
log "ready in $(($(date +%s) - start))s, $(du -sh "$VENV" | cut -f1)"
echo "$VENV/bin/python"
