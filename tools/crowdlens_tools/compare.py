"""Train, export and evaluate several architectures on one split and print the study's table.

    python -m crowdlens_tools.compare --data /data/celeba --out runs/compare \\
        --archs resnet50,resnet18,googlenet,vgg19,mobilenet_v2,efficientnet_b0,convnext_tiny,vit_b_16 \\
        --pretrained-dir /data/torchvision-weights
    python -m crowdlens_tools.compare --data /tmp/tiny --archs resnet18,mobilenet_v2 --epochs 1 --max-steps 1   # smoke

Every architecture gets the same images: the split train.py makes from the
same --data/--subset/--full/--seed (the study: 5,000 unique images, 80/20,
random_state 42). Each is trained with the study's recipe, exported to ONNX
(checked against PyTorch), evaluated on the held-out split through ONNX
Runtime (model card attached to its manifest), and timed on ONNX Runtime CPU
at --bench-batch. The Markdown table goes to stdout (and --markdown); logs
and progress bars go to stderr. With --random-init nothing is trained: a
speed-and-plumbing table whose accuracy column means nothing.

--pretrained-dir holds torchvision ImageNet state_dicts named as torchvision
names them (resnet50-*.pth, vit_b_16-*.pth, ...); an architecture without
one starts from random weights and the table says so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .architectures import get_arch
from .common import fail, log, write_json

STUDY_ORDER = ("resnet50", "googlenet", "resnet18", "vgg19", "mobilenet_v2", "efficientnet_b0", "convnext_tiny", "vit_b_16")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="crowdlens_tools.compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="CelebA folder (img_align_celeba/, list_attr_celeba.txt[, list_eval_partition.txt])")
    p.add_argument("--archs", default=",".join(STUDY_ORDER), help="comma-separated architectures")
    p.add_argument("--out", default="runs/compare", help="folder for checkpoints, ONNX models, manifests and the table")
    sel = p.add_mutually_exclusive_group()
    sel.add_argument("--subset", type=int, default=5000)
    sel.add_argument("--full", action="store_true")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--augment", action="store_true")
    p.add_argument("--pretrained-dir", help="folder of torchvision ImageNet .pth files, one per architecture")
    p.add_argument("--random-init", action="store_true", help="export untrained models: speed and plumbing only")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-steps", type=int, default=0, help="batches per epoch (smoke runs); 0 = all")
    p.add_argument("--max-eval", type=int, default=0, help="held-out images evaluated; 0 = all")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    p.add_argument("--device", default="auto")
    p.add_argument("--bench-batch", type=int, default=32, help="batch for the ONNX Runtime CPU images/s column")
    p.add_argument("--bench-seconds", type=float, default=5.0, help="timed seconds per architecture (at least 2 runs)")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads; 0 = all cores")
    p.add_argument("--markdown", help="also write the table here (default <out>/table.md)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    args.arch_list = [a.strip() for a in args.archs.split(",") if a.strip()]
    for a in args.arch_list:
        get_arch(a)
    if not args.arch_list:
        fail("--archs is empty")
    return args


def find_pretrained(folder: str | None, arch: str) -> str | None:
    if not folder:
        return None
    hits = sorted(p for p in Path(folder).glob(f"{arch}-*.pth")) + sorted(Path(folder).glob(f"{arch}.pth"))
    return str(hits[0]) if hits else None


def images_per_second(model: str, batch: int, seconds: float, threads: int) -> float:
    import numpy as np
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    x = np.random.RandomState(0).randn(batch, 3, 224, 224).astype(np.float32)
    session.run(["logits"], {"input": x})  # warm-up: allocations and kernel choice
    runs = 0
    started = time.perf_counter()
    while runs < 2 or time.perf_counter() - started < seconds:
        session.run(["logits"], {"input": x})
        runs += 1
    return runs * batch / (time.perf_counter() - started)


def train_args(args: argparse.Namespace, arch: str, checkpoint: str, pretrained: str | None) -> list[str]:
    argv = ["--data", args.data, "--arch", arch, "--seed", str(args.seed), "--epochs", str(args.epochs)]
    argv += ["--batch-size", str(args.batch_size), "--lr", str(args.lr), "--max-steps", str(args.max_steps)]
    argv += ["--max-eval", str(args.max_eval), "--workers", str(args.workers), "--device", args.device, "--out", checkpoint]
    argv += ["--full"] if args.full else ["--subset", str(args.subset)]
    if args.augment:
        argv.append("--augment")
    if pretrained:
        argv += ["--pretrained", pretrained]
    if args.no_progress:
        argv.append("--no-progress")
    return argv


def held_out(args: argparse.Namespace):
    """The split train.py makes from the same arguments: its test images."""
    from .train import parse_args as train_parse, select_samples

    targs = train_parse(train_args(args, "resnet50", os.devnull, None))
    with contextlib.redirect_stdout(sys.stderr):
        splits = select_samples(targs)
    test = splits["test"]
    return test[: args.max_eval] if args.max_eval else test


def run_arch(args: argparse.Namespace, arch: str, test_samples, out: Path) -> dict[str, Any]:
    from . import export, train
    from .evaluate import attach_card, card_for, check_manifest, prob_male

    pretrained = find_pretrained(args.pretrained_dir, arch)
    onnx_path = out / f"{arch}.onnx"
    started = time.time()
    # The tools print their own reports on stdout; here stdout carries only the table.
    with contextlib.redirect_stdout(sys.stderr):
        if args.random_init:
            export.main(["--random-init", "--arch", arch, "--out", str(onnx_path), "--version", f"compare-{arch}"])
            weights = "random-init (untrained)"
        else:
            checkpoint = out / f"{arch}.pth"
            train.main(train_args(args, arch, str(checkpoint), pretrained))
            export.main(["--checkpoint", str(checkpoint), "--out", str(onnx_path), "--version", f"compare-{arch}"])
            weights = f"pretrained {os.path.basename(pretrained)}" if pretrained else "random init"
    manifest = check_manifest(str(onnx_path), None)
    y_true, probs = prob_male(str(onnx_path), manifest, test_samples, args.batch_size, args.threads, not args.no_progress)
    card = card_for(str(onnx_path), manifest, args.data, "held-out split of train.py", test_samples, y_true, probs)
    attach_card(str(onnx_path), None, card)
    ips = images_per_second(str(onnx_path), args.bench_batch, args.bench_seconds, args.threads)
    return {
        "architecture": arch,
        "parameters": manifest["source"]["parameters"],
        "weights": weights,
        "accuracy": card["accuracy"],
        "f1Female": card["perClass"]["female"]["f1"],
        "f1Male": card["perClass"]["male"]["f1"],
        "ece": card["calibration"]["ece"],
        "imagesPerSecond": ips,
        "testImages": card["data"]["images"],
        "model": str(onnx_path),
        "study": get_arch(arch).study,
        "seconds": time.time() - started,
    }


def table(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    threads = args.threads or os.cpu_count()
    head = (
        "| architecture | parameters | initial weights | accuracy | F1 female | F1 male | ECE | "
        f"images/s (ORT CPU, batch {args.bench_batch}, {threads} threads) | the study |"
    )
    lines = [head, "|" + " --- |" * 9]
    for r in rows:
        lines.append(
            f"| {r['architecture']} | {r['parameters'] / 1e6:.1f} M | {r['weights']} | {r['accuracy']:.4f} | {r['f1Female']:.3f} | "
            f"{r['f1Male']:.3f} | {r['ece']:.3f} | {r['imagesPerSecond']:.1f} | {r['study'] or ''} |"
        )
    n = rows[0]["testImages"] if rows else 0
    note = f"\n{n} held-out images from {args.data}"
    if args.random_init:
        note += "; untrained (random-init) models: the accuracy columns mean nothing"
    elif args.max_steps or args.epochs < 10:
        note += f"; {args.epochs} epoch(s){f', {args.max_steps} step(s) each' if args.max_steps else ''}: not the study's 10-epoch recipe"
    return "\n".join(lines) + note + ".\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from tqdm import tqdm

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    test_samples = [] if args.random_init else held_out(args)
    if args.random_init:
        from .common import dedupe, read_any

        test_samples, _ = dedupe(read_any(args.data), limit=args.max_eval or None, progress=False)
    rows = []
    bar = tqdm(args.arch_list, desc="compare", unit="arch", disable=args.no_progress, file=sys.stderr)
    for arch in bar:
        bar.set_postfix(arch=arch)
        rows.append(run_arch(args, arch, test_samples, out))
        log(f"{arch}: {json.dumps(rows[-1])}")
    bar.close()
    text = table(rows, args)
    print(text)
    Path(args.markdown or out / "table.md").write_text(text)
    write_json(out / "compare.json", {"rows": rows, "args": {k: v for k, v in vars(args).items() if k != "arch_list"}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
