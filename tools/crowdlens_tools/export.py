"""Export a gender checkpoint to ONNX, check it, and write its manifest.

    python -m crowdlens_tools.export --checkpoint models/resnet50.pth --out models/resnet50.onnx
    python -m crowdlens_tools.export --checkpoint models/resnet50.pth --out models/resnet50-int8.onnx \
        --precision int8 --calibration-data /data/celeba
    python -m crowdlens_tools.export --random-init --arch resnet18 --out .cache/models/resnet18-random.onnx   # benchmarks/tests

The checkpoint may be one written by train.py (it names its architecture), a
plain state_dict of a torchvision model (--arch, default resnet50) whose last
Linear has 2 outputs [female, male], or (with --trust-pickle) a whole pickled
model. --precision int8 quantises statically (QDQ, per-channel weights) with
calibration images from the training split of --calibration-data; fp16 halves
the weights; both keep float32 input/output and are refused unless their
top-1 agreement with the fp32 graph on held-out images reaches
--min-agreement. bf16 is refused (no onnxruntime CPU kernels). The graph has one input `input`
float32 [N,3,224,224] (N dynamic) and one output `logits` [N,2], opset 17.
ONNX Runtime must reproduce PyTorch's logits on random inputs within
--tolerance (max abs diff, default 1e-3) or nothing is written. The manifest
goes to `<out>.manifest.json`; the service refuses a model without one.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .architectures import ARCHS, DEFAULT_ARCH, build_model, count_parameters, describe
from .common import INPUT_SIZE, LABELS, fail, load_classifier, log, preprocessing_record, sha256_file, write_json
from .precision import PRECISIONS, lower_precision

MANIFEST_SCHEMA_VERSION = 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="crowdlens_tools.export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help=".pth: train.py checkpoint, state_dict, or whole model (with --trust-pickle)")
    src.add_argument("--random-init", action="store_true", help="untrained model (benchmarks and tests only: its outputs mean nothing)")
    p.add_argument("--arch", choices=list(ARCHS), help=f"architecture of --random-init or of a plain state_dict (default {DEFAULT_ARCH}); train.py checkpoints name their own")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32", help="fp32 (default), fp16, int8 (static QDQ); bf16 is refused")
    p.add_argument("--calibration-data", help="CelebA folder or female/ male/: int8 calibration (train split) and agreement (held-out) images")
    p.add_argument("--calibration-images", type=int, default=64, help="training images int8 calibrates on")
    p.add_argument("--agreement-images", type=int, default=200, help="held-out images the agreement with fp32 is measured on")
    p.add_argument("--min-agreement", type=float, default=0.98, help="refuse a lower-precision model whose top-1 agreement with fp32 is below this")
    p.add_argument("--trust-pickle", action="store_true", help="allow loading a whole pickled model (runs code from the file)")
    p.add_argument("--out", required=True, help="output .onnx path; the manifest goes next to it")
    p.add_argument("--name", help="model family; default crowdlens-<arch>-gender")
    p.add_argument("--version", help="model version published with predictions; default: the date and sha256 prefix")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--tolerance", type=float, default=1e-3, help="max abs logit difference ONNX Runtime vs PyTorch")
    p.add_argument("--seed", type=int, default=0, help="seed for --random-init weights and the check inputs")
    p.add_argument(
        "--input-size",
        type=int,
        default=INPUT_SIZE,
        help=argparse.SUPPRESS,  # tests only: a graph the service must refuse (the contract is 224)
    )
    return p.parse_args(argv)


def export_onnx(model, out: str, opset: int, size: int) -> None:
    """TorchScript-based exporter: it emits the requested opset 17 exactly (the dynamo
    exporter starts at opset 18 and cannot down-convert ResNet50's ReduceMean)."""
    import torch

    dummy = torch.randn(1, 3, size, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "legacy TorchScript-based ONNX export"
        torch.onnx.export(
            model,
            (dummy,),
            out,
            input_names=["input"],
            output_names=["logits"],
            opset_version=opset,
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
            do_constant_folding=True,
            dynamo=False,
        )


def check_against_torch(model, out: str, size: int, tolerance: float, seed: int) -> float:
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch

    onnx.checker.check_model(onnx.load(out))
    session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    for n in (1, 3):
        x = torch.randn(n, 3, size, size, generator=gen)
        with torch.no_grad():
            expected = model(x).numpy()
        got = session.run(["logits"], {"input": x.numpy()})[0]
        if got.shape != (n, len(LABELS)):
            fail(f"ONNX Runtime returned shape {got.shape} for batch {n}, expected ({n}, {len(LABELS)})")
        worst = max(worst, float(np.max(np.abs(got - expected))))
    return worst


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.precision == "bf16":  # before the slow export: it could never be written
        lower_precision("bf16", "", args.out, None, 0, 0, 0.0)
    if not 0 <= args.min_agreement <= 1:
        fail("--min-agreement is a fraction of images, 0..1")
    if args.precision != "fp32" and not args.calibration_data:
        fail(f"--precision {args.precision} needs --calibration-data (a CelebA folder or female/ male/): "
             "int8 calibrates on its training images, and every lower precision is checked against fp32 on held-out ones")
    import onnxruntime
    import torch
    import torchvision

    meta: dict[str, Any] = {}
    if args.random_init:
        torch.manual_seed(args.seed)
        arch = args.arch or DEFAULT_ARCH
        model = build_model(arch, None, warn_random=False).eval()
        initial = "random-init"
    else:
        model, meta = load_classifier(args.checkpoint, trust_pickle=args.trust_pickle, arch=args.arch)
        arch = meta["arch"]
        recipe = meta.get("recipe") or {}
        if recipe.get("initialWeights"):
            initial = f"trained from {recipe['initialWeights']}"
        else:  # older checkpoints and plain state_dicts
            initial = "trained" + (f" from {recipe['imagenet_weights']}" if recipe.get("imagenet_weights") else " from random init" if recipe else "")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = str(out) + ".tmp"
    export_onnx(model, tmp, args.opset, args.input_size)
    diff = check_against_torch(model, tmp, args.input_size, args.tolerance, args.seed)
    print(f"max abs diff ONNX Runtime vs PyTorch: {diff:.3e} (tolerance {args.tolerance:.0e})")
    if not diff <= args.tolerance:
        os.remove(tmp)
        fail(f"ONNX Runtime disagrees with PyTorch by {diff:.3e} > {args.tolerance:.0e}: not writing {out}")
    precision_record: dict[str, Any] | None = None
    if args.precision == "fp32":
        os.replace(tmp, out)
    else:
        try:
            precision_record = lower_precision(
                args.precision, tmp, str(out), args.calibration_data, args.calibration_images, args.agreement_images, args.min_agreement
            )
        finally:
            os.remove(tmp)

    digest = sha256_file(out)
    created = datetime.now(timezone.utc).replace(microsecond=0)
    recipe = meta.get("recipe") or {}
    manifest = {
        "schemaVersion": MANIFEST_SCHEMA_VERSION,
        "name": args.name or f"crowdlens-{arch.replace('_', '-')}-gender",
        "version": args.version or f"{created:%Y%m%d}-{digest[:12]}",
        "architecture": describe(model, arch),
        "precision": args.precision,
        "format": "onnx",
        "opset": args.opset,
        "input": {"name": "input", "shape": ["N", 3, args.input_size, args.input_size], "layout": "NCHW", "dtype": "float32", "colorSpace": "RGB"},
        "preprocessing": preprocessing_record(args.input_size),
        "labels": list(LABELS),
        "output": {"name": "logits", "shape": ["N", len(LABELS)], "kind": "logits"},
        "sha256": digest,
        "source": {
            "tool": "crowdlens_tools.export",
            "framework": f"torch {torch.__version__}, torchvision {torchvision.__version__}, onnxruntime {onnxruntime.__version__}",
            "checkpoint": os.path.abspath(args.checkpoint) if args.checkpoint else None,
            "initialWeights": initial,
            "dataset": recipe.get("data"),
            "recipe": recipe or None,
            "epochs": meta.get("epoch"),
            "evaluation": meta.get("report"),
            "maxAbsDiffVsTorch": diff,
            "arch": arch,
            "parameters": count_parameters(model),
            "precision": precision_record,
        },
        "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    manifest_path = f"{out}.manifest.json"
    write_json(manifest_path, manifest)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, sha256 {digest[:12]}...) and {manifest_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
