"""Differentiable batched forward of Meta's SAM2 image path + SAM2Refiner, for training.

The pieces are tools/reference/refiner.py's (`encode`, `local_maps`, `decode`, the refiner modules), i.e. Meta's
modules called the way SAM2ImagePredictor.set_image/_predict and RefinedPredictor call them. What training adds:
several images per batch with several prompts each (per-image features repeated per prompt, image-major), and both
paths from one encoder pass:
- plain: the SAM2 model alone (G, prompt tokens as they are) = what Meta's predictor computes;
- refined: LA -> PR -> decoder (with G') -> MR on the token-0 mask (the predictor's choice without multimask
  unless the stability test fails), for the first prompt of each image.
"""

from __future__ import annotations

import torch

import refiner as refmod  # tools/reference/refiner.py (train.py puts tools/reference on sys.path)


def _rep(t: torch.Tensor, k: int) -> torch.Tensor:
    return torch.repeat_interleave(t, k, dim=0)


def forward(model, img: torch.Tensor, coords: torch.Tensor, labels: torch.Tensor, k: int,
            with_refiner: bool, mr_images: int | None = None) -> dict:
    """img [B, 3, S, S] normalized; coords [B*k, P, 2] model-frame pixels, labels [B*k, P] (clicks 1/0 or box 2/3).
    Returns plain_masks [B*k, 4, L, L], plain_iou [B*k, 4] and, with the refiner, ref_masks, ref_iou and
    ref_full [B, 1, S, S] (MR's M3 for token 0 of prompts ref_full_index = the first of each image)."""
    S = img.shape[-1]
    f = refmod.encode(model, img)
    pe_mod = model.sam_prompt_encoder
    # boxes=None: the prompt encoder appends one padding point (label -1), exactly as in Meta's _predict
    sparse, dense = pe_mod(points=(coords, labels), boxes=None, masks=None)
    pe = pe_mod.get_dense_pe()
    hr = [_rep(f["feat_s0"], k), _rep(f["feat_s1"], k)]
    out = {}
    d = refmod.decode(model, _rep(f["image_embed"], k), pe, sparse, dense, hr, multimask_output=False)
    out["plain_masks"], out["plain_iou"] = d["masks_raw"], d["iou_raw"]
    if not with_refiner:
        return out
    ref = model.refiner
    maps = refmod.local_maps(model, f, None, ref.local_views)
    Gp = _rep(ref.la(f["image_embed"], maps["Lloc2"]), k)
    L2 = _rep(maps["Lloc2"], k)
    tok_coords = torch.cat([coords, torch.zeros_like(coords[:, :1])], 1)
    tok_labels = torch.cat([labels, -torch.ones_like(labels[:, :1])], 1)
    sparse_r = ref.pr(sparse, tok_coords, tok_labels, Gp, L2, S)
    d = refmod.decode(model, Gp, pe, sparse_r, dense, hr, multimask_output=False)
    out["ref_masks"], out["ref_iou"] = d["masks_raw"], d["iou_raw"]
    # MR on the first prompt of the first `mr_images` images only: at S x S it costs more than the rest of the step
    n = img.shape[0] if mr_images is None else min(mr_images, img.shape[0])
    sel = torch.arange(0, n * k, k)
    M1, M2, M3 = ref.mr(d["masks_raw"][sel, 0:1], d["U"][sel], hr[0][sel], maps["Lloc0"][:n], img[:n])
    out["ref_full"], out["ref_full_index"] = M3, sel
    out["ref_mid"] = (M1, M2)   # the cascade's L and 2L outputs (deep supervision)
    return out
