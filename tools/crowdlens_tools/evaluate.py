"""Evaluate a served ONNX model on a labelled folder and print the study's report.

    python -m crowdlens_tools.evaluate --model models/resnet50.onnx --data /data/celeba             # CelebA test partition
    python -m crowdlens_tools.evaluate --model models/resnet50.onnx --data /data/faces --json out.json  # female/ male/
    python -m crowdlens_tools.evaluate --model models/resnet50.onnx --data /data/celeba --attach-card   # card -> manifest

Runs the .onnx file the service runs, through ONNX Runtime, with the
preprocessing its manifest records (checked against the model contract), on
either a CelebA layout (default: the official test partition; --split all
for every image) or a folder with female/ and male/ subfolders. Images are
de-duplicated by content hash first, like the training tool does.

Besides the study's report it prints the model card (model_card.py):
per-class precision/recall/F1, confusion matrix, calibration (ECE and
reliability bins), the decision threshold and "unknown" margin with the
share of images they decide, and accuracy per CelebA attribute group.
`--attach-card` writes the card into the manifest the service serves it from.
"""

from __future__ import annotations

import argparse
import json
import os
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
from .model_card import build_card, render

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


def select(data: str, split: str, limit: int, progress: bool) -> tuple[list, int]:
    samples = read_any(data)
    if samples and samples[0].partition is not None and split != "all":
        # De-duplicate over every partition, train first (as train.py --full does), so a test
        # file that is a byte copy of a training image is not counted as held-out.
        ordered = sorted(samples, key=lambda s: s.partition if s.partition is not None else 99)
        unique, dropped = dedupe(ordered, progress=progress)
        samples = [s for s in unique if s.partition == SPLITS[split]]
        samples = samples[:limit] if limit else samples
    else:
        if split not in ("all", "test") and (not samples or samples[0].partition is None):
            log(f"warning: {data} has no partition file; --split {split} ignored")
        samples, dropped = dedupe(samples, limit=limit or None, progress=progress)
    if not samples:
        fail(f"no images to evaluate in {data}")
    return samples, dropped


def prob_male(model: str, manifest: dict, samples, batch_size: int = 32, threads: int = 0, progress: bool = True) -> tuple[list[int], list[float]]:
    """Runs the .onnx file through ONNX Runtime: labels and P(male) = softmax(logits)[1] per image."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    in_name, out_name = manifest["input"]["name"], manifest["output"]["name"]
    loader = DataLoader(ImageDataset(samples, eval_transform()), batch_size=batch_size, shuffle=False, num_workers=0)
    y_true: list[int] = []
    probs: list[float] = []
    with torch.no_grad():
        for x, y in tqdm(loader, desc="evaluate", unit="batch", disable=not progress, file=sys.stderr):
            logits = session.run([out_name], {in_name: x.numpy()})[0].astype(np.float64)
            probs.extend((1 / (1 + np.exp(logits[:, 0] - logits[:, 1]))).tolist())
            y_true.extend(y.tolist())
    return y_true, probs


def card_for(model: str, manifest: dict, data: str, split: str, samples, y_true, probs, threshold=0.5, unknown_margin=0.1, bins=10) -> dict:
    return build_card(
        y_true,
        probs,
        samples,
        threshold=threshold,
        unknown_margin=unknown_margin,
        bins=bins,
        data={"source": os.path.abspath(data), "split": split if samples[0].partition is not None else "all (no partition file)"},
        model={"name": manifest["name"], "version": manifest["version"], "sha256": manifest["sha256"], "file": os.path.basename(model)},
    )


def attach_card(model: str, manifest_path: str | None, card: dict) -> str:
    """Writes the card into the model's manifest; the sha256 check above guarantees it describes this file."""
    path = manifest_path or f"{model}.manifest.json"
    manifest = json.loads(Path(path).read_text())
    if manifest.get("sha256") != card["model"]["sha256"]:
        fail(f"{path} now describes another file: not attaching the card")
    manifest["card"] = card
    write_json(path, manifest)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="crowdlens_tools.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help=".onnx file")
    p.add_argument("--manifest", help="default: <model>.manifest.json")
    p.add_argument("--data", required=True, help="CelebA folder, or a folder with female/ and male/")
    p.add_argument("--split", choices=[*SPLITS, "all"], default="test", help="CelebA partition to evaluate (ignored for female/male folders)")
    p.add_argument("--limit", type=int, default=0, help="evaluate at most this many images; 0 = all")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads; 0 = all cores")
    p.add_argument("--threshold", type=float, default=0.5, help="P(male) at or above which an image counts as male")
    p.add_argument("--unknown-margin", type=float, default=0.1, help="|P(male) - 0.5| below this is 'unknown' (the service's analytics.minVoteMargin)")
    p.add_argument("--bins", type=int, default=10, help="reliability bins over confidence [0.5, 1]")
    p.add_argument("--json", help="also write the study's report and the model card as JSON here")
    p.add_argument("--card", help="write the model card (JSON) here")
    p.add_argument("--attach-card", action="store_true", help="write the model card into the model's manifest, where the service serves it")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if not 0 < args.threshold < 1 or not 0 <= args.unknown_margin < 0.5 or args.bins < 1:
        fail("need 0 < --threshold < 1, 0 <= --unknown-margin < 0.5 and --bins >= 1")

    manifest = check_manifest(args.model, args.manifest)
    samples, dropped = select(args.data, args.split, args.limit, not args.no_progress)
    log(f"evaluating {len(samples)} images ({dropped} duplicates dropped) with {manifest['name']} {manifest['version']}")
    y_true, probs = prob_male(args.model, manifest, samples, args.batch_size, args.threads, not args.no_progress)
    y_pred = [int(pm >= args.threshold) for pm in probs]
    text, data = report(y_true, y_pred)
    print(text)
    card = card_for(args.model, manifest, args.data, args.split, samples, y_true, probs, args.threshold, args.unknown_margin, args.bins)
    print(render(card))
    if args.json:
        write_json(args.json, {"model": manifest["name"], "version": manifest["version"], "sha256": manifest["sha256"], "data": args.data, "split": args.split, **data, "card": card})
    if args.card:
        write_json(args.card, card)
    if args.attach_card:
        log(f"model card attached to {attach_card(args.model, args.manifest, card)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
