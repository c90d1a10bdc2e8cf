"""int8 RetinaFace against its fp32 graph, in the same run (issue 12's int8 lever).

Quantises the committed RetinaFace-MobileNet0.25 with onnxruntime's static
quantisation, calibrated on real frames (assets/sample.mp4 at 640x360 and
opencv-doc's vtest.avi at 640x480), in three variants (QDQ per-channel, QOperator
per-channel, QOperator per-tensor), then times each against the fp32 graph on
one thread (median CPU time on the same frame, the graphs interleaved run by run) and counts the faces each finds on the
calibration frames at the detector's default score (0.75), as a first look at
recall. Nothing is written to the repository: the int8 graphs live in a temp dir.

    bench/ingest/retinaface-int8.sh            # prints a Markdown table

The model's opset (11) is raised to 13 first: per-channel DequantizeLinear needs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import version_converter
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "assets/models/retinaface-mnet025/retinaface-mnet025.onnx"
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
MEAN = np.array([104, 117, 127], np.float32).reshape(3, 1, 1)
MIN_SCORE = 0.75
RUNS = 15


def frames(path: Path, width: int, height: int, fps: float, count: int) -> list[np.ndarray]:
    """BGR frames minus the model's mean, NCHW, padded to multiples of 32 as the detector feeds them."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"fps={fps},scale={width}:{height}",
         "-frames:v", str(count), "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        capture_output=True, check=True,
    ).stdout
    out = []
    padded_h, padded_w = (height + 31) // 32 * 32, (width + 31) // 32 * 32
    for f in np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3):
        t = np.zeros((3, padded_h, padded_w), np.float32)
        t[:, :height, :width] = f.transpose(2, 0, 1).astype(np.float32) - MEAN
        out.append(t[None])
    return out


class Reader(CalibrationDataReader):
    def __init__(self, batches: list[np.ndarray]) -> None:
        self._it = iter(batches)

    def get_next(self):
        x = next(self._it, None)
        return None if x is None else {"input": x}


def session(path: str) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def cpu_ms(s: ort.InferenceSession, x: np.ndarray) -> float:
    t = time.process_time()
    s.run(None, {"input": x})
    return (time.process_time() - t) * 1000


def timed(sessions: list[ort.InferenceSession], x: np.ndarray) -> list[float]:
    """Median CPU ms per graph, the graphs interleaved run by run so that drift hits them alike."""
    for s in sessions:
        for _ in range(3):
            s.run(None, {"input": x})
    samples: list[list[float]] = [[] for _ in sessions]
    for _ in range(RUNS):
        for i, s in enumerate(sessions):
            samples[i].append(cpu_ms(s, x))
    return [float(np.median(v)) for v in samples]


def faces_above(s: ort.InferenceSession, batches: list[np.ndarray]) -> int:
    """Anchors scoring above MIN_SCORE, summed over the frames: a proxy for faces found (before NMS)."""
    conf_index = [o.name for o in s.get_outputs()].index("conf")
    return int(sum((s.run(None, {"input": x})[conf_index][0, :, 1] > MIN_SCORE).sum() for x in batches))


def main() -> None:
    calib = frames(ROOT / "assets/sample.mp4", 640, 360, 1, 24)
    if VTEST.exists():
        calib += frames(VTEST, 640, 480, 0.5, 16)
    else:
        print(f"({VTEST} not installed: calibrating on the sample only)", file=sys.stderr)
    probe = calib[3]
    with tempfile.TemporaryDirectory() as tmp:
        op13 = os.path.join(tmp, "op13.onnx")
        onnx.save(version_converter.convert_version(onnx.load(str(MODEL)), 13), op13)
        pre = os.path.join(tmp, "pre.onnx")
        quant_pre_process(op13, pre)
        variants = {
            "int8 QDQ, per-channel weights": (QuantFormat.QDQ, True),
            "int8 QOperator, per-channel weights": (QuantFormat.QOperator, True),
            "int8 QOperator, per-tensor weights": (QuantFormat.QOperator, False),
        }
        labels = ["fp32 (the committed graph)"]
        sessions = [session(str(MODEL))]
        for i, (label, (fmt, per_channel)) in enumerate(variants.items()):
            out = os.path.join(tmp, f"int8-{i}.onnx")
            print(f"quantising: {label}...", file=sys.stderr)
            quantize_static(pre, out, Reader(calib), quant_format=fmt, per_channel=per_channel,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
            labels.append(label)
            sessions.append(session(out))
        print("timing...", file=sys.stderr)
        ms = timed(sessions, probe)
        faces = [faces_above(s, calib) for s in sessions]
        base_ms, base_faces = ms[0], faces[0]
        rows = list(zip(labels, ms, faces))
    flags = open("/proc/cpuinfo").read()
    isa = ", ".join(f for f in ("avx512f", "avx512_vnni", "amx_int8", "avx_vnni") if f in flags) or "no AVX-512"
    print(f"### RetinaFace int8 vs fp32 (one thread, 640x384 input, median of {RUNS} interleaved runs; CPU: {isa}; load {os.getloadavg()[0]:.1f})")
    print()
    print("| graph | CPU ms per frame | speed vs fp32 | anchors above 0.75 on the 40 calibration frames (fp32 = 100 %) |")
    print("| --- | ---: | ---: | ---: |")
    for label, ms, faces in rows:
        print(f"| {label} | {ms:.1f} | {base_ms / ms:.2f}x | {faces} ({100 * faces / max(1, base_faces):.0f} %) |")


if __name__ == "__main__":
    main()
