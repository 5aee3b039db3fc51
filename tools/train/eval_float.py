#!/usr/bin/env python3
"""Float (PyTorch fp32) accuracy of the demo model on the held-out set, with and without the refiner. Prints JSON.

    tools/.venv/bin/python tools/train/eval_float.py [--model demo/model] [--heldout demo/heldout]

For each image of prompts.json (one prompt per image) the mask is predicted with multimask_output=False, as
`sam2r run` does without --multimask, by:
- "plain":   Meta's SAM2ImagePredictor on the SAM2 weights alone (no LA, no PR; mask = the decoder's low-res logits
             bilinearly upsampled to the image, > 0) — the model without the refiner;
- "refined": tools/reference/refiner.py RefinedPredictor (LA -> PR -> decoder -> MR, > 0) — the model with it;
- "refined_no_mr": the refined decoder's low-res logits upsampled like "plain" (LA + PR only; isolates MR).
Metrics against masks/<name>: IoU and Boundary IoU (Cheng et al., CVPR 2021: IoU of the mask pixels within
distance d of each mask's contour, the image border counting as contour), d = 2 % of the image diagonal rounded
(at least 1 px). mIoU / mBIoU = means over the images.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import ndimage  # noqa: E402

BOUNDARY_FRACTION = 0.02


def iou(p: np.ndarray, g: np.ndarray) -> float:
    u = np.logical_or(p, g).sum()
    return float(np.logical_and(p, g).sum() / u) if u else 1.0


def inner_band(m: np.ndarray, d: int) -> np.ndarray:
    """Pixels of m within distance d of its contour (zero padding: the image border is contour)."""
    dist = ndimage.distance_transform_edt(np.pad(m, 1))[1:-1, 1:-1]
    return m & (dist <= d)


def boundary_iou(p: np.ndarray, g: np.ndarray) -> float:
    h, w = g.shape
    d = max(1, int(round(BOUNDARY_FRACTION * math.hypot(h, w))))
    return iou(inner_band(p, d), inner_band(g, d))


def load_model(model_dir: str):
    import sam2cfg
    from safetensors.torch import load_file

    with open(os.path.join(model_dir, "config.json")) as f:
        spec = json.load(f)
    model = sam2cfg.build_model(spec)
    model.load_state_dict(load_file(os.path.join(model_dir, "demo.safetensors")), strict=True)
    model.eval()
    return spec, model


def prompt_args(p: dict) -> dict:
    pts = p.get("points")
    box = p.get("box")
    return {"point_coords": np.array([q[:2] for q in pts], np.float32) if pts else None,
            "point_labels": np.array([q[2] if len(q) > 2 else 1 for q in pts], np.int32) if pts else None,
            "box": np.array(box, np.float32) if box else None}


@torch.no_grad()
def evaluate(model, heldout: str) -> dict:
    import refiner
    import sam2cfg

    with open(os.path.join(heldout, "prompts.json")) as f:
        prompts = json.load(f)
    plain = sam2cfg.make_predictor(model)
    refined = refiner.RefinedPredictor(model)
    rows = []
    for name in sorted(prompts):
        if len(prompts[name]) != 1:
            raise SystemExit(f"error: {heldout}/prompts.json: '{name}' must have exactly one prompt")
        img = np.asarray(Image.open(os.path.join(heldout, name)).convert("RGB"))
        gt = np.asarray(Image.open(os.path.join(heldout, "masks", name)).convert("L")) > 127
        kw = prompt_args(prompts[name][0])
        h, w = gt.shape
        plain.set_image(img)
        m_plain, s_plain, _ = plain.predict(**kw, multimask_output=False)
        refined.set_image(img)
        d = refined.predict_detailed(**kw, multimask_output=False)
        m_ref = d["masks"][0, 0].numpy()
        m_nomr = (F.interpolate(d["M0"][:, :1], (h, w), mode="bilinear", align_corners=False) > 0)[0, 0].numpy()
        row = {"image": name, "prompt": "box" if kw["box"] is not None else f"{len(kw['point_labels'])} click(s)"}
        for key, m in (("plain", m_plain[0] > 0), ("refined", m_ref), ("refined_no_mr", m_nomr)):
            row[key] = {"iou": round(iou(m, gt), 4), "biou": round(boundary_iou(m, gt), 4)}
        rows.append(row)

    def mean(key, metric):
        return round(float(np.mean([r[key][metric] for r in rows])), 4)

    out = {"images": len(rows), "boundary": f"Boundary IoU (Cheng et al. 2021), d = {BOUNDARY_FRACTION:.0%} of the "
                                             "image diagonal", "multimask_output": False}
    for key in ("plain", "refined", "refined_no_mr"):
        out[key] = {"miou": mean(key, "iou"), "mbiou": mean(key, "biou")}
    out["per_image"] = rows
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="demo/model", help="directory with config.json and demo.safetensors")
    ap.add_argument("--heldout", default="demo/heldout")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    for p in (os.path.join(a.model, "config.json"), os.path.join(a.model, "demo.safetensors"),
              os.path.join(a.heldout, "prompts.json")):
        if not os.path.exists(p):
            raise SystemExit(f"error: {p}: not found")
    _, model = load_model(a.model)
    print(json.dumps(evaluate(model, a.heldout), indent=1))


if __name__ == "__main__":
    main()
