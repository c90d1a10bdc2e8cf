"""Shared pieces of the model tools: the model contract, transforms, data layouts, reports.

The eval transform here is the one the TypeScript service reproduces
(libs/models/src/preprocess/torchvision-preprocess.ts) and the one the
manifest records: change one, change all three.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, NoReturn, Sequence

# The model contract (docs/architecture.md, "Model contract"): logits [female, male], 224x224 RGB, ImageNet normalisation.
LABELS = ("female", "male")
TARGET_NAMES = ("Female", "Male")
INPUT_SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
# CelebA attributes whose groups the model card reports accuracy for (a group the model fails must show).
GROUP_ATTRIBUTES = ("Young", "Eyeglasses", "Pale_Skin", "Heavy_Makeup", "Wearing_Hat", "Bald", "Gray_Hair", "Blurry")


def log(msg: str) -> None:
    print(f"[crowdlens-tools] {msg}", file=sys.stderr, flush=True)


def fail(msg: str, code: int = 2) -> NoReturn:
    log(f"error: {msg}")
    raise SystemExit(code)


def preprocessing_record(size: int = INPUT_SIZE) -> dict[str, Any]:
    """What the manifest says about preprocessing; mirrors `eval_transform`."""
    return {
        "resize": {"size": size, "mode": "shorter-side", "interpolation": "bilinear", "antialias": True, "backend": "pil"},
        "centerCrop": size,
        "scale": 1 / 255,
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
    }


def eval_transform(size: int = INPUT_SIZE):
    """Resize(shorter side) + CenterCrop + ToTensor + Normalize on PIL images."""
    from torchvision import transforms as T

    return T.Compose(
        [
            T.Resize(size, interpolation=T.InterpolationMode.BILINEAR),
            T.CenterCrop(size),
            T.ToTensor(),
            T.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def train_transform(augment: bool, size: int = INPUT_SIZE):
    """The study's transform; with `augment`, the augmentations its future-work section lists."""
    from torchvision import transforms as T

    if not augment:
        return eval_transform(size)
    return T.Compose(
        [
            T.Resize(size, interpolation=T.InterpolationMode.BILINEAR),
            T.CenterCrop(size),
            T.RandomHorizontalFlip(),
            T.RandomRotation(10),
            T.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05),
            T.ToTensor(),
            T.Normalize(IMAGENET_MEAN, IMAGENET_STD),
            T.RandomErasing(p=0.25),
        ]
    )


def build_resnet50(imagenet_weights: str | None = None, num_classes: int = len(LABELS), warn_random: bool = True):
    """torchvision ResNet50 with fc -> num_classes (the study's contract); see architectures.build_model."""
    from .architectures import build_model

    return build_model("resnet50", imagenet_weights, num_classes, warn_random)


def strip_prefix(state: dict[str, Any]) -> dict[str, Any]:
    """Drops the `module.` prefix DataParallel/DistributedDataParallel checkpoints carry."""
    if state and all(k.startswith("module.") for k in state):
        return {k[len("module.") :]: v for k, v in state.items()}
    return state


