#!/usr/bin/env python3
"""Re-run Meta's predictor against a goldens directory written by make_goldens.py and compare every tensor.

Checks: checkpoint.pt and checkpoint.safetensors hold identical tensors; the PNGs load to the recorded sizes; every
encoder/case tensor is reproduced (max |diff| <= --atol + --rtol*max|ref|). Also an example of how to consume
the manifest. Usage: tools/.venv/bin/python tools/reference/verify_goldens.py Tests/Goldens/micro
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens as mg  # noqa: E402
import sam2cfg  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--atol", type=float, default=1e-5)
    ap.add_argument("--rtol", type=float, default=1e-5)
    a = ap.parse_args(argv)
    from PIL import Image
    from safetensors.torch import load_file

    d = a.dir
    man = json.load(open(os.path.join(d, "manifest.json")))
    spec = sam2cfg.load_spec(os.path.join(d, man["config_file"]))
    model = sam2cfg.build_model(spec)
    ck = man["checkpoint"]
    sd = torch.load(os.path.join(d, ck.get("pt", "checkpoint.pt")), map_location="cpu", weights_only=True)["model"]
    if "safetensors" in ck:
        st = load_file(os.path.join(d, ck["safetensors"]))
        assert st.keys() == sd.keys() and all(torch.equal(st[k], sd[k]) for k in sd), "pt != safetensors"
    model.load_state_dict(sd, strict=True)
    model.eval()
    pred = sam2cfg.make_predictor(model)
    rec = mg.Recorder()
    mg.install_hooks(model, rec)

    worst = 0.0
    bad = []

    def cmp(file, got):
        nonlocal worst
        ref = load_file(os.path.join(d, file))
        for k, r in ref.items():
            g = got[k]
            assert tuple(g.shape) == tuple(r.shape) and g.dtype == r.dtype, (file, k, g.shape, r.shape)
            if r.dtype == torch.uint8:
                diff = float((g != r).float().mean())  # fraction of differing mask pixels
                ok = diff <= 1e-3
            else:
                diff = float((g.double() - r.double()).abs().max()) if r.numel() else 0.0
                ok = diff <= a.atol + a.rtol * float(r.abs().max())
            worst = max(worst, diff)
            if not ok:
                bad.append((file, k, diff))

    with torch.no_grad():
        g = man["image_size"] // 4
        const = {"trunk.pos_embed": model.image_encoder.trunk._get_pos_embed((g, g)),
                 "prompt_encoder.dense_pe": model.sam_prompt_encoder.get_dense_pe()}
    cmp(man["constants"]["file"], const)
    images = {}
    results = {}
    for im in man["images"]:
        img = np.asarray(Image.open(os.path.join(d, im["file"])).convert("RGB"))
        assert img.shape[:2] == (im["height"], im["width"])
        images[im["name"]] = img
    for im in man["images"]:
        n = im["name"]
        rec.take()
        pred.set_image(images[n])
        enc = rec.take()
        enc["image_embed"] = pred._features["image_embed"]
        cmp(im["encoder"], enc)
        for c in man["cases"]:
            if c["image"] != n:
                continue
            case = dict(c)
            case["full_logits"] = "output.mask_logits" in c["tensors"]
            t = mg.run_case(pred, rec, case, images, results)
            results[c["name"]] = t
            cmp(c["file"], t)
    print(json.dumps({"dir": d, "cases": len(man["cases"]), "worst_abs_diff": worst, "failures": bad[:20]}))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
