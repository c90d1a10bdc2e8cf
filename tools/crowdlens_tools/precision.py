"""Lower-precision copies of an exported fp32 graph, and their agreement with it.

int8: onnxruntime static quantisation, QDQ format, per-channel int8 weights,
uint8 activations calibrated (MinMax) on images from the training split.
fp16: weights and compute in float16 with float32 input/output kept, so the
service feeds every precision the same float32 [N,3,224,224] tensor.
bf16 is refused: onnxruntime's CPU provider has no bfloat16 convolution
kernels, so such a graph would not run where this service runs.

Agreement is measured on held-out images (not the calibration ones): top-1
agreement with the fp32 graph and the largest difference in P(male).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Sequence

from .common import Sample, dedupe, eval_transform, fail, log, read_any

PRECISIONS = ("fp32", "fp16", "bf16", "int8")


def _batches(samples: Sequence[Sample], batch_size: int):
    import numpy as np
    from PIL import Image

    tf = eval_transform()
    for i in range(0, len(samples), batch_size):
        chunk = samples[i : i + batch_size]
        arrays = []
        for s in chunk:
            with Image.open(s.path) as im:
                arrays.append(tf(im.convert("RGB")).numpy())
        yield np.stack(arrays).astype(np.float32)


def split_images(data: str, calibration: int, held_out: int) -> tuple[list[Sample], list[Sample]]:
    """Calibration images from the training split, agreement images from the others.

    CelebA layout: partition 0 (train) for calibration, 1/2 (valid/test) for
    agreement. A female/male folder has no partition: its de-duplicated images
    are split in order, calibration first.
    """
    samples = read_any(data)
    # Train first, so a held-out file that copies a training image is dropped as the duplicate.
    samples = sorted(samples, key=lambda s: s.partition if s.partition is not None else 0)
    samples, _ = dedupe(samples, progress=False)
    if samples and samples[0].partition is not None:
        calib = [s for s in samples if s.partition == 0][:calibration]
        held = [s for s in samples if s.partition != 0][:held_out]
    else:
        calib, held = samples[:calibration], samples[calibration : calibration + held_out]
    if not calib:
        fail(f"no calibration images in {data}")
    if not held:
        fail(f"no held-out images in {data} to measure agreement on (calibration took {len(calib)})")
    return calib, held


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over preprocessed batches."""

    def __init__(self, samples: Sequence[Sample], input_name: str, batch_size: int = 8) -> None:
        self._it = _batches(samples, batch_size)
        self._name = input_name

    def get_next(self) -> dict[str, Any] | None:
        batch = next(self._it, None)
        return None if batch is None else {self._name: batch}


def fold_identity_initializers(src: str, dst: str) -> int:
    """Rewires `Identity(initializer)` nodes to the initializer itself.

    The TorchScript exporter feeds most Conv biases through such Identity
    nodes; the quantiser only quantises a bias that is an initializer, and a
    float bias keeps the Conv out of ORT's int8 QLinearConv fusion.
    """
    import onnx

    model = onnx.load(src)
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    alias = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity" and n.input[0] in inits}
    graph_outputs = {o.name for o in graph.output}
    alias = {k: v for k, v in alias.items() if k not in graph_outputs}
    keep = [n for n in graph.node if not (n.op_type == "Identity" and n.output[0] in alias)]
    for node in keep:
        for i, name in enumerate(node.input):
            if name in alias:
                node.input[i] = alias[name]
    del graph.node[:]
    graph.node.extend(keep)
    onnx.save(model, dst)
    return len(alias)


def quantize_int8(fp32: str, out: str, calibration: Sequence[Sample], input_name: str = "input") -> dict[str, Any]:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    folded = f"{out}.fold.onnx"
    prepared = f"{out}.prep.onnx"
    try:
        fold_identity_initializers(fp32, folded)
        # Folds and infers shapes first, as onnxruntime recommends before static quantisation.
        quant_pre_process(folded, prepared, skip_symbolic_shape=True)
        quantize_static(
            prepared,
            out,
            _Reader(calibration, input_name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
    finally:
        for path in (folded, prepared):
            if os.path.exists(path):
                os.remove(path)
    return {
        "method": "onnxruntime quantize_static",
        "format": "QDQ",
        "weights": "int8 per-channel",
        "activations": "uint8 per-tensor",
        "calibration": {"method": "MinMax", "images": len(calibration), "split": "train"},
    }


def convert_fp16(fp32: str, out: str) -> dict[str, Any]:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(fp32), keep_io_types=True)
    onnx.save(model, out)
    return {"method": "onnxruntime.transformers float16", "io": "float32 (kept)"}


def agreement(fp32: str, other: str, held_out: Sequence[Sample], batch_size: int = 16) -> dict[str, Any]:
    """Top-1 agreement and max |P(male) difference| of `other` vs `fp32` on held-out images."""
    import numpy as np
    import onnxruntime as ort

    def session(path: str) -> ort.InferenceSession:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

    a, b = session(fp32), session(other)
    same = 0
    worst = 0.0
    n = 0
    for x in _batches(held_out, batch_size):
        la = a.run(["logits"], {"input": x})[0].astype(np.float64)
        lb = b.run(["logits"], {"input": x})[0].astype(np.float64)
        pa = 1 / (1 + np.exp(la[:, 0] - la[:, 1]))
        pb = 1 / (1 + np.exp(lb[:, 0] - lb[:, 1]))
        same += int(np.sum(la.argmax(1) == lb.argmax(1)))
        worst = max(worst, float(np.max(np.abs(pa - pb))))
        n += len(x)
    return {"images": n, "top1Agreement": same / n, "maxProbDiff": worst}


def lower_precision(
    precision: str,
    fp32: str,
    out: str,
    data: str | None,
    calibration_count: int,
    held_out_count: int,
    min_agreement: float,
) -> dict[str, Any]:
    """Writes `out` in `precision` from the fp32 graph, or fails without writing it."""
    if precision == "bf16":
        fail(
            "--precision bf16: onnxruntime's CPU provider has no bfloat16 Conv/Gemm kernels, so the service could not run it; "
            "use int8 (CPU) or fp16 (GPU providers)"
        )
    if not data:
        fail(f"--precision {precision} needs --calibration-data (a CelebA folder or female/ male/): "
             "int8 calibrates on its training images and every precision is checked against fp32 on held-out ones")
    calib, held = split_images(data, calibration_count, held_out_count)
    tmp = f"{out}.{precision}.tmp"
    try:
        if precision == "int8":
            log(f"int8: calibrating on {len(calib)} training images")
            record = quantize_int8(fp32, tmp, calib)
        else:
            record = convert_fp16(fp32, tmp)
        agree = agreement(fp32, tmp, held)
        record["agreementWithFp32"] = {**agree, "minTop1Agreement": min_agreement}
        print(
            f"{precision} vs fp32 on {agree['images']} held-out images: top-1 agreement {agree['top1Agreement']:.4f}, "
            f"max P(male) difference {agree['maxProbDiff']:.4f} (minimum agreement {min_agreement})"
        )
        if agree["top1Agreement"] < min_agreement:
            fail(
                f"{precision} agrees with fp32 on {agree['top1Agreement']:.4f} of held-out images, "
                f"below --min-agreement {min_agreement}: not writing {out}"
            )
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return record


if __name__ == "__main__":
    sys.exit("use crowdlens_tools.export --precision")
