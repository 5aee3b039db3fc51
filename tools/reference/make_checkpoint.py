#!/usr/bin/env python3
"""Seeded SAM2.1 checkpoint in Meta's official layout.

Builds the model with Meta's code for a config (preset tiny/small/base-plus/large, `micro`, or a JSON file, see
docs/model-config.md) and replaces EVERY tensor of its state_dict (parameters and buffers) with values drawn from a
seeded generator. Meta's default init leaves pos-embeds, tokens and LayerNorms at 0/1, which would hide port bugs.

Each tensor gets its own torch.Generator seeded from sha256(f"{seed}:{name}"), so its values depend only on
(seed, name, shape) — not on the order or presence of other tensors. Draws (all normal, fp32):
  Linear / Conv weight       N(0, 1/fan_in)       fan_in = in/groups * kh * kw
  ConvTranspose weight       N(0, 1/(in*kh*kw/(sh*sw)))   (taps that reach one output pixel)
  any bias                   N(0, 0.02^2)
  LayerNorm / LayerNorm2d    weight 1 + N(0, 0.1^2), bias N(0, 0.05^2)
  nn.Embedding (tokens, point/not-a-point/no-mask embeds)   N(0, 1)   (PyTorch's own Embedding init)
  trunk pos_embed, pos_embed_window                          N(0, 0.5^2)  (patch-embed outputs are O(1))
  no_mem_embed, no_mem_pos_enc, no_obj_ptr, maskmem_tpos_enc, no_obj_embed_spatial   N(0, 0.5^2)
  positional_encoding_gaussian_matrix (random-Fourier PE)    N(0, 1)     (Meta's own scale=1 draw)
  anything else (none today)                                 N(0, 0.02^2)
  exception: the last layer of the 4 hypernetwork MLPs (sam_mask_decoder.output_hypernetworks_mlps.*.layers.2.weight)
  is drawn with std HYPER_GAIN/sqrt(fan_in * out/4) (out = d_model/8 = channels of the mask dot product), so mask
  logits reach trained-model magnitudes (|logit| ~ 10..80) for any width, and the stability rule (band +-0.05)
  goes both ways depending on the prompt instead of always rejecting (or always keeping) token 0.
A config with a `refiner` object (docs/refiner.md) builds the model with `refiner` attached (sam2cfg.build_model), so
the same rules draw its `refiner.{la,pr,mr}.*` tensors (Linear/Conv, biases, LayerNorm/LayerNorm2d; nothing zero,
norms near 1). Meta's tensors do not change: a refiner checkpoint holds the plain model's tensors bit for bit.
Output: torch.save({"model": state_dict}, out.pt) — loadable by Meta's build_sam2(..., ckpt_path=out.pt) — and
optionally the same tensors as out.safetensors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sam2cfg  # noqa: E402

HYPER_GAIN = 10.0
ONE_HALF = {"no_mem_embed", "no_mem_pos_enc", "no_obj_ptr", "maskmem_tpos_enc", "no_obj_embed_spatial",
            "pos_embed", "pos_embed_window"}


def _gen(seed: int, name: str) -> torch.Generator:
    h = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    g = torch.Generator(device="cpu")
    g.manual_seed(int.from_bytes(h[:8], "little") & ((1 << 63) - 1))
    return g


def _rule(model: nn.Module) -> dict:
    """name -> (kind, mean, std) for every state_dict entry."""
    from sam2.modeling.sam2_utils import LayerNorm2d

    rules = {}
    for mname, mod in model.named_modules():
        pre = f"{mname}." if mname else ""
        if isinstance(mod, (nn.Linear, nn.Conv2d)) and not isinstance(mod, nn.ConvTranspose2d):
            w = mod.weight
            fan_in = w.shape[1] * (w[0, 0].numel() if w.dim() > 2 else 1)
            rules[pre + "weight"] = (0.0, fan_in ** -0.5)
            if mod.bias is not None:
                rules[pre + "bias"] = (0.0, 0.02)
            if mname.startswith("sam_mask_decoder.output_hypernetworks_mlps.") and mname.endswith("layers.2"):
                rules[pre + "weight"] = (0.0, HYPER_GAIN * (fan_in * w.shape[0] / 4) ** -0.5)
        elif isinstance(mod, nn.ConvTranspose2d):
            w = mod.weight  # [in, out/groups, kh, kw]
            taps = w.shape[0] * w.shape[2] * w.shape[3] / (mod.stride[0] * mod.stride[1])
            rules[pre + "weight"] = (0.0, taps ** -0.5)
            if mod.bias is not None:
                rules[pre + "bias"] = (0.0, 0.02)
        elif isinstance(mod, (nn.LayerNorm, LayerNorm2d)):
            rules[pre + "weight"] = (1.0, 0.1)
            rules[pre + "bias"] = (0.0, 0.05)
        elif isinstance(mod, nn.Embedding):
            rules[pre + "weight"] = (0.0, 1.0)
    return rules


def seeded_state_dict(model: nn.Module, seed: int) -> dict:
    rules = _rule(model)
    out = {}
    for name, t in model.state_dict().items():
        leaf = name.rsplit(".", 1)[-1]
        if name in rules:
            mean, std = rules[name]
        elif leaf in ONE_HALF:
            mean, std = 0.0, 0.5
        elif leaf == "positional_encoding_gaussian_matrix":
            mean, std = 0.0, 1.0
        else:
            mean, std = 0.0, 0.02
        if not t.is_floating_point():
            out[name] = t.clone()
            continue
        v = torch.randn(t.shape, generator=_gen(seed, name), dtype=torch.float32) * std + mean
        out[name] = v.to(t.dtype).contiguous()
    return out


def make(config: str, seed: int, out_pt: str, out_st: str | None = None, verify: bool = True) -> dict:
    model = sam2cfg.build_model(config)
    sd = seeded_state_dict(model, seed)
    os.makedirs(os.path.dirname(os.path.abspath(out_pt)), exist_ok=True)
    torch.save({"model": sd}, out_pt)
    if out_st:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in sd.items()}, out_st,
                  # one metadata key: safetensors writes the metadata map in hash order, several keys would make
                  # the file bytes differ from run to run
                  metadata={"sam2r": json.dumps({"source": "tools/reference/make_checkpoint.py", "seed": seed,
                                                 "config": config if isinstance(config, str)
                                                 else config.get("name", "custom")}, sort_keys=True)})
    if verify:  # strict load, exactly like Meta's _load_checkpoint
        m2 = sam2cfg.build_model(config)
        ck = torch.load(out_pt, map_location="cpu", weights_only=True)["model"]
        missing, unexpected = m2.load_state_dict(ck, strict=True), None
        del missing, unexpected
    return sd


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="tiny|small|base-plus|large|micro or a JSON path")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="output .pt path")
    ap.add_argument("--safetensors", help="also write this .safetensors path")
    a = ap.parse_args(argv)
    sd = make(a.config, a.seed, a.out, a.safetensors)
    n = sum(v.numel() for v in sd.values())
    print(json.dumps({"out": a.out, "tensors": len(sd), "elements": n}))


if __name__ == "__main__":
    main()
