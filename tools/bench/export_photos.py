#!/usr/bin/env python3
"""Exports scikit-image's bundled sample photos as RGB PNGs for calibration and held-out evaluation.

Deterministic: the photos ship with scikit-image (no download), grayscale ones are replicated to RGB,
RGBA drops alpha, and PNGs are written by Pillow without timestamps, so the same scikit-image version
gives the same bytes. Usage: export_photos.py OUT_DIR (writes OUT_DIR/calib and OUT_DIR/heldout).
"""
import os
import sys

import numpy as np
from PIL import Image
from skimage import data

SETS = {
    "calib": ["astronaut", "coffee", "chelsea", "rocket"],
    "heldout": ["hubble_deep_field", "immunohistochemistry", "motorcycle_left"],
}


def load(name: str) -> np.ndarray:
    # The motorcycle is the left view of skimage's stereo pair (bundled, no download).
    if name == "motorcycle_left":
        return data.stereo_motorcycle()[0]
    return getattr(data, name)()


def rgb8(a: np.ndarray) -> np.ndarray:
    if a.dtype != np.uint8:
        raise SystemExit(f"unexpected dtype {a.dtype}")
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    return np.ascontiguousarray(a[..., :3])


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: export_photos.py OUT_DIR")
    root = sys.argv[1]
    for subset, names in SETS.items():
        d = os.path.join(root, subset)
        os.makedirs(d, exist_ok=True)
        for name in names:
            path = os.path.join(d, name + ".png")
            tmp = path + ".tmp"
            Image.fromarray(rgb8(load(name))).save(tmp, format="PNG")
            os.replace(tmp, path)
            print(path)


if __name__ == "__main__":
    main()
