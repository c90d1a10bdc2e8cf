"""The model card: how good a model is, and for whom, measured on labelled images.

evaluate.py builds it from P(male) per image; it travels in the manifest
(`card`) and the service serves it at GET /api/models. Its schema is
`ModelCardSchema` in libs/models/src/manifest/model-card.ts: change both.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Sequence

from .common import LABELS, Sample

CARD_VERSION = 1


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def calibration(y_true: Sequence[int], prob_male: Sequence[float], bins: int) -> dict[str, Any]:
    """Reliability of the top-1 confidence, equal-width bins over [0.5, 1]; ECE = sum(n_b/N |acc_b - conf_b|)."""
    n = len(y_true)
    edges = [0.5 + 0.5 * i / bins for i in range(bins + 1)]
    out = []
    ece = 0.0
    for b in range(bins):
        lo, hi = edges[b], edges[b + 1]
        members = []
        for y, p in zip(y_true, prob_male):
            conf = max(p, 1 - p)
            if lo <= conf < hi or (b == bins - 1 and conf == hi):
                members.append((int(p >= 0.5) == y, conf))
        count = len(members)
        mean_conf = sum(c for _, c in members) / count if count else None
        acc = sum(1 for ok, _ in members if ok) / count if count else None
        if count:
            ece += count / n * abs(acc - mean_conf)  # type: ignore[operator]
        out.append({"lower": lo, "upper": hi, "count": count, "meanConfidence": mean_conf, "accuracy": acc})
    return {"ece": ece, "bins": out}


def build_card(
    y_true: Sequence[int],
    prob_male: Sequence[float],
    samples: Sequence[Sample],
    *,
    threshold: float,
    unknown_margin: float,
    bins: int,
    data: dict[str, Any],
    model: dict[str, Any],
) -> dict[str, Any]:
    n = len(y_true)
    if n == 0 or n != len(prob_male) or n != len(samples):
        raise ValueError("build_card needs one probability and one sample per label")
    y_pred = [int(p >= threshold) for p in prob_male]
    cm = [[0, 0], [0, 0]]
    for y, p in zip(y_true, y_pred):
        cm[y][p] += 1
    per_class = {}
    for c, label in enumerate(LABELS):
        tp = cm[c][c]
        fp = cm[1 - c][c]
        fn = cm[c][1 - c]
        precision, recall, f1 = _prf(tp, fp, fn)
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": cm[c][0] + cm[c][1]}
    correct = sum(1 for y, p in zip(y_true, y_pred) if y == p)

    decided = [(y, p) for y, p, pm in zip(y_true, y_pred, prob_male) if abs(pm - 0.5) >= unknown_margin]
    # Per-group accuracy: each attribute splits the images in two; a group the model fails must show.
    groups: dict[tuple[str, bool], list[int]] = defaultdict(lambda: [0, 0])
    for s, y, p in zip(samples, y_true, y_pred):
        for name, value in s.attrs:
            g = groups[(name, value)]
            g[0] += 1
            g[1] += int(y == p)
    by_group = [
        {"attribute": name, "value": value, "count": count, "accuracy": ok / count}
        for (name, value), (count, ok) in sorted(groups.items(), key=lambda kv: (kv[0][0], not kv[0][1]))
    ]
    return {
        "cardVersion": CARD_VERSION,
        "model": model,
        "data": {**data, "images": n},
        "measuredAt": datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accuracy": correct / n,
        "perClass": per_class,
        "confusionMatrix": {"labels": list(LABELS), "rowsTrueColumnsPredicted": cm},
        "calibration": calibration(y_true, prob_male, bins),
        "decision": {
            "threshold": threshold,
            "unknownMargin": unknown_margin,
            "decidedShare": len(decided) / n,
            "accuracyWhenDecided": (sum(1 for y, p in decided if y == p) / len(decided)) if decided else None,
        },
        "groups": by_group,
    }


def render(card: dict[str, Any]) -> str:
    """The card as text for the terminal."""
    lines = [
        f"Model card: {card['model']['name']} {card['model']['version']} on {card['data']['images']} images "
        f"({card['data']['source']}, split {card['data']['split']})",
        f"Accuracy: {card['accuracy']:.4f}",
        "",
        f"{'class':<8} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}",
    ]
    for label, m in card["perClass"].items():
        lines.append(f"{label:<8} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} {m['support']:>8}")
    cm = card["confusionMatrix"]["rowsTrueColumnsPredicted"]
    lines += ["", "Confusion matrix (rows true, columns predicted; female, male):", f"  {cm[0]}", f"  {cm[1]}", ""]
    cal = card["calibration"]
    lines.append(f"Calibration: ECE {cal['ece']:.4f}")
    for b in cal["bins"]:
        if b["count"]:
            lines.append(f"  confidence [{b['lower']:.2f}, {b['upper']:.2f}): n={b['count']:<6} mean conf {b['meanConfidence']:.3f}  accuracy {b['accuracy']:.3f}")
    d = card["decision"]
    when = "n/a" if d["accuracyWhenDecided"] is None else f"{d['accuracyWhenDecided']:.4f}"
    lines += [
        "",
        f"Decision: P(male) >= {d['threshold']}; unknown when |P(male) - 0.5| < {d['unknownMargin']}: "
        f"decided {d['decidedShare']:.3f} of images, accuracy when decided {when}",
    ]
    if card["groups"]:
        lines += ["", f"{'group':<22} {'count':>6} {'accuracy':>8}"]
        for g in card["groups"]:
            name = f"{g['attribute']}={'yes' if g['value'] else 'no'}"
            lines.append(f"{name:<22} {g['count']:>6} {g['accuracy']:>8.3f}")
    else:
        lines += ["", "Groups: the data carries no CelebA attributes (female/ male/ folders): no per-group accuracy"]
    return "\n".join(lines) + "\n"
