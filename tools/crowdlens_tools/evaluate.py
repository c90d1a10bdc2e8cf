"""Evaluate a served ONNX model on a labelled folder and print the study's report.

    python -m crowdlens_tools.evaluate --model models/resnet50.onnx --data /data/celeba             # CelebA test partition
    python -m crowdlens_tools.evaluate --model models/resnet50.onnx --data /data/faces --json out.json  # female/ male/

Runs the .onnx file the service runs, through ONNX Runtime, with the
preprocessing its manifest records (checked against the model contract), on
either a CelebA layout (default: the official test partition; --split all
for every image) or a folder with female/ and male/ subfolders. Images are
de-duplicated by content hash first, like the training tool does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    INPUT_SIZE,
    LABELS,
    ImageDataset,
    dedupe,
    eval_transform,
    fail,
    log,
    read_any,
    report,
    sha256_file,
    write_json,
)

SPLITS = {"train": 0, "valid": 1, "test": 2}


def check_manifest(model: str, manifest_path: str | None) -> dict:
    path = Path(manifest_path or f"{model}.manifest.json")
    if not path.exists():
        fail(f"no manifest at {path}: export.py writes one next to the model")
    manifest = json.loads(path.read_text())
    if manifest.get("sha256") != sha256_file(model):
        fail(f"{model} does not match the sha256 in {path}")
    if list(manifest.get("labels", [])) != list(LABELS):
        fail(f"manifest labels {manifest.get('labels')} are not {list(LABELS)}")
    pre = manifest.get("preprocessing", {})
    if pre.get("centerCrop") != INPUT_SIZE or list(pre.get("mean", [])) != list(IMAGENET_MEAN) or list(pre.get("std", [])) != list(IMAGENET_STD):
        fail(f"manifest preprocessing {pre} is not the model contract's")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="crowdlens_tools.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help=".onnx file")
    p.add_argument("--manifest", help="default: <model>.manifest.json")
    p.add_argument("--data", required=True, help="CelebA folder, or a folder with female/ and male/")
    p.add_argument("--split", choices=[*SPLITS, "all"], default="test", help="CelebA partition to evaluate (ignored for female/male folders)")
    p.add_argument("--limit", type=int, default=0, help="evaluate at most this many images; 0 = all")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads; 0 = all cores")
    p.add_argument("--json", help="also write the report as JSON here")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)

    import numpy as np
    import onnxruntime as ort
    import torch
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    manifest = check_manifest(args.model, args.manifest)
    samples = read_any(args.data)
    if samples and samples[0].partition is not None and args.split != "all":
        samples = [s for s in samples if s.partition == SPLITS[args.split]]
    elif args.split not in ("all", "test") and (not samples or samples[0].partition is None):
        log(f"warning: {args.data} has no partition file; --split {args.split} ignored")
    samples, dropped = dedupe(samples, limit=args.limit or None, progress=not args.no_progress)
    if not samples:
        fail(f"no images to evaluate in {args.data}")
    log(f"evaluating {len(samples)} images ({dropped} duplicates dropped) with {manifest['name']} {manifest['version']}")

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = args.threads
    session = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    in_name, out_name = manifest["input"]["name"], manifest["output"]["name"]
    loader = DataLoader(ImageDataset(samples, eval_transform()), batch_size=args.batch_size, shuffle=False, num_workers=0)
    y_true: list[int] = []
    y_pred: list[int] = []
    with torch.no_grad():
        for x, y in tqdm(loader, desc="evaluate", unit="batch", disable=args.no_progress, file=sys.stderr):
            logits = session.run([out_name], {in_name: x.numpy()})[0]
            y_pred.extend(np.argmax(logits, axis=1).tolist())
            y_true.extend(y.tolist())
    text, data = report(y_true, y_pred)
    print(text)
    if args.json:
        write_json(args.json, {"model": manifest["name"], "version": manifest["version"], "sha256": manifest["sha256"], "data": args.data, "split": args.split, **data})
    return 0


if __name__ == "__main__":
    sys.exit(main())
