#!/usr/bin/env python3
"""Reference tensors ("goldens") of the SAM2Refiner modules and of the refined predictor, CPU fp32.

For a config with a `refiner` object (default configs/micro-refiner.json) + seed: writes the seeded checkpoint
(make_checkpoint.py: Meta's tensors + refiner.*), loads it, and for local_views 0 AND 4 runs refiner.RefinedPredictor
on photos, recording LA, PR and MR inputs/outputs and the end-to-end outputs. Output directory:

  manifest.json                 every file and tensor with shape, dtype, layout; prompts; selection info
  config.json                   the JSON model config (its refiner.local_views is overridden per lv{n} directory)
  checkpoint.pt / .safetensors  seeded weights, official layout {"model": state_dict}
  images/<image>.png            exactly the RGB uint8 image given to set_image
  constants.safetensors         input-independent tensors (LA sine PEs)
  <image>/image.safetensors     encoder outputs the refiner reads (same for every local_views)
  lv<n>/<image>/la.safetensors  local maps Lloc2, Lloc0 and LA output G' (plus each LA layer's output)
  lv<n>/<image>/<case>.safetensors   PR / decoder / MR / predictor tensors for one prompt

Spatial maps are stored CHANNELS-LAST without a batch dimension ([h, w, c], the runtime's layout); masks are
[M, h, w] (M = returned masks); tokens [N, C]. tools/reference/README.md lists the tensors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_checkpoint  # noqa: E402
import make_goldens as mg  # noqa: E402
import refiner  # noqa: E402
import sam2cfg  # noqa: E402

FORMAT_VERSION = 1
LOCAL_VIEWS = (0, 4)
IMAGES = ("astronaut", "chelsea")


def hwc(x: torch.Tensor) -> torch.Tensor:
    """[1, c, h, w] -> [h, w, c] (channels-last, batch dropped)."""
    assert x.dim() == 4 and x.shape[0] == 1, tuple(x.shape)
    return x[0].permute(1, 2, 0).contiguous()


def masks_mhw(x: torch.Tensor) -> torch.Tensor:
    """[1, M, h, w] -> [M, h, w]."""
    assert x.dim() == 4 and x.shape[0] == 1, tuple(x.shape)
    return x[0].contiguous()


# ------------------------------------------------------------------------------------------------------------ cases
def case_list(images: dict) -> list[dict]:
    """Prompts as fractions of (W, H) -> integer pixels of the actual image (make_goldens.px). `mr` cases also store
    the PR and MR module tensors; the others only the end-to-end outputs."""
    px = mg.px
    at = {"astronaut": dict(pt=(0.45, 0.25), neg=(0.85, 0.12), box=((0.30, 0.05), (0.62, 0.45))),
          "chelsea": dict(pt=(0.40, 0.45), neg=(0.85, 0.15), box=((0.20, 0.10), (0.75, 0.90)))}
    out = []
    for n in IMAGES:
        if n not in images:
            continue
        img, a = images[n], at[n]
        p, q = px(img, *a["pt"]), px(img, *a["neg"])
        box = px(img, *a["box"][0]) + px(img, *a["box"][1])
        out += [
            dict(name="pt_single", image=n, point_coords=[p], point_labels=[1], box=None, multimask_output=False,
                 mr=False, note="single positive click, multimask off (stability rule)"),
            dict(name="pt_neg", image=n, point_coords=[p, q], point_labels=[1, 0], box=None, multimask_output=False,
                 mr=True, note="positive + negative click, multimask off: PR on a multi-point prompt, MR"),
            dict(name="box", image=n, point_coords=None, point_labels=None, box=box, multimask_output=False, mr=True,
                 note="box only (corners labels 2,3 + padding token), multimask off: PR on a box prompt, MR"),
            dict(name="pt_multi", image=n, point_coords=[p], point_labels=[1], box=None, multimask_output=True,
                 mr=False, note="single positive click, multimask on: MR on each of the 3 masks"),
        ]
    return out


# ------------------------------------------------------------------------------------------------------------ layouts
LAYOUT = {
    "I": "[S, S, 3] channels-last: normalized input image the encoder saw (= micro goldens' `input`, NHWC)",
    "G": "[H, H, C] channels-last: image embedding = FPN level 2 + no_mem_embed (decoder input without refiner)",
    "feat_s0": "[L, L, C/8] channels-last: conv_s0(FPN level 0)",
    "feat_s1": "[2H, 2H, C/4] channels-last: conv_s1(FPN level 1)",
    "Lloc2": "[2H, 2H, C] channels-last: local_views 0: FPN level 1 before conv_s1; 4: stitched quadrant level-2 "
             "maps (without no_mem_embed)",
    "Lloc0": "[2L, 2L, C/8] channels-last: local_views 0: up2(feat_s0); 4: stitched quadrant feat_s0",
    "la.layer.": "[H, H, C] channels-last: G tokens after LA layer i (the last one is G_prime)",
    "G_prime": "[H, H, C] channels-last: LA output, replaces the image embedding in the decoder and PR",
    "pe.G": "[H, H, C] channels-last: sinePE(H), the LA query PE",
    "pe.L": "[2H, 2H, C] channels-last: sinePE(2H), the LA key PE",
    "prompt.coords": "[N, 2] (x, y) model-frame pixels (x*S/W, y*S/H) before the prompt encoder's +0.5; order: box "
                     "corners, clicks, padding token (coordinate 0, unused)",
    "prompt.labels": "[N] int32: 1 pos, 0 neg, 2/3 box corners, -1 padding",
    "pr.sparse_in": "[N, C]: prompt-encoder sparse tokens (PR input)",
    "pr.f": "[N, C]: grid_sample of G_prime at each token (rows of label -1 are not used)",
    "pr.f_loc": "[N, C]: grid_sample of Lloc2 at each token (rows of label -1 are not used)",
    "pr.sparse_out": "[N, C]: PR output = decoder sparse input",
    "decoder.iou_raw": "[4]: sigmoid IoU of the 4 mask tokens (decoder run on G_prime, refined tokens)",
    "decoder.stability_score": "[1]: token-0 stability #(l>0.05)/#(l>-0.05)",
    "mr.U": "[L, L, C/8] channels-last: decoder upscaled embedding act2(dc2(...) + feat_s0)",
    "mr.M0": "[M, L, L]: selected decoder logits, unclamped (MR input; one MR run per mask)",
    "mr.M1": "[M, L, L]: MR stage-1 logits",
    "mr.M2": "[M, 2L, 2L]: MR stage-2 logits",
    "mr.M3": "[M, S, S]: MR stage-3 logits (final logits before the resize to the original size)",
    "output.masks": "[M, h, w] uint8 0/1: bilinear(M3 -> original h x w, align_corners=False) > 0",
    "output.iou": "[M]: decoder IoU of the returned masks",
    "output.low_res_logits": "[M, L, L]: clamp(M0, -32, 32) (the predictor's low-res output, --logits-out)",
}


def tensor_table(tensors: dict) -> dict:
    return mg.tensor_table(tensors, LAYOUT.items())


# ------------------------------------------------------------------------------------------------------------ compute
def constants(model) -> dict:
    C, H = model.refiner.C, model.image_size // 16
    return {"pe.G": refiner.sine_pe(C, H).permute(1, 2, 0).contiguous(),
            "pe.L": refiner.sine_pe(C, 2 * H).permute(1, 2, 0).contiguous()}


def image_tensors(pred) -> dict:
    r = pred.ref
    return {"I": hwc(r["I"]), "G": hwc(r["image_embed"]), "feat_s0": hwc(r["feat_s0"]),
            "feat_s1": hwc(r["feat_s1"])}


def la_tensors(pred) -> dict:
    """Local maps and LA; the per-layer outputs are recomputed from the cached inputs with hooks."""
    r, la = pred.ref, pred.model.refiner.la
    cap, hs = {}, []
    H = r["image_embed"].shape[-1]
    for i, layer in enumerate(la.layers):
        hs.append(layer.register_forward_hook(
            lambda m, a, o, i=i: cap.__setitem__(i, refiner.unwindow_tokens(o, 1, H, la.window))))
    try:
        with torch.no_grad():
            G_prime = la(r["image_embed"], r["Lloc2"])
    finally:
        for h in hs:
            h.remove()
    assert torch.equal(G_prime, r["G_prime"])
    t = {"Lloc2": hwc(r["Lloc2"]), "Lloc0": hwc(r["Lloc0"])}
    t.update({f"la.layer.{i}": hwc(cap[i]) for i in range(len(la.layers))})
    t["G_prime"] = hwc(G_prime)
    return t


def case_tensors(pred, c: dict) -> tuple[dict, dict]:
    pts = np.array(c["point_coords"], dtype=np.float32) if c["point_coords"] else None
    lbl = np.array(c["point_labels"], dtype=np.int32) if c["point_labels"] else None
    box = np.array(c["box"], dtype=np.float32) if c["box"] else None
    d = pred.predict_detailed(point_coords=pts, point_labels=lbl, box=box, multimask_output=c["multimask_output"])
    r, S = pred.ref, pred.model.image_size
    dec = pred.model.sam_mask_decoder
    stab = dec._get_stability_scores(d["masks_raw"][:, 0:1])
    t = {"prompt.coords": d["coords"][0].float().contiguous(), "prompt.labels": d["labels"][0].to(torch.int32),
         "pr.sparse_in": d["sparse"][0].contiguous()}
    if c["mr"]:
        t["pr.f"] = refiner.sample_points(r["G_prime"], d["coords"], S)[0].contiguous()
        t["pr.f_loc"] = refiner.sample_points(r["Lloc2"], d["coords"], S)[0].contiguous()
    t["pr.sparse_out"] = d["sparse_refined"][0].contiguous()
    t["decoder.iou_raw"] = d["iou_raw"][0].contiguous()
    t["decoder.stability_score"] = stab[0].reshape(1).contiguous()
    if c["mr"]:
        t["mr.U"] = hwc(d["U"])
        for k in ("M0", "M1", "M2", "M3"):
            t[f"mr.{k}"] = masks_mhw(d[k])
    t["output.masks"] = masks_mhw(d["masks"]).to(torch.uint8)
    t["output.iou"] = d["iou"][0].contiguous()
    t["output.low_res_logits"] = masks_mhw(d["low_res_logits"])
    l0 = d["masks_raw"][0, 0]
    delta, thr = dec.dynamic_multimask_stability_delta, dec.dynamic_multimask_stability_thresh
    s = float(stab.flatten()[0])  # Meta's rule on token 0 of the decoder run on G' and the refined tokens
    info = {
        "num_masks": int(t["output.iou"].shape[0]),
        "stability_score_token0": s,
        # nearest token-0 logit to the band edges +-delta: a port whose logits move less cannot change the selection
        "stability_band_margin": float(torch.minimum((l0 - delta).abs(), (l0 + delta).abs()).min()),
        "stability_counts": mg._stab_counts({"decoder.masks_raw": d["masks_raw"]}, pred.model),
        "selection": ("multimask: tokens 1-3" if c["multimask_output"] else
                      ("stability: token 0 (stable)" if s >= thr else
                       "stability: IoU-argmax of tokens 1-3 (unstable token 0)")),
        "iou": [float(x) for x in t["output.iou"]],
        # fraction of final-mask pixels whose logit is within 1e-3 of 0 (may flip in a port)
        "mask_logit_near_zero_fraction": float((d["mask_logits"].abs() < 1e-3).float().mean()),
    }
    return t, info


def quadrant_rects(h: int, w: int) -> list[dict]:
    h0, w0 = h // 2, w // 2
    return [{"quadrant": q, "rows": list(r), "cols": list(cc)} for q, (r, cc) in
            zip(("top-left", "top-right", "bottom-left", "bottom-right"),
                [((0, h0), (0, w0)), ((0, h0), (w0, w)), ((h0, h), (0, w0)), ((h0, h), (w0, w))])]


def run_all(model, images: dict, cases: list[dict]):
    """Yields (relative file, tensors, manifest info) for every golden file; shared with verify_refiner_goldens."""
    yield "constants.safetensors", constants(model), {"kind": "constants"}
    for lv in LOCAL_VIEWS:
        pred = refiner.RefinedPredictor(model, local_views=lv)
        for n, img in images.items():
            pred.set_image(img)
            if lv == LOCAL_VIEWS[0]:
                yield f"{n}/image.safetensors", image_tensors(pred), {"kind": "image", "image": n}
            yield f"lv{lv}/{n}/la.safetensors", la_tensors(pred), {"kind": "la", "image": n, "local_views": lv}
            for c in cases:
                if c["image"] == n:
                    t, info = case_tensors(pred, c)
                    yield f"lv{lv}/{n}/{c['name']}.safetensors", t, {"kind": "case", "case": c, "local_views": lv,
                                                                     **info}


def build(spec: dict, ck_pt: str):
    model = sam2cfg.build_model(spec)
    sd = torch.load(ck_pt, map_location="cpu", weights_only=True)["model"]
    model.load_state_dict(sd, strict=True)
    model.eval()
    return model, sd


# ------------------------------------------------------------------------------------------------------------ main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="micro-refiner", help="config name or JSON path (must have `refiner`)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--photo-max", type=int, default=160, help="longer side of the photos (PIL LANCZOS)")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    t0 = time.time()
    spec = sam2cfg.load_spec(a.config)
    if spec.get("refiner") is None:
        raise SystemExit(f"error: {a.config}: config has no `refiner` object")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")
    ck_pt, ck_st = os.path.join(a.out, "checkpoint.pt"), os.path.join(a.out, "checkpoint.safetensors")
    make_checkpoint.make(spec, a.seed, ck_pt, ck_st, verify=False)
    model, sd = build(spec, ck_pt)
    S = spec["image_size"]

    photos = mg.load_photos(a.photo_max, list(IMAGES))
    images, man_images = {}, []
    for n in IMAGES:
        images[n] = mg.save_png(photos[n], os.path.join(a.out, "images", f"{n}.png"))
        h, w = images[n].shape[:2]
        man_images.append({"name": n, "file": f"images/{n}.png", "height": h, "width": w,
                           "source": f"skimage.data.{n}, LANCZOS-resized to longer side {a.photo_max}",
                           "image_file": f"{n}/image.safetensors", "quadrants": quadrant_rects(h, w)})
    cases = case_list(images)

    files, man_cases, la_files, total = {}, [], [], 0
    for rel, t, info in run_all(model, images, cases):
        path = os.path.join(a.out, rel)
        # own storage per tensor: several are views of one result (e.g. output.iou of decoder.iou_raw)
        t = {k: v.detach().clone().contiguous() for k, v in t.items()}
        mg.save_st(t, path, {"file": rel})
        total += os.path.getsize(path)
        files[rel] = tensor_table(t)
        if info["kind"] == "la":
            la_files.append({"file": rel, "image": info["image"], "local_views": info["local_views"]})
        elif info["kind"] == "case":
            c = info["case"]
            e = {k: c[k] for k in ("name", "image", "point_coords", "point_labels", "box", "multimask_output",
                                   "note")}
            e.update({"local_views": info["local_views"], "file": rel, "module_tensors": c["mr"],
                      "la_file": f"lv{info['local_views']}/{c['image']}/la.safetensors",
                      "image_file": f"{c['image']}/image.safetensors"})
            e.update({k: v for k, v in info.items() if k not in ("kind", "case", "local_views")})
            man_cases.append(e)

    r = model.refiner.cfg
    manifest = {
        "format": FORMAT_VERSION,
        "generator": {"tool": "tools/reference/make_refiner_goldens.py", "torch": torch.__version__,
                      "sam2": mg._sam2_version(), "device": "cpu", "dtype": "float32",
                      "command": " ".join(["make_refiner_goldens.py"] + (argv if argv is not None else sys.argv[1:]))},
        "definition": "docs/refiner.md",
        "config": spec["name"], "config_file": "config.json", "image_size": S, "embedding_size": S // 16,
        "low_res_size": S // 4, "d_model": spec["neck"]["d_model"], "seed": a.seed,
        "refiner": r,
        "local_views": list(LOCAL_VIEWS),
        "local_views_note": "config.json has refiner.local_views = %d; the lv<n> directories are computed with the "
                            "same weights and local_views = n" % r["local_views"],
        "checkpoint": {"pt": "checkpoint.pt", "safetensors": "checkpoint.safetensors",
                       "pt_sha256": mg.sha256(ck_pt), "safetensors_sha256": mg.sha256(ck_st), "tensors": len(sd),
                       "refiner_tensors": sum(k.startswith("refiner.") for k in sd),
                       "elements": int(sum(v.numel() for v in sd.values())),
                       "note": "Meta's tensors are bit-identical to Tests/Goldens/micro/checkpoint.* (same seed, "
                               "per-name generators)"},
        "layout": "channels-last [h, w, c] without batch dimension for every spatial map; masks [M, h, w]; tokens "
                  "[N, C]; float32 row-major, masks uint8, labels int32",
        "preprocess": {"resize": "torchvision Resize((S,S)) on the float tensor: bilinear, antialias=True",
                       "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                       "quadrants": "local_views 4: each quadrant (rows/cols in images[].quadrants, cut at h//2, "
                                    "w//2) is preprocessed like a full image and encoded; maps stitched TL,TR/BL,BR"},
        "mask_threshold": 0.0,
        "constants": "constants.safetensors",
        "images": man_images, "la": la_files, "cases": man_cases,
        "files": files, "layouts": LAYOUT,
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(json.dumps({"out": a.out, "files": len(files), "cases": len(man_cases), "tensor_bytes": total,
                      "seconds": round(time.time() - t0, 1)}))


if __name__ == "__main__":
    main()
