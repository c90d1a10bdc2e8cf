"""Train a gender classifier with the study's recipe on a CelebA-layout folder.

    python -m crowdlens_tools.train --data /data/celeba --subset 5000 --out models/resnet50.pth
    python -m crowdlens_tools.train --data /data/celeba --full --augment --pretrained resnet50-0676ba61.pth
    python -m crowdlens_tools.train --arch convnext_tiny --pretrained convnext_tiny-983f1562.pth --data /data/celeba

Recipe (docs/architecture.md, "Model contract"): torchvision ResNet50 (or --arch: resnet18,
googlenet, vgg19, mobilenet_v2, efficientnet_b0, convnext_tiny, vit_b_16),
its last Linear -> 2 logits
[female, male], CelebA `Male` -1/1 -> 0/1, hash de-duplication, 5,000 images
split 80/20 with random_state 42, Adam lr 1e-3, batch 32, 10 epochs,
CrossEntropyLoss. `--full` uses the whole dataset with CelebA's official
train/valid/test partition; `--augment` adds the study's future-work
augmentations. The checkpoint is written after every epoch, so `--resume`
continues an interrupted run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .architectures import ARCHS, DEFAULT_ARCH, build_model, count_parameters
from .common import (
    LABELS,
    ImageDataset,
    Sample,
    dedupe,
    eval_transform,
    fail,
    log,
    read_celeba,
    report,
    train_transform,
    write_json,
)

CHECKPOINT_FORMAT = "crowdlens-resnet50-gender/1"
# Arguments that decide which images land in which split: a resumed run must not change them.
SPLIT_ARGS = ("data", "subset", "full", "test_size", "seed")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="crowdlens_tools.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="CelebA folder: img_align_celeba/, list_attr_celeba.txt[, list_eval_partition.txt]")
    sel = p.add_mutually_exclusive_group()
    sel.add_argument("--subset", type=int, default=5000, help="unique images sampled for an 80/20 split (the study: 5000)")
    sel.add_argument("--full", action="store_true", help="all images, CelebA's official train/valid/test partition")
    p.add_argument("--test-size", type=float, default=0.2, help="held-out fraction in --subset mode")
    p.add_argument("--seed", type=int, default=42, help="random_state for sampling and the split (the study: 42)")
    p.add_argument("--augment", action="store_true", help="RandomHorizontalFlip, RandomRotation, ColorJitter, RandomErasing")
    p.add_argument("--arch", default=DEFAULT_ARCH, choices=list(ARCHS), help="torchvision architecture (default: the study's resnet50)")
    p.add_argument(
        "--pretrained",
        "--imagenet-weights",
        dest="imagenet_weights",
        help="torchvision ImageNet state_dict (.pth) for --arch, e.g. resnet50-0676ba61.pth; random init without it",
    )
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-steps", type=int, default=0, help="stop each epoch after this many batches (smoke tests); 0 = all")
    p.add_argument("--max-eval", type=int, default=0, help="evaluate on at most this many held-out images; 0 = all")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1), help="DataLoader worker processes")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--resume", help="checkpoint written by an earlier run; continues after its last finished epoch")
    p.add_argument("--out", default="models/resnet50-gender.pth", help="checkpoint path (.pth), rewritten after every epoch")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bars (CI logs)")
    return p.parse_args(argv)


def select_samples(args: argparse.Namespace) -> dict[str, list[Sample]]:
    import numpy as np
    from sklearn.model_selection import train_test_split

    samples = read_celeba(args.data)
    log(f"{len(samples)} labelled images in {args.data}")
    if args.full:
        if any(s.partition is None for s in samples):
            fail("--full needs list_eval_partition.txt covering every image")
        # Train first, so an image duplicated across partitions stays in train and never leaks into valid/test.
        ordered = sorted(samples, key=lambda s: s.partition)  # type: ignore[arg-type, return-value]
        unique, dropped = dedupe(ordered, progress=not args.no_progress)
        log(f"hash de-duplication dropped {dropped} duplicate files")
        splits = {name: [s for s in unique if s.partition == i] for i, name in enumerate(("train", "valid", "test"))}
    else:
        order = np.random.RandomState(args.seed).permutation(len(samples))
        unique, dropped = dedupe([samples[i] for i in order], limit=args.subset, progress=not args.no_progress)
        log(f"hash de-duplication dropped {dropped} duplicate files")
        if len(unique) < args.subset:
            log(f"warning: only {len(unique)} unique images, fewer than --subset {args.subset}")
        train, test = train_test_split(unique, test_size=args.test_size, random_state=args.seed)
        splits = {"train": train, "test": test}
    for name, items in splits.items():
        males = sum(s.label for s in items)
        log(f"{name}: {len(items)} images ({len(items) - males} female, {males} male)")
    if not splits["train"] or not splits["test"]:
        fail("a split is empty: not enough images")
    return splits


def pick_device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def predict(model, loader, device, progress: bool, desc: str) -> tuple[list[int], list[int]]:
    import torch
    from tqdm import tqdm

    model.eval()
    y_true: list[int] = []
    y_pred: list[int] = []
    with torch.no_grad():
        for x, y in tqdm(loader, desc=desc, unit="batch", disable=not progress, file=sys.stderr):
            logits = model(x.to(device))
            y_pred.extend(logits.argmax(1).cpu().tolist())
            y_true.extend(y.tolist())
    return y_true, y_pred


def plain(data: Any) -> Any:
    """numpy scalars -> Python, so the checkpoint loads with torch.load(weights_only=True)."""
    return json.loads(json.dumps(data, default=float))


def save_checkpoint(path: str, payload: dict[str, Any]) -> None:
    import torch

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{path}.tmp"
    torch.save(payload, tmp)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch
    import torch.nn as nn
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    progress = not args.no_progress
    splits = select_samples(args)

    recipe = {
        "arch": args.arch,
        "initialWeights": f"pretrained:{os.path.basename(args.imagenet_weights)}" if args.imagenet_weights else "random-init",
        "labels": list(LABELS),
        "data": os.path.abspath(args.data),
        "subset": None if args.full else args.subset,
        "full": args.full,
        "test_size": args.test_size,
        "seed": args.seed,
        "augment": args.augment,
        "imagenet_weights": args.imagenet_weights,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "optimizer": "Adam",
        "loss": "CrossEntropyLoss",
        "max_steps": args.max_steps,
        "splits": {k: len(v) for k, v in splits.items()},
    }

    # A resumed run gets its weights from the checkpoint.
    model = build_model(args.arch, None if args.resume else args.imagenet_weights, warn_random=not args.resume).to(device)
    recipe["parameters"] = count_parameters(model)
    log(f"{args.arch}: {recipe['parameters'] / 1e6:.1f} M parameters, {recipe['initialWeights']}")
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    start_epoch = 0
    payload: dict[str, Any] | None = None
    history: list[dict[str, Any]] = []
    if args.resume:
        ckpt = torch.load(args.resume, map_location="cpu", weights_only=True)
        if ckpt.get("format") != CHECKPOINT_FORMAT:
            fail(f"{args.resume} is not a checkpoint written by this tool (format {ckpt.get('format')!r})")
        old = ckpt.get("recipe", {})
        if ckpt.get("arch", DEFAULT_ARCH) != args.arch:
            fail(f"{args.resume} is a {ckpt.get('arch', DEFAULT_ARCH)} checkpoint, not --arch {args.arch}")
        for key in SPLIT_ARGS:
            mine = recipe["data"] if key == "data" else recipe.get(key)
            if key in old and old[key] != mine:
                log(f"warning: --{key.replace('_', '-')} was {old[key]!r} in the resumed run, now {mine!r}: the splits differ")
        model.load_state_dict(ckpt["state_dict"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start_epoch = int(ckpt["epoch"])
        payload = ckpt
        history = list(ckpt.get("history", []))
        recipe["imagenet_weights"] = old.get("imagenet_weights")
        log(f"resumed {args.resume} after epoch {start_epoch}")

    train_ds = ImageDataset(splits["train"], train_transform(args.augment))
    # BatchNorm cannot train on a batch of one; drop such a trailing batch.
    drop_last = len(train_ds) % args.batch_size == 1
    loader_kw = {"num_workers": args.workers, "pin_memory": device.type == "cuda", "persistent_workers": args.workers > 0}
    train_loader = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True, drop_last=drop_last, **loader_kw)
    eval_name = "valid" if "valid" in splits else "test"

    def eval_loader(name: str) -> DataLoader:
        items = splits[name][: args.max_eval] if args.max_eval else splits[name]
        return DataLoader(ImageDataset(items, eval_transform()), batch_size=args.batch_size, shuffle=False, **loader_kw)

    criterion = nn.CrossEntropyLoss()
    epoch = start_epoch
    for epoch in range(start_epoch + 1, args.epochs + 1):
        model.train()
        started = time.time()
        seen = correct = 0
        loss_sum = 0.0
        total = min(len(train_loader), args.max_steps) if args.max_steps else len(train_loader)
        bar = tqdm(train_loader, total=total, desc=f"epoch {epoch}/{args.epochs}", unit="batch", disable=not progress, file=sys.stderr)
        for step, (x, y) in enumerate(bar):
            if args.max_steps and step >= args.max_steps:
                break
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            logits = model(x)
            loss = criterion(logits, y)
            loss.backward()
            optimizer.step()
            seen += y.numel()
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += loss.item() * y.numel()
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}")
        bar.close()
        entry: dict[str, Any] = {"epoch": epoch, "loss": loss_sum / max(seen, 1), "trainAccuracy": correct / max(seen, 1), "seconds": time.time() - started}
        if eval_name == "valid":
            yt, yp = predict(model, eval_loader("valid"), device, progress, "valid")
            entry["validAccuracy"] = sum(int(a == b) for a, b in zip(yt, yp)) / max(len(yt), 1)
        history.append(entry)
        log(json.dumps(entry))
        payload = {
            "format": CHECKPOINT_FORMAT, "arch": args.arch, "labels": list(LABELS), "state_dict": model.state_dict(),
            "optimizer": optimizer.state_dict(), "epoch": epoch, "recipe": recipe, "history": plain(history),
            "torch": str(torch.__version__),
        }
        save_checkpoint(args.out, payload)

    if epoch == start_epoch:
        log(f"nothing to train: the checkpoint already has {start_epoch} of {args.epochs} epochs")
    yt, yp = predict(model, eval_loader("test"), device, progress, "test")
    text, data = report(yt, yp)
    weights = recipe["initialWeights"] + ("" if args.imagenet_weights else " (no --pretrained: not the study's ImageNet fine-tuning)")
    print(f"Architecture: {args.arch}, {recipe['parameters']:,} parameters, initial weights: {weights}\n")
    print(text)
    if payload is None:
        fail("no epoch was trained and nothing was resumed: --epochs must be >= 1")
    payload["report"] = plain({"split": "test", **data})
    save_checkpoint(args.out, payload)
    write_json(f"{args.out}.train.json", {"recipe": recipe, "history": plain(history), "report": payload["report"]})
    log(f"wrote {args.out} and {args.out}.train.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
