#!/usr/bin/env python3
"""Writes the fixed evaluation sets of the demo model (synthetic scenes from synth.py, seeds disjoint from training):

  DIR/heldout/<name>.png          96 scenes, 256-480 px per side, never square
  DIR/heldout/masks/<name>.png    ground truth of the prompted object, 0/255 (its visible pixels)
  DIR/heldout/prompts.json        exactly one prompt per image, the runtime's prompt-file schema
                                  (Sources/SAM2RQuant/Prompts.swift): {"<name>.png": [{"points": [[x, y, label], ...]}
                                  or [{"box": [x0, y0, x1, y1]}]}, original-image pixels (x = column, y = row;
                                  label 1 positive, 0 negative; box x1/y1 exclusive). Prompt kinds cycle through
                                  1 positive click / 2-3 clicks (the last one negative with p 0.7) / box.
  DIR/calib/<name>.png            8 calibration scenes for `sam2r calibrate` (other seed, no prompts: the runtime's
                                  seeded default prompts apply)
  DIR/image.png, DIR/click.txt    the demo scene and one positive click "X,Y" on its target

Validation sets for choosing between trained models (select_model.py) come from the same generator with other
seeds (VALIDATION_SEEDS), so the held-out set never takes part in a choice.

Every file is written to a temporary name and renamed. Usage: make_sets.py --out demo
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402

HELDOUT_SEED, CALIB_SEED, DEMO_SEED = 1001, 2002, 3003   # training uses seed 0 (train.py --seed)
VALIDATION_SEEDS = (5005, 6006)                           # model selection only (select_model.py)
MIN_TARGET_AREA = 0.015   # held-out targets cover >= 1.5 % of the image: big enough to judge a mask by
KINDS = ("click", "clicks", "box")


def write_png(path: str, arr: np.ndarray) -> None:
    tmp = path + ".tmp.png"
    Image.fromarray(arr).save(tmp, optimize=True)
    os.replace(tmp, path)


def write_text(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def scene_size(rng, lo: int, hi: int) -> tuple[int, int]:
    while True:
        h, w = int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))
        if abs(h - w) >= 32:
            return h, w


def pick_scene(pool, seed: int, index: int, lo: int, hi: int):
    """Scene `index` of a set: the first seed offset whose scene has a target big enough (deterministic)."""
    for attempt in range(100):
        rng = synth.scene_rng(seed, index * 100 + attempt)
        h, w = scene_size(rng, lo, hi)
        sc = synth.make_scene(rng, h, w, pool)
        ok = [i for i in synth.valid_targets(sc) if sc.masks[i].sum() >= MIN_TARGET_AREA * h * w]
        if ok:
            return rng, sc, ok[int(rng.integers(len(ok)))]
    raise RuntimeError(f"no usable scene for seed {seed} index {index}")


def write_prompted_set(pool, out_dir: str, seed: int, n: int, prefix: str) -> None:
    """n scenes with one prompt each: <prefix>_NN.png, masks/, prompts.json, contents.json. Scene i depends on
    (seed, i) only, so a larger n extends a set without changing its first scenes."""
    os.makedirs(os.path.join(out_dir, "masks"), exist_ok=True)
    prompts, kinds = {}, {}
    for i in range(n):
        rng, sc, t = pick_scene(pool, seed, i, 256, 480)
        name = f"{prefix}_{i:02d}.png"
        kind = KINDS[i % 3]
        prompts[name] = [synth.sample_prompt(rng, sc.masks[t], kind)]
        kinds[name] = {"kind": kind, "shape": sc.kinds[t], "size": list(sc.image.shape[:2])}
        write_png(os.path.join(out_dir, name), sc.image)
        write_png(os.path.join(out_dir, "masks", name), sc.masks[t].astype(np.uint8) * 255)
    write_text(os.path.join(out_dir, "prompts.json"), json.dumps(prompts, indent=1, sort_keys=True) + "\n")
    write_text(os.path.join(out_dir, "contents.json"), json.dumps(kinds, indent=1, sort_keys=True) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="demo")
    ap.add_argument("--heldout", type=int, default=96)
    ap.add_argument("--calib", type=int, default=8)
    a = ap.parse_args(argv)
    pool = synth.Pool()
    write_prompted_set(pool, os.path.join(a.out, "heldout"), HELDOUT_SEED, a.heldout, "heldout")

    cd = os.path.join(a.out, "calib")
    os.makedirs(cd, exist_ok=True)
    for i in range(a.calib):
        _, sc, _ = pick_scene(pool, CALIB_SEED, i, 256, 480)
        write_png(os.path.join(cd, f"calib_{i:02d}.png"), sc.image)

    rng, sc, t = pick_scene(pool, DEMO_SEED, 0, 360, 480)
    p = synth.sample_prompt(rng, sc.masks[t], "click")["points"][0]
    write_png(os.path.join(a.out, "image.png"), sc.image)
    write_png(os.path.join(a.out, "image_mask.png"), sc.masks[t].astype(np.uint8) * 255)
    write_text(os.path.join(a.out, "click.txt"), f"{p[0]},{p[1]}\n")
    print(json.dumps({"heldout": a.heldout, "calib": a.calib, "demo_click": p[:2], "demo_size": sc.image.shape[:2]}))


if __name__ == "__main__":
    main()