def load_classifier(checkpoint: str, trust_pickle: bool = False, arch: str | None = None):
    """A `.pth` from train.py, a plain state_dict, or (with trust_pickle) a pickled whole model.

    The architecture is the checkpoint's own (train.py records it), else `arch`,
    else resnet50. Returns (model in eval mode, metadata dict from the checkpoint or {}).
    """
    import torch
    import torch.nn as nn

    from .architectures import DEFAULT_ARCH, build_for_checkpoint

    try:
        obj = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        fail(f"checkpoint {checkpoint} does not exist")
    except Exception as err:  # weights_only refuses pickled classes (a whole nn.Module)
        if not trust_pickle:
            lines = str(err).splitlines() or [""]
            reason = next((ln.strip() for ln in lines if "WeightsUnpickler error" in ln), lines[0].strip())
            fail(
                f"{checkpoint} is not a plain state_dict ({type(err).__name__}: {reason}). "
                "If it is a whole pickled model you trust, pass --trust-pickle (unpickling runs code from the file)."
            )
        obj = torch.load(checkpoint, map_location="cpu", weights_only=False)

    meta: dict[str, Any] = {}
    if isinstance(obj, nn.Module):
        model = obj
        meta = {"arch": arch or DEFAULT_ARCH}
    else:
        if not isinstance(obj, dict):
            fail(f"{checkpoint} holds a {type(obj).__name__}, expected a state_dict or a checkpoint dict")
        state = obj
        for key in ("state_dict", "model_state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                state = obj[key]
                meta = {k: v for k, v in obj.items() if k not in ("state_dict", "model_state_dict", "model", "optimizer")}
                break
        recorded = meta.get("arch")
        if recorded and arch and recorded != arch:
            fail(f"{checkpoint} was trained as {recorded}, not --arch {arch}")
        meta["arch"] = recorded or arch or DEFAULT_ARCH
        model = build_for_checkpoint(meta["arch"], strip_prefix(state), checkpoint)
    model.eval()
    return model, meta


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def content_hash(path: str | os.PathLike[str]) -> str:
    """Hash used for de-duplication: identical image files count once."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


# ---------------------------------------------------------------- data layouts


@dataclass(frozen=True)
class Sample:
    path: str
    label: int  # 0 female, 1 male
    partition: int | None = None  # CelebA: 0 train, 1 valid, 2 test
    # CelebA attributes other than Male, name -> True/False, for the model card's per-group accuracy.
    attrs: tuple[tuple[str, bool], ...] = ()


def _first_existing(root: Path, names: Iterable[str]) -> Path | None:
    for name in names:
        if (root / name).exists():
            return root / name
    return None


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """CelebA's whitespace .txt (count line, header line, rows) or Kaggle's .csv (header, rows)."""
    lines = path.read_text().splitlines()
    if path.suffix == ".csv":
        header = lines[0].split(",")[1:]
        rows = [line.split(",") for line in lines[1:] if line.strip()]
        return header, rows
    # list_attr_celeba.txt: "202599", then the attribute names, then "000001.jpg -1  1 ...".
    # list_eval_partition.txt: rows only.
    first = lines[0].split()
    if len(first) == 1 and first[0].isdigit():
        header = lines[1].split()
        rows = [line.split() for line in lines[2:] if line.strip()]
        return header, rows
    return [], [line.split() for line in lines if line.strip()]


def read_celeba(root: str) -> list[Sample]:
    """CelebA layout: img_align_celeba/, list_attr_celeba.txt (Male -1/1), optional list_eval_partition.txt."""
    base = Path(root)
    img_dir = base / "img_align_celeba"
    if (img_dir / "img_align_celeba").is_dir():  # the Kaggle archive nests it
        img_dir = img_dir / "img_align_celeba"
    attr = _first_existing(base, ("list_attr_celeba.txt", "list_attr_celeba.csv"))
    if not img_dir.is_dir() or attr is None:
        fail(f"{root} is not a CelebA folder: need img_align_celeba/ and list_attr_celeba.txt")
    header, rows = _read_table(attr)
    if "Male" not in header:
        fail(f"{attr} has no Male attribute column")
    male_col = header.index("Male") + 1
    part_file = _first_existing(base, ("list_eval_partition.txt", "list_eval_partition.csv"))
    partitions: dict[str, int] = {}
    if part_file is not None:
        _, prows = _read_table(part_file)
        partitions = {r[0]: int(r[1]) for r in prows if len(r) >= 2 and r[1].lstrip("-").isdigit()}
    samples = []
    for row in rows:
        name, value = row[0], int(row[male_col])
        if value not in (-1, 1):
            fail(f"{attr}: Male for {name} is {value}, expected -1 or 1")
        # Male -1/1 -> 0/1: female 0, male 1 (the model contract's label order).
        attrs = tuple((h, row[i + 1] == "1") for i, h in enumerate(header) if h in GROUP_ATTRIBUTES and i + 1 < len(row))
        samples.append(Sample(str(img_dir / name), 1 if value == 1 else 0, partitions.get(name), attrs))
    return samples


def read_labelled_folder(root: str) -> list[Sample]:
    """`female/` and `male/` subfolders of images."""
    samples = []
    for label, name in enumerate(LABELS):
        folder = Path(root) / name
        if not folder.is_dir():
            fail(f"{root} has no {name}/ folder (expected female/ and male/, or a CelebA layout)")
        for p in sorted(folder.rglob("*")):
            if p.suffix.lower() in IMAGE_EXTENSIONS:
                samples.append(Sample(str(p), label))
    return samples


def read_any(root: str) -> list[Sample]:
    base = Path(root)
    if (base / "img_align_celeba").is_dir():
        return read_celeba(root)
    return read_labelled_folder(root)


def dedupe(samples: Sequence[Sample], limit: int | None = None, progress: bool = True) -> tuple[list[Sample], int]:
    """Keeps the first sample of each distinct file content, in order; stops after `limit` unique ones."""
    from tqdm import tqdm

    seen: set[str] = set()
    kept: list[Sample] = []
    dropped = 0
    bar = tqdm(samples, desc="hash de-dup", unit="img", disable=not progress, file=sys.stderr, total=limit or len(samples))
    for s in bar:
        h = content_hash(s.path)
        if h in seen:
            dropped += 1
            continue
        seen.add(h)
        kept.append(s)
        if limit is not None:
            bar.update(0)
            if len(kept) >= limit:
                break
    bar.close()
    return kept, dropped


class ImageDataset:
    """(tensor, label) pairs from Samples, decoded with PIL as RGB (torchvision's path)."""

    def __init__(self, samples: Sequence[Sample], transform) -> None:
        self.samples = list(samples)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        from PIL import Image

        s = self.samples[i]
        with Image.open(s.path) as im:
            return self.transform(im.convert("RGB")), s.label


# ---------------------------------------------------------------- reports


def report(y_true: Sequence[int], y_pred: Sequence[int]) -> tuple[str, dict[str, Any]]:
    """The study's report: accuracy, sklearn classification report, confusion matrix."""
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

    acc = accuracy_score(y_true, y_pred)
    text = classification_report(y_true, y_pred, labels=[0, 1], target_names=list(TARGET_NAMES), digits=2, zero_division=0)
    cm = confusion_matrix(y_true, y_pred, labels=[0, 1])
    out = f"Accuracy: {acc:.4f}\n\nClassification Report:\n{text}\nConfusion Matrix:\n{cm}\n"
    data = {
        "accuracy": float(acc),
        "n": len(y_true),
        "report": classification_report(y_true, y_pred, labels=[0, 1], target_names=list(TARGET_NAMES), output_dict=True, zero_division=0),
        "confusionMatrix": cm.tolist(),
        "labels": list(LABELS),
    }
    return out, data


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
