#!/usr/bin/env python3
"""Input size trade-off: `sam2r run` at two model input sizes on the same photos and prompts.

For each photo and prompt: runs the release CLI with a profile per size (--profile PATH, input_size from the
profile), records `set_image` / `predict` ms from --json and the child's CPU time (user+sys, less sensitive to a
loaded machine than wall time), and the IoU of the two sizes' masks (--mask-out, 0/255 PNG at image size).
Repeats each run --reps times (alternating sizes) and reports min and median.

  tools/.venv/bin/python tools/input-size/compare.py --sam2r .build-arm/release/sam2r \
      --checkpoint out/reference/tiny/checkpoint.safetensors --config tiny \
      --profile 1024=/tmp/x86-1024.json --profile 512=/tmp/x86-512.json \
      --images out/reference/tiny/images --out out/input-size
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess

import numpy as np
from PIL import Image

# (image, prompt args as fractions of W/H)
PROMPTS = [
    ("astronaut", "pt", [(0.45, 0.25)], None),
    ("astronaut", "box", [], (0.30, 0.05, 0.62, 0.45)),
    ("rocket", "pt", [(0.52, 0.45)], None),
    ("coffee", "pt", [(0.6, 0.4)], None),
    ("chelsea", "pt", [(0.4, 0.45)], None),
    ("chelsea", "box", [], (0.2, 0.1, 0.8, 0.9)),
]


def run(a, size, profile, img, w, h, pts, box, mask):
    cmd = [a.sam2r, "run", "--checkpoint", a.checkpoint, "--config", a.config, "--profile", profile, "--image", img,
           "--mask-out", mask, "--json"]
    for fx, fy in pts:
        cmd += ["--point", f"{min(w - 1, round(fx * w))},{min(h - 1, round(fy * h))}"]
    if box:
        b = [box[0] * w, box[1] * h, box[2] * w, box[3] * h]
        cmd += ["--box", ",".join(str(min(w if i % 2 == 0 else h, round(v))) for i, v in enumerate(b))]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    j = json.loads(out.strip().splitlines()[-1])
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return j["timings_ms"]["set_image"], j["timings_ms"]["predict"], cpu * 1e3, j


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sam2r", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--profile", action="append", required=True, help="SIZE=PATH (two of them)")
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    profiles = dict(p.split("=", 1) for p in a.profile)
    sizes = sorted(profiles, key=int, reverse=True)
    os.makedirs(a.out, exist_ok=True)
    times = {s: {"set_image": [], "predict": [], "cpu": []} for s in sizes}
    rows = []
    for name, kind, pts, box in PROMPTS:
        img = os.path.join(a.images, f"{name}.png")
        w, h = Image.open(img).size
        masks = {}
        first = True
        for rep in range(a.reps if kind == "pt" else 1):  # timings: one prompt per image repeated
            for s in (sizes if rep % 2 == 0 else sizes[::-1]):
                mask = os.path.join(a.out, f"{name}-{kind}-{s}.png")
                t_set, t_pred, cpu, j = run(a, s, profiles[s], img, w, h, pts, box, mask)
                assert j["input_size"] == int(s), j
                if kind == "pt":
                    times[s]["set_image"].append(t_set)
                    times[s]["predict"].append(t_pred)
                    times[s]["cpu"].append(cpu)
                masks[s] = np.asarray(Image.open(mask).convert("L")) > 127
            first = False
        m0, m1 = masks[sizes[0]], masks[sizes[1]]
        inter, union = int((m0 & m1).sum()), int((m0 | m1).sum())
        rows.append((name, f"{w}x{h}", kind, inter / union if union else 1.0, int(m0.sum()), int(m1.sum())))
    print(f"| photo | W x H | prompt | mask IoU {sizes[1]} vs {sizes[0]} | area@{sizes[0]} | area@{sizes[1]} |")
    print("|---|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} | {r[4]} | {r[5]} |")
    print()
    print("| input | runs | set_image ms min / median | predict ms median | process CPU ms median (user+sys) |")
    print("|---|---:|---|---:|---:|")
    for s in sizes:
        t = times[s]
        print(f"| {s}x{s} | {len(t['set_image'])} | {min(t['set_image']):.0f} / {statistics.median(t['set_image']):.0f} | "
              f"{statistics.median(t['predict']):.0f} | {statistics.median(t['cpu']):.0f} |")
    print(json.dumps({"times": times, "iou": rows}))


if __name__ == "__main__":
    main()
