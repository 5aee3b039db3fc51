#!/usr/bin/env python3
"""Check a refiner goldens directory written by make_refiner_goldens.py.

1. checkpoint.pt and checkpoint.safetensors hold identical tensors and load strictly into the config's model.
2. Recompute: the refined predictor runs again from the PNGs and every stored tensor must be reproduced
   (max |diff| <= --atol + --rtol * max|ref|; uint8 masks: differing fraction <= --mask-frac).
3. Module by module from the STORED inputs (the way a port consumes the goldens; channels-last -> NCHW here):
   LA(G, Lloc2) = G', PR(pr.sparse_in, prompt.coords, prompt.labels, G', Lloc2) = pr.sparse_out,
   MR(mr.M0, mr.U, feat_s0, Lloc0, I) = mr.M1..M3, bilinear(M3 -> h x w) > 0 = output.masks,
   clamp(M0, +-32) = output.low_res_logits, and for local_views 0: Lloc0 = up2(feat_s0).
4. Definition: LA written out window by window / head by head, and PR's bilinear sampling + MLP token by token,
   straight from docs/refiner.md on the stored tensors (independent of refiner.py's batched code).
Usage: tools/.venv/bin/python tools/reference/verify_refiner_goldens.py Tests/Goldens/refiner-micro
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_refiner_goldens as mrg  # noqa: E402
import refiner  # noqa: E402
import sam2cfg  # noqa: E402


def nchw(x: torch.Tensor) -> torch.Tensor:
    """Stored [h, w, c] -> [1, c, h, w]."""
    return x.permute(2, 0, 1)[None].contiguous()


class Checker:
    def __init__(self, atol, rtol, mask_frac):
        self.atol, self.rtol, self.mask_frac = atol, rtol, mask_frac
        self.worst, self.bad, self.count = 0.0, [], 0

    def __call__(self, where: str, name: str, got: torch.Tensor, ref: torch.Tensor):
        self.count += 1
        if tuple(got.shape) != tuple(ref.shape) or got.dtype != ref.dtype:
            self.bad.append((where, name, f"shape/dtype {tuple(got.shape)} {got.dtype} != {tuple(ref.shape)} "
                                          f"{ref.dtype}"))
            return
        if ref.dtype in (torch.uint8, torch.bool):
            diff = float((got != ref).float().mean()) if ref.numel() else 0.0
            ok = diff <= self.mask_frac
        elif not ref.is_floating_point():
            diff = float((got != ref).sum())
            ok = diff == 0
        else:
            diff = float((got.double() - ref.double()).abs().max()) if ref.numel() else 0.0
            ok = diff <= self.atol + self.rtol * float(ref.abs().max())
            self.worst = max(self.worst, diff)
        if not ok:
            self.bad.append((where, name, diff))


def check_modules(model, d: str, man: dict, chk: Checker):
    from safetensors.torch import load_file

    R, S = model.refiner, man["image_size"]
    img = {im["name"]: load_file(os.path.join(d, im["image_file"])) for im in man["images"]}
    hw = {im["name"]: (im["height"], im["width"]) for im in man["images"]}
    la = {(e["local_views"], e["image"]): load_file(os.path.join(d, e["file"])) for e in man["la"]}
    with torch.no_grad():
        for (lv, n), t in la.items():
            where = f"modules lv{lv}/{n}/la"
            chk(where, "G_prime", mrg.hwc(R.la(nchw(img[n]["G"]), nchw(t["Lloc2"]))), t["G_prime"])
            if lv == 0:
                chk(where, "Lloc0", mrg.hwc(refiner.up2(nchw(img[n]["feat_s0"]))), t["Lloc0"])
        for c in man["cases"]:
            lv, n = c["local_views"], c["image"]
            t = load_file(os.path.join(d, c["file"]))
            where = f"modules {c['file']}"
            L = la[(lv, n)]
            sp = R.pr(t["pr.sparse_in"][None], t["prompt.coords"][None], t["prompt.labels"][None],
                      nchw(L["G_prime"]), nchw(L["Lloc2"]), S)
            chk(where, "pr.sparse_out", sp[0], t["pr.sparse_out"])
            if "mr.M0" not in t:   # end-to-end-only case: covered by the recompute
                continue
            chk(where, "output.low_res_logits", torch.clamp(t["mr.M0"], -32.0, 32.0), t["output.low_res_logits"])
            M = t["mr.M0"].shape[0]
            outs = R.mr(t["mr.M0"][:, None], nchw(t["mr.U"]).expand(M, -1, -1, -1),
                        nchw(img[n]["feat_s0"]).expand(M, -1, -1, -1), nchw(L["Lloc0"]).expand(M, -1, -1, -1),
                        nchw(img[n]["I"]).expand(M, -1, -1, -1))
            for k, o in zip(("mr.M1", "mr.M2", "mr.M3"), outs):
                chk(where, k, o[:, 0].contiguous(), t[k])
            masks = F.interpolate(t["mr.M3"][None], hw[n], mode="bilinear", align_corners=False)[0] > 0
            chk(where, "output.masks", masks.to(torch.uint8), t["output.masks"])


def naive_la(R, G: torch.Tensor, L2: torch.Tensor, pe_g: torch.Tensor, pe_l: torch.Tensor) -> torch.Tensor:
    """docs/refiner.md's LA written out window by window and head by head on channels-last maps (no shared code
    with refiner.LocalizationAugment beyond its weights)."""
    H, C = G.shape[0], G.shape[2]
    w, la = R.la.window, R.la
    out = G.clone()
    for a in range(H // w):
        for b in range(H // w):
            x = G[a * w:(a + 1) * w, b * w:(b + 1) * w].reshape(-1, C)
            lw = L2[2 * a * w:2 * (a + 1) * w, 2 * b * w:2 * (b + 1) * w].reshape(-1, C)
            pg = pe_g[a * w:(a + 1) * w, b * w:(b + 1) * w].reshape(-1, C)
            pl = pe_l[2 * a * w:2 * (a + 1) * w, 2 * b * w:2 * (b + 1) * w].reshape(-1, C)
            for ly in la.layers:
                xn = F.layer_norm(x, (C,), ly.norm_q.weight, ly.norm_q.bias, 1e-6)
                ln = F.layer_norm(lw, (C,), ly.norm_kv.weight, ly.norm_kv.bias, 1e-6)
                at = ly.attn
                q, k, v = at.q_proj(xn + pg), at.k_proj(ln + pl), at.v_proj(ln)
                dh = C // at.heads
                heads = [torch.softmax(q[:, h * dh:(h + 1) * dh] @ k[:, h * dh:(h + 1) * dh].T / dh ** 0.5, -1)
                         @ v[:, h * dh:(h + 1) * dh] for h in range(at.heads)]
                x = x + at.out_proj(torch.cat(heads, 1))
                xf = F.layer_norm(x, (C,), ly.norm_ffn.weight, ly.norm_ffn.bias, 1e-6)
                x = x + ly.ffn.fc2(F.gelu(ly.ffn.fc1(xf)))
            out[a * w:(a + 1) * w, b * w:(b + 1) * w] = x.reshape(w, w, C)
    return out


def bilinear_at(m: torch.Tensor, x: float, y: float) -> torch.Tensor:
    """Channels-last map [h, w, c] at pixel-centre coordinates (x, y), zero outside (grid_sample zeros,
    align_corners=False)."""
    h, w, c = m.shape
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - x0, y - y0
    acc = torch.zeros(c, dtype=torch.float64)
    for yy, wy in ((y0, 1 - fy), (y0 + 1, fy)):
        for xx, wx in ((x0, 1 - fx), (x0 + 1, fx)):
            if 0 <= yy < h and 0 <= xx < w:
                acc += wy * wx * m[yy, xx].double()
    return acc.float()


def check_definition(model, d: str, man: dict, chk: Checker):
    """Independent re-implementations of LA and PR's sampling + MLP, run on the stored tensors."""
    from safetensors.torch import load_file

    R, S = model.refiner, man["image_size"]
    const = load_file(os.path.join(d, man["constants"]))
    img = {im["name"]: load_file(os.path.join(d, im["image_file"])) for im in man["images"]}
    la = {(e["local_views"], e["image"]): load_file(os.path.join(d, e["file"])) for e in man["la"]}
    with torch.no_grad():
        for (lv, n), t in la.items():
            chk(f"definition lv{lv}/{n}/la", "G_prime", naive_la(R, img[n]["G"], t["Lloc2"], const["pe.G"],
                                                                   const["pe.L"]), t["G_prime"])
        for c in man["cases"]:
            t = load_file(os.path.join(d, c["file"]))
            if "pr.f" not in t:
                continue
            L = la[(c["local_views"], c["image"])]
            where = f"definition {c['file']}"
            f, f_loc, s_out = t["pr.f"].clone(), t["pr.f_loc"].clone(), t["pr.sparse_in"].clone()
            for i, ((x, y), lab) in enumerate(zip(t["prompt.coords"].tolist(), t["prompt.labels"].tolist())):
                if lab < 0:
                    continue
                for m, dst in ((L["G_prime"], f), (L["Lloc2"], f_loc)):
                    n_side = m.shape[0]
                    dst[i] = bilinear_at(m, (x + 0.5) * n_side / S - 0.5, (y + 0.5) * n_side / S - 0.5)
                s = t["pr.sparse_in"][i]
                mlp = R.pr.mlp
                s_out[i] = s + mlp.fc2(F.gelu(mlp.fc1(torch.cat([s, f[i], f_loc[i]]))))
            chk(where, "pr.f", f, t["pr.f"])
            chk(where, "pr.f_loc", f_loc, t["pr.f_loc"])
            chk(where, "pr.sparse_out", s_out, t["pr.sparse_out"])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--atol", type=float, default=1e-5)
    ap.add_argument("--rtol", type=float, default=1e-5)
    ap.add_argument("--mask-frac", type=float, default=1e-3, help="allowed fraction of differing mask pixels")
    a = ap.parse_args(argv)
    from PIL import Image
    from safetensors.torch import load_file

    d = a.dir
    man = json.load(open(os.path.join(d, "manifest.json")))
    spec = sam2cfg.load_spec(os.path.join(d, man["config_file"]))
    ck = man["checkpoint"]
    model, sd = mrg.build(spec, os.path.join(d, ck["pt"]))
    st = load_file(os.path.join(d, ck["safetensors"]))
    assert st.keys() == sd.keys() and all(torch.equal(st[k], sd[k]) for k in sd), "checkpoint.pt != .safetensors"
    chk = Checker(a.atol, a.rtol, a.mask_frac)

    images = {}
    for im in man["images"]:
        img = np.asarray(Image.open(os.path.join(d, im["file"])).convert("RGB"))
        assert img.shape[:2] == (im["height"], im["width"]), im["file"]
        images[im["name"]] = img
    cases = [dict(c, mr=c["module_tensors"]) for c in man["cases"] if c["local_views"] == man["local_views"][0]]
    seen = set()
    for rel, got, _ in mrg.run_all(model, images, cases):
        seen.add(rel)
        ref = load_file(os.path.join(d, rel))
        if set(ref) != set(got):
            chk.bad.append((rel, "tensor names", sorted(set(ref) ^ set(got))))
        for k in ref.keys() & got.keys():
            chk(rel, k, got[k].contiguous(), ref[k])
    missing = set(man["files"]) - seen
    if missing:
        chk.bad.append(("manifest", "files not recomputed", sorted(missing)))
    check_modules(model, d, man, chk)
    check_definition(model, d, man, chk)
    print(json.dumps({"dir": d, "files": len(seen), "tensors_compared": chk.count, "worst_abs_diff": chk.worst,
                      "failures": chk.bad[:20]}))
    return 1 if chk.bad else 0


if __name__ == "__main__":
    sys.exit(main())
