"""Golden preprocessing values: what torchvision's eval transform makes of a few images.

    python -m crowdlens_tools.golden --out golden.json img1.png img2.png ...
    python -m crowdlens_tools.golden --make-images DIR --out golden.json     # synthetic PNGs of awkward sizes too

For each image: the tensor shape, the first --head values, every --stride-th
value over the whole tensor, and its sum, all from
`Resize(224) + CenterCrop(224) + ToTensor() + Normalize(ImageNet)` on the
PIL image. libs/models/src/preprocess/torchvision-preprocess.ts must
reproduce them within 1e-3. Use lossless PNGs: two JPEG decoders may not
agree to the last bit, and that is not what is being tested.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import eval_transform, write_json

# Sizes chosen to exercise every branch: identity (224x224), CelebA's 178x218
# (upscale, portrait, odd crop offset), downscale landscape, extreme aspect,
# and sizes whose centre crop offset is a .5 (Python rounds half to even:
# 200x205 -> 224x229, offset round(2.5) = 2; 224x225 is not resized, offset round(0.5) = 0).
SYNTHETIC_SIZES = ((224, 224), (178, 218), (640, 427), (300, 120), (97, 131), (200, 205), (224, 225))


def make_images(folder: Path) -> list[Path]:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(1234)
    paths = []
    for w, h in SYNTHETIC_SIZES:
        yy, xx = np.mgrid[0:h, 0:w]
        base = np.stack([xx * 255 / max(w - 1, 1), yy * 255 / max(h - 1, 1), (xx + yy) * 127 / max(w + h - 2, 1)], -1)
        arr = np.clip(base + rng.randint(-40, 41, (h, w, 3)), 0, 255).astype(np.uint8)
        path = folder / f"synthetic-{w}x{h}.png"
        Image.fromarray(arr, "RGB").save(path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="crowdlens_tools.golden", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="*", help="PNG files")
    p.add_argument("--make-images", help="also write synthetic PNGs of awkward sizes into this folder and include them")
    p.add_argument("--out", required=True)
    p.add_argument("--head", type=int, default=256, help="leading values recorded per image")
    p.add_argument("--stride", type=int, default=97, help="record every n-th value of the whole tensor")
    args = p.parse_args(argv)

    import PIL
    import torch
    import torchvision
    from PIL import Image

    paths = [Path(x) for x in args.images]
    if args.make_images:
        paths += make_images(Path(args.make_images))
    if not paths:
        p.error("give images or --make-images")
    transform = eval_transform()
    entries = []
    for path in paths:
        with Image.open(path) as im:
            rgb = im.convert("RGB")
            t = transform(rgb)
        flat = t.reshape(-1)
        entries.append(
            {
                "file": str(path.resolve()),
                "width": rgb.width,
                "height": rgb.height,
                "shape": list(t.shape),
                "head": [float(v) for v in flat[: args.head]],
                "stride": args.stride,
                "strided": [float(v) for v in flat[:: args.stride]],
                "sum": float(flat.double().sum()),
            }
        )
    write_json(
        args.out,
        {
            "transform": repr(transform),
            "versions": {"torch": str(torch.__version__), "torchvision": torchvision.__version__, "pillow": PIL.__version__},
            "images": entries,
        },
    )
    print(f"wrote golden values for {len(entries)} images to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
