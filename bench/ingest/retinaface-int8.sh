#!/usr/bin/env bash
# int8 RetinaFace vs fp32 in one run: see retinaface-int8.py. Uses the tools venv (onnx, onnxruntime).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="$("$ROOT/scripts/python-env.sh")"
exec "$PY" "$ROOT/bench/ingest/retinaface-int8.py" "$@"
