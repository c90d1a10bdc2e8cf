"""Write a tiny synthetic CelebA-layout folder for tests and CI.

    python -m crowdlens_tools.make_tiny_celeba --out /tmp/tiny-celeba --count 40

Same files as the real dataset (img_align_celeba/*.jpg at 178x218,
list_attr_celeba.txt with its 40 attribute columns, list_eval_partition.txt)
so train.py and evaluate.py run unchanged. The images are coloured shapes,
not faces: "male" rows get squares, "female" rows circles, which gives a
briefly trained model something learnable. Two files are byte-identical
copies of others so the hash de-duplication has work to do. Never use it to
claim accuracy.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

# CelebA's attribute columns, in the official order.
ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair Blond_Hair "
    "Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones "
    "Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline "
    "Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick "
    "Wearing_Necklace Wearing_Necktie Young"
).split()
WIDTH, HEIGHT = 178, 218


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="crowdlens_tools.make_tiny_celeba", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=40, help="images, duplicates included")
    p.add_argument("--duplicates", type=int, default=2, help="how many of them are byte-identical copies")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.count < 4 or args.duplicates >= args.count // 2:
        p.error("need --count >= 4 and --duplicates < count/2")

    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.RandomState(args.seed)
    out = Path(args.out)
    img_dir = out / "img_align_celeba"
    if img_dir.exists():
        shutil.rmtree(img_dir)
    img_dir.mkdir(parents=True)

    rows = []
    partitions = []
    originals = args.count - args.duplicates
    for i in range(args.count):
        name = f"{i + 1:06d}.jpg"
        if i >= originals:  # a byte-identical copy of an earlier image, same label
            src = i - originals
            shutil.copyfile(img_dir / f"{src + 1:06d}.jpg", img_dir / name)
            male = rows[src][1]
        else:
            male = i % 2 == 1
            bg = tuple(int(v) for v in rng.randint(0, 256, 3))
            fg = tuple(int(v) for v in rng.randint(0, 256, 3))
            im = Image.new("RGB", (WIDTH, HEIGHT), bg)
            draw = ImageDraw.Draw(im)
            cx, cy = rng.randint(50, WIDTH - 50), rng.randint(60, HEIGHT - 60)
            r = rng.randint(25, 45)
            box = (cx - r, cy - r, cx + r, cy + r)
            if male:
                draw.rectangle(box, fill=fg)
            else:
                draw.ellipse(box, fill=fg)
            noise = rng.randint(-12, 13, (HEIGHT, WIDTH, 3))
            arr = np.clip(np.asarray(im, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(img_dir / name, quality=90)
        attrs = [int(v) for v in rng.choice([-1, 1], len(ATTRIBUTES))]
        attrs[ATTRIBUTES.index("Male")] = 1 if male else -1
        rows.append((name, male, attrs))
        partitions.append((name, 0 if i % 10 < 6 else 1 if i % 10 < 8 else 2))

    with open(out / "list_attr_celeba.txt", "w") as f:
        f.write(f"{len(rows)}\n{' '.join(ATTRIBUTES)}\n")
        for name, _, attrs in rows:
            f.write(name + "".join(f" {v:2d}" for v in attrs) + "\n")
    with open(out / "list_eval_partition.txt", "w") as f:
        for name, part in partitions:
            f.write(f"{name} {part}\n")
    print(f"wrote {len(rows)} images ({args.duplicates} duplicates) to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
