"""Run an ONNX model on a raw preprocessed tensor with Python's ONNX Runtime.

    python -m crowdlens_tools.infer --model m.onnx --input batch.f32 --n 4 --out logits.json

The input is little-endian float32 NCHW [n,3,224,224] exactly as the
TypeScript preprocessor wrote it, so a test can check that the service's
onnxruntime-node result equals Python's on the same tensor.
"""

from __future__ import annotations

import argparse
import sys

from .common import INPUT_SIZE, write_json


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="crowdlens_tools.infer", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True, help="raw little-endian float32 NCHW")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--size", type=int, default=INPUT_SIZE)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    import numpy as np
    import onnxruntime as ort

    x = np.fromfile(args.input, dtype="<f4")
    expected = args.n * 3 * args.size * args.size
    if x.size != expected:
        p.error(f"{args.input} has {x.size} floats, expected {expected}")
    x = x.reshape(args.n, 3, args.size, args.size)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    logits = session.run(["logits"], {"input": x})[0].astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    write_json(args.out, {"onnxruntime": ort.__version__, "logits": logits.tolist(), "probMale": probs[:, 1].tolist()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
