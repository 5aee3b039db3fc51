#!/usr/bin/env python3
"""Accuracy of int8 attention alone, simulated in PyTorch: Hiera's global-attention blocks (the ones with 4096
tokens at 1024²) get sam2r's int8 attention quantization (Kernels/include/sam2r_attention_s8.h: per-token
symmetric int8 Q and K, per-channel int8 V, P = round(exp(s - max) * (2^bits - 1))), everything else stays fp32.
Prints the image-embedding SQNR against the fp32 model per photo.

    tools/.venv/bin/python tools/bench/attention_int8_sim.py --checkpoint out/reference/tiny/checkpoint.pt \\
        --config tiny --images out/photos/heldout
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import sam2cfg  # noqa: E402
import sam2.modeling.backbones.hieradet as hieradet  # noqa: E402

GLOBAL_TOKENS = 4096


def quant_sym(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Symmetric int8 along `dim` (scale = max|x| / 127), returned dequantized."""
    s = x.abs().amax(dim=dim, keepdim=True).clamp_min(1e-30) / 127
    return torch.round(x / s).clamp(-127, 127) * s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--images", required=True)
    ap.add_argument("--p-bits", type=int, default=7, help="bits of the quantized probabilities (sam2r: 7)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = sam2cfg.build_model(a.config)
    model.load_state_dict(torch.load(a.checkpoint, map_location="cpu")["model"], strict=False)
    model.eval()
    pred = sam2cfg.make_predictor(model)
    fp32_sdpa = F.scaled_dot_product_attention
    state = {"int8": False}

    def sdpa(q, k, v, *args, **kw):
        if not state["int8"] or q.shape[-2] < GLOBAL_TOKENS:
            return fp32_sdpa(q, k, v, *args, **kw)
        s = (quant_sym(q, -1) @ quant_sym(k, -1).transpose(-1, -2)) * q.shape[-1] ** -0.5
        levels = 2 ** a.p_bits - 1
        p = torch.round(torch.exp(s - s.amax(-1, keepdim=True)) * levels)
        return (p @ quant_sym(v, -2)) / p.sum(-1, keepdim=True)

    hieradet.F.scaled_dot_product_attention = sdpa
    for name in sorted(os.listdir(a.images)):
        if not name.lower().endswith((".png", ".jpg", ".jpeg")):
            continue
        img = np.asarray(Image.open(os.path.join(a.images, name)).convert("RGB"))
        emb = []
        for on in (False, True):
            state["int8"] = on
            with torch.no_grad():
                pred.set_image(img)
            emb.append(pred._features["image_embed"].numpy().copy())
        ref, q = emb
        print(f"{name}: image-embedding SQNR {10 * np.log10((ref ** 2).sum() / ((ref - q) ** 2).sum()):.1f} dB")


if __name__ == "__main__":
    main()
