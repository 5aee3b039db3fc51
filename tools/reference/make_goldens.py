#!/usr/bin/env python3
"""Reference tensors ("goldens") from Meta's SAM2.1 image predictor, CPU fp32.

For a config + seed: writes a seeded checkpoint (make_checkpoint.py), loads it into Meta's model, runs
`SAM2ImagePredictor` on real photos (scikit-image) and records the input/outputs of every module on the image path
with forward hooks. Output directory:

  manifest.json                 everything below, with prompts, shapes, dtypes and layouts
  config.json                   the JSON model config used
  checkpoint.pt / .safetensors  seeded weights (official layout {"model": state_dict}); with --write-checkpoint
  images/<image>.png            exactly the RGB uint8 image given to the predictor
  constants.safetensors         input-independent tensors (trunk pos-embed, prompt-encoder dense PE)
  <image>/encoder.safetensors   preprocessed input + per-module encoder tensors for that image
  <image>/<case>.safetensors    prompt encoder / mask decoder / predictor outputs for one prompt set

See tools/reference/README.md for the tensor list and layouts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_checkpoint  # noqa: E402
import sam2cfg  # noqa: E402

FORMAT_VERSION = 1


# ----------------------------------------------------------------------------------------------------- images
def load_photos(max_side: int, names: list[str]) -> dict[str, np.ndarray]:
    """Photos from scikit-image. max_side > 0 downsizes with PIL LANCZOS so the longer side is max_side.
    `chelsea_crop` is a 72x96 crop of chelsea at native resolution (smaller than any model input: upsampling)."""
    from PIL import Image
    from skimage import data

    out = {}
    for n in names:
        if n == "chelsea_crop":
            out[n] = np.ascontiguousarray(data.chelsea()[100:172, 150:246, :3])
            continue
        img = getattr(data, n)()[..., :3]
        h, w = img.shape[:2]
        if max_side and max(h, w) > max_side:
            s = max_side / max(h, w)
            nw, nh = max(1, round(w * s)), max(1, round(h * s))
            img = np.asarray(Image.fromarray(img).resize((nw, nh), Image.LANCZOS))
        out[n] = np.ascontiguousarray(img)
    return out


def save_png(img: np.ndarray, path: str) -> np.ndarray:
    from PIL import Image

    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(img).save(path, optimize=True)
    back = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(back, img)
    return back


# ----------------------------------------------------------------------------------------------------- cases
# Prompts as fractions of (W, H); turned into integer pixel coordinates of the actual image.
def px(img, fx, fy):
    h, w = img.shape[:2]
    return [float(min(w - 1, round(fx * w))), float(min(h - 1, round(fy * h)))]


def case_list(images: dict) -> list[dict]:
    C = []

    def add(name, image, points=None, labels=None, box=None, multimask=True, mask_from=None, full_logits=False,
            note="", full=False):
        C.append(dict(name=name, image=image, point_coords=points, point_labels=labels, box=box,
                      multimask_output=multimask, mask_input_from=mask_from, full_logits=full_logits, note=note,
                      detail="full" if full else "e2e"))

    if "astronaut" in images:
        a = images["astronaut"]
        p = px(a, 0.45, 0.25)
        add("astronaut_pt_multi", "astronaut", [p], [1], multimask=True, note="single positive point, multimask",
            full=True)
        add("astronaut_pt_single", "astronaut", [p], [1], multimask=False, full_logits=True,
            note="single positive point, single mask (stability rule)")
        add("astronaut_pt_neg", "astronaut", [p, px(a, 0.85, 0.12)], [1, 0], multimask=False,
            note="positive + negative point")
        add("astronaut_box", "astronaut", box=px(a, 0.30, 0.05) + px(a, 0.62, 0.45), multimask=False,
            note="box only (two corner points labels 2,3 + padding point)")
        add("astronaut_box_multi", "astronaut", box=px(a, 0.30, 0.05) + px(a, 0.62, 0.45), multimask=True,
            note="box only, multimask")
        add("astronaut_box_pt", "astronaut", [px(a, 0.5, 0.7)], [1], box=px(a, 0.1, 0.3) + px(a, 0.9, 1.0),
            multimask=False, note="box + positive point (box corners first)", full=True)
        add("astronaut_mask_refine", "astronaut", [p, px(a, 0.85, 0.12)], [1, 0], multimask=False,
            mask_from="astronaut_pt_multi", full=True,
            note="points + mask input = best (IoU-argmax) clamped low-res logits of astronaut_pt_multi")
        add("astronaut_edge_pts", "astronaut", [[0.0, 0.0], px(a, 1.0, 1.0)], [1, 0], multimask=True,
            note="points at the image corners (0,0) and (W-1,H-1)")
    if "rocket" in images:
        r = images["rocket"]
        add("rocket_pt_multi", "rocket", [px(r, 0.52, 0.45)], [1], multimask=True, note="non-square image")
        add("rocket_box_pt", "rocket", [px(r, 0.5, 0.5)], [1], box=px(r, 0.3, 0.1) + px(r, 0.7, 0.95),
            multimask=False, full_logits=True, note="non-square image, box + point", full=True)
    if "coffee" in images:
        c = images["coffee"]
        add("coffee_pt_single", "coffee", [px(c, 0.6, 0.4)], [1], multimask=False, full_logits=True)
    if "chelsea" in images:
        c = images["chelsea"]
        add("chelsea_pt_multi", "chelsea", [px(c, 0.4, 0.45), px(c, 0.7, 0.6)], [1, 1], multimask=True,
            note="two positive points")
    if "chelsea_crop" in images:
        c = images["chelsea_crop"]
        add("chelsea_crop_pt_single", "chelsea_crop", [px(c, 0.5, 0.5)], [1], multimask=False, full_logits=True,
            note="image smaller than the model input (upsampling resize)")
    return C


# ----------------------------------------------------------------------------------------------------- hooks
class Recorder:
    def __init__(self):
        self.t: dict[str, torch.Tensor] = {}
        self.handles = []

    def put(self, name, x):
        self.t[name] = x.detach().clone().contiguous()

    def take(self):
        t, self.t = self.t, {}
        return t

    def out(self, mod, name):
        self.handles.append(mod.register_forward_hook(lambda m, i, o: self.put(name, o)))

    def close(self):
        for h in self.handles:
            h.remove()


def install_hooks(model, rec: Recorder):
    trunk = model.image_encoder.trunk
    neck = model.image_encoder.neck
    pe = model.sam_prompt_encoder
    dec = model.sam_mask_decoder

    model.image_encoder.register_forward_pre_hook(lambda m, a: rec.put("input", a[0]))
    rec.out(trunk.patch_embed, "trunk.patch_embed")
    trunk.blocks[0].register_forward_pre_hook(lambda m, a: rec.put("trunk.pos_added", a[0]))
    for i, b in enumerate(trunk.blocks):
        rec.out(b, f"trunk.block.{i}")
    n = len(neck.convs) - 1
    for j, c in enumerate(neck.convs):
        rec.out(c, f"neck.lateral.{n - j}")

    def neck_out(m, i, o):
        for lvl, f in enumerate(o[0]):
            rec.put(f"neck.fpn.{lvl}", f)
    neck.register_forward_hook(neck_out)
    if dec.use_high_res_features:
        rec.out(dec.conv_s0, "feat_s0")
        rec.out(dec.conv_s1, "feat_s1")

    def pe_in(m, args, kwargs):
        pts = kwargs.get("points")
        if pts is not None:
            rec.put("prompt.coords", pts[0].float())
            rec.put("prompt.labels", pts[1].to(torch.int32))
        if kwargs.get("masks") is not None:
            rec.put("prompt.mask_input", kwargs["masks"])
    pe.register_forward_pre_hook(pe_in, with_kwargs=True)

    def pe_out(m, i, o):
        rec.put("prompt_encoder.sparse", o[0])
        rec.put("prompt_encoder.dense", o[1])
    pe.register_forward_hook(pe_out)

    def tr_in(m, a):
        rec.put("decoder.src", a[0])
        rec.put("decoder.tokens", a[2])
    dec.transformer.register_forward_pre_hook(tr_in)
    for li, layer in enumerate(dec.transformer.layers):
        def lo(m, i, o, li=li):
            rec.put(f"transformer.layer.{li}.queries", o[0])
            rec.put(f"transformer.layer.{li}.keys", o[1])
        layer.register_forward_hook(lo)

    def tr_out(m, i, o):
        rec.put("transformer.queries", o[0])
        rec.put("transformer.keys", o[1])
    dec.transformer.register_forward_hook(tr_out)
    dc1, ln1, act1, dc2, act2 = dec.output_upscaling
    rec.out(dc1, "decoder.upscale.dc1")
    rec.out(act1, "decoder.upscale.stage1")
    rec.out(dc2, "decoder.upscale.dc2")
    rec.out(act2, "decoder.upscaled")
    for k, mlp in enumerate(dec.output_hypernetworks_mlps):
        rec.out(mlp, f"decoder.hyper.{k}")
    rec.out(dec.iou_prediction_head, "decoder.iou_raw")
    if dec.pred_obj_scores:
        rec.out(dec.pred_obj_score_head, "decoder.object_score")

    orig = dec.predict_masks

    def predict_masks(*a, **k):
        masks, iou, toks, obj = orig(*a, **k)
        rec.put("decoder.masks_raw", masks)
        rec.put("decoder.mask_tokens_out", toks)
        rec.put("decoder.stability_score", dec._get_stability_scores(masks[:, 0:1]))
        return masks, iou, toks, obj
    dec.predict_masks = predict_masks

    def dec_out(m, i, o):
        rec.put("decoder.low_res_selected", o[0])
        rec.put("decoder.iou_selected", o[1])
    dec.register_forward_hook(dec_out)


# ----------------------------------------------------------------------------------------------------- layouts
LAYOUT = [
    ("input", "NCHW: preprocessed image (uint8/255 -> antialiased bilinear resize to SxS -> normalize)"),
    ("trunk.patch_embed", "NHWC (channels-last, as Hiera keeps it): Conv 7x7 s4 p3 output"),
    ("trunk.pos_embed", "NHWC: bicubic(pos_embed -> S/4) + tiled pos_embed_window (input-independent)"),
    ("trunk.pos_added", "NHWC: patch_embed + pos_embed = input of block 0"),
    ("trunk.block.", "NHWC: output of Hiera block i"),
    ("neck.lateral.", "NCHW: 1x1 lateral conv of trunk stage i (level 0 = highest resolution); only stored for "
                      "top-down levels (others equal neck.fpn.i)"),
    ("neck.fpn.", "NCHW: FPN output level i before scalp (level 3 is discarded by scalp=1; 2 = image embedding "
                  "before no_mem_embed)"),
    ("feat_s0", "NCHW: mask_decoder.conv_s0(neck.fpn.0) = high_res_feats[0]"),
    ("feat_s1", "NCHW: mask_decoder.conv_s1(neck.fpn.1) = high_res_feats[1]"),
    ("image_embed", "NCHW: neck.fpn.2 + no_mem_embed (predictor._features['image_embed'])"),
    ("prompt.coords", "[B,N,2] (x,y) in model-input pixels (x*S/W, y*S/H); box corners first; before +0.5 and "
                      "before the padding point"),
    ("prompt.labels", "[B,N] int32: 1 pos, 0 neg, 2/3 box corners"),
    ("prompt.mask_input", "[B,1,4e,4e] low-res logits given as mask prompt"),
    ("prompt_encoder.sparse", "[B,N+1,C]: point embeddings incl. the appended padding point (label -1)"),
    ("prompt_encoder.dense", "NCHW [B,C,e,e]: no_mask_embed broadcast, or mask_downscaling(mask_input)"),
    ("prompt_encoder.dense_pe", "NCHW [1,C,e,e]: get_dense_pe() (input-independent)"),
    ("decoder.tokens", "[B,T,C]: [obj_score, iou, mask x4, sparse...] = transformer queries in / query PE"),
    ("decoder.src", "NCHW [B,C,e,e]: image_embed + dense"),
    ("transformer.layer.", "queries [B,T,C] / keys [B,e*e,C] after two-way block i"),
    ("transformer.queries", "[B,T,C]: after the final token-to-image attention + LayerNorm"),
    ("transformer.keys", "[B,e*e,C] (row-major over the e x e grid)"),
    ("decoder.upscale.dc1", "NCHW [B,C/4,2e,2e]: ConvTranspose #1 output (before + feat_s1)"),
    ("decoder.upscale.stage1", "NCHW [B,C/4,2e,2e]: GELU(LN2d(dc1 + feat_s1))"),
    ("decoder.upscale.dc2", "NCHW [B,C/8,4e,4e]: ConvTranspose #2 output (before + feat_s0)"),
    ("decoder.upscaled", "NCHW [B,C/8,4e,4e]: GELU(dc2 + feat_s0)"),
    ("decoder.hyper.", "[B,C/8]: hypernetwork MLP k on mask token k"),
    ("decoder.iou_raw", "[B,4]: sigmoid(IoU head) for all 4 mask tokens"),
    ("decoder.object_score", "[B,1]: object-score logit (not used by the image predictor)"),
    ("decoder.masks_raw", "[B,4,4e,4e]: low-res logits of all 4 mask tokens"),
    ("decoder.mask_tokens_out", "[B,4,C]: mask tokens after the transformer"),
    ("decoder.stability_score", "[B,1]: stability of token 0 = #(l>0.05)/#(l>-0.05)"),
    ("decoder.low_res_selected", "[B,M,4e,4e]: after multimask (tokens 1-3) / stability selection, unclamped"),
    ("decoder.iou_selected", "[B,M]"),
    ("output.low_res_logits", "[M,4e,4e]: predictor output, clamped to [-32,32]"),
    ("output.iou", "[M]: predictor output"),
    ("output.masks", "[M,H,W] uint8 (0/1): bilinear(align_corners=False) upsample of low_res_selected to the "
                     "original H x W, > 0"),
    ("output.mask_logits", "[M,H,W] f32: the same upsampled logits before the threshold"),
]


def layout_of(name, table=LAYOUT):
    """Layout text of a tensor name; `table` holds (name or prefix ending in ".", text) pairs."""
    for k, v in table:
        if name == k or (k.endswith(".") and name.startswith(k)):
            return v
    return ""


def tensor_table(tensors: dict, table=LAYOUT) -> dict:
    return {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""), "layout": layout_of(k, table)}
            for k, v in tensors.items()}


def save_st(tensors: dict, path: str, meta: dict | None = None):
    from safetensors.torch import save_file

    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, path,
              metadata={"json": json.dumps(meta or {})})


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------------- main run
ENCODER_E2E = {"input", "feat_s0", "feat_s1", "image_embed"}
CASE_E2E = {"prompt.coords", "prompt.labels", "prompt.mask_input", "prompt_encoder.sparse",
            "decoder.masks_raw", "decoder.iou_raw", "decoder.stability_score", "decoder.low_res_selected",
            "decoder.iou_selected", "output.low_res_logits", "output.iou", "output.masks", "output.mask_logits"}


def run_case(pred, rec, c, images, results):
    img = images[c["image"]]
    mask_input = None
    if c["mask_input_from"]:
        prev = results[c["mask_input_from"]]
        best = int(torch.argmax(prev["output.iou"]))
        mask_input = prev["output.low_res_logits"][best:best + 1].numpy()
    pts = np.array(c["point_coords"], dtype=np.float32) if c["point_coords"] else None
    lbl = np.array(c["point_labels"], dtype=np.int32) if c["point_labels"] else None
    box = np.array(c["box"], dtype=np.float32) if c["box"] else None
    rec.take()
    logits, iou, low = pred.predict(point_coords=pts, point_labels=lbl, box=box, mask_input=mask_input,
                                    multimask_output=c["multimask_output"], return_logits=True)
    t = rec.take()
    hyper = [t.pop(f"decoder.hyper.{k}") for k in range(4)]
    t["decoder.hyper_in"] = torch.stack(hyper, dim=1).contiguous()
    t["output.low_res_logits"] = torch.from_numpy(low).contiguous()
    t["output.iou"] = torch.from_numpy(iou).contiguous()
    lg = torch.from_numpy(logits).contiguous()
    t["output.masks"] = (lg > pred.mask_threshold).to(torch.uint8)
    if c["full_logits"]:
        t["output.mask_logits"] = lg
    if c.get("detail", "e2e") != "full":
        t = {k: v for k, v in t.items() if k in CASE_E2E}
    h, w = img.shape[:2]
    assert t["output.masks"].shape[-2:] == (h, w)
    return t


def find_stability_cases(pred, rec, images, order, grid=10):
    """Scan single positive clicks (multimask off) until one point switches to tokens 1-3 and one does not; pick
    the ones farthest from the 0.98 threshold so that small numeric differences cannot flip them."""
    thr = pred.model.sam_mask_decoder.dynamic_multimask_stability_thresh
    best_sw, best_keep = None, None
    for name in order:
        img = images[name]
        for fy in np.linspace(0.05, 0.95, grid):
            for fx in np.linspace(0.05, 0.95, grid):
                p = px(img, fx, fy)
                rec.take()
                pred.predict(point_coords=np.array([p], np.float32), point_labels=np.array([1], np.int32),
                             multimask_output=False, return_logits=True)
                s = float(rec.take()["decoder.stability_score"].flatten()[0])
                if s < thr and (best_sw is None or s < best_sw[2]):
                    best_sw = (name, p, s)
                if s >= thr and (best_keep is None or s > best_keep[2]):
                    best_keep = (name, p, s)
        if best_sw and best_keep:
            break
    return best_sw, best_keep, thr


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="tiny|small|base-plus|large|micro or a JSON path")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--write-checkpoint", action="store_true",
                    help="write checkpoint.pt/.safetensors into --out (else --checkpoint is read)")
    ap.add_argument("--checkpoint", help="existing .pt to use instead of writing one")
    ap.add_argument("--photo-max", type=int, default=None,
                    help="downsize photos so the longer side is this (0: native size). Default: 160 when "
                         "image_size <= 256, else 0")
    ap.add_argument("--images", default="astronaut,rocket,coffee,chelsea,chelsea_crop")
    ap.add_argument("--full-images", default=None,
                    help="images that get every per-module encoder tensor (others: input + features only). "
                         "Default: astronaut")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    t0 = time.time()

    spec = sam2cfg.load_spec(a.config)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")
    S = spec["image_size"]
    photo_max = a.photo_max if a.photo_max is not None else (160 if S <= 256 else 0)
    full_images = (a.full_images or "astronaut").split(",")

    ck_pt = a.checkpoint or os.path.join(a.out, "checkpoint.pt")
    ckpt_info = {}
    if a.write_checkpoint:
        ck_st = os.path.join(a.out, "checkpoint.safetensors")
        make_checkpoint.make(spec, a.seed, ck_pt, ck_st, verify=False)
        ckpt_info = {"pt": "checkpoint.pt", "safetensors": "checkpoint.safetensors",
                     "pt_sha256": sha256(ck_pt), "safetensors_sha256": sha256(ck_st)}
    model = sam2cfg.build_model(spec)
    sd = torch.load(ck_pt, map_location="cpu", weights_only=True)["model"]
    model.load_state_dict(sd, strict=True)  # as Meta's _load_checkpoint
    ckpt_info.update({"tensors": len(sd), "elements": int(sum(v.numel() for v in sd.values())),
                      "seed": a.seed})
    model.eval()
    pred = sam2cfg.make_predictor(model)
    rec = Recorder()
    install_hooks(model, rec)

    names = [n for n in a.images.split(",") if n]
    photos = load_photos(photo_max, names)
    images = {}
    man_images = []
    for n in names:
        path = os.path.join(a.out, "images", f"{n}.png")
        images[n] = save_png(photos[n], path)
        man_images.append({"name": n, "file": f"images/{n}.png", "height": int(images[n].shape[0]),
                           "width": int(images[n].shape[1]),
                           "source": f"skimage.data.{n if n != 'chelsea_crop' else 'chelsea()[100:172,150:246]'}"
                                     + (f", LANCZOS-resized to longer side {photo_max}"
                                        if photo_max and n != "chelsea_crop" else "")})

    # constants
    with torch.no_grad():
        g = S // 4
        const = {"trunk.pos_embed": model.image_encoder.trunk._get_pos_embed((g, g)).contiguous(),
                 "prompt_encoder.dense_pe": model.sam_prompt_encoder.get_dense_pe().contiguous()}
    save_st(const, os.path.join(a.out, "constants.safetensors"))

    cases = case_list(images)
    by_image: dict[str, list] = {}
    for c in cases:
        by_image.setdefault(c["image"], []).append(c)

    # stability search (decoder only, per image embedding)
    order = [n for n in ["astronaut", "coffee", "chelsea", "rocket", "chelsea_crop"] if n in images]
    results, man_cases = {}, []
    stab = None
    for n in order:
        rec.take()
        pred.set_image(images[n])
        enc = rec.take()
        enc["image_embed"] = pred._features["image_embed"].contiguous()
        # lateral-only FPN levels are identical to their lateral conv output: keep one copy
        for lvl in range(4):
            if f"neck.lateral.{lvl}" in enc and torch.equal(enc[f"neck.lateral.{lvl}"], enc.get(f"neck.fpn.{lvl}")):
                del enc[f"neck.lateral.{lvl}"]
        detail = "full" if n in full_images else "e2e"
        if detail == "e2e":
            enc = {k: v for k, v in enc.items() if k in ENCODER_E2E}
        fname = f"{n}/encoder.safetensors"
        save_st(enc, os.path.join(a.out, fname), {"image": n})
        for mi in man_images:
            if mi["name"] == n:
                mi.update({"encoder": fname, "detail": detail, "tensors": tensor_table(enc)})
        todo = list(by_image.get(n, []))
        if stab is None:
            grid = 10 if S <= 256 else 6
            sw, keep, thr = find_stability_cases(pred, rec, {n: images[n]}, [n], grid)
            if sw and keep:
                stab = (sw, keep)
                todo.append(dict(name="stability_switch", image=n, point_coords=[sw[1]], point_labels=[1], box=None,
                                 multimask_output=False, mask_input_from=None, full_logits=True, detail="full",
                                 note=f"single click whose token-0 stability {sw[2]:.4f} < {thr}: output is the "
                                      f"IoU-argmax of tokens 1-3 (searched on a {grid}x{grid} grid, lowest score)"))
                todo.append(dict(name="stability_keep", image=n, point_coords=[keep[1]], point_labels=[1], box=None,
                                 multimask_output=False, mask_input_from=None, full_logits=False, detail="e2e",
                                 note=f"single click whose token-0 stability {keep[2]:.4f} >= {thr}: output is "
                                      f"token 0 (searched on a {grid}x{grid} grid, highest score)"))
        for c in todo:
            t = run_case(pred, rec, c, images, results)
            results[c["name"]] = t
            s = float(t["decoder.stability_score"].flatten()[0])
            thr = model.sam_mask_decoder.dynamic_multimask_stability_thresh
            entry = dict(c)
            entry.pop("full_logits")
            entry.update({
                "file": f"{n}/{c['name']}.safetensors",
                "image_height": int(images[n].shape[0]), "image_width": int(images[n].shape[1]),
                "num_masks": int(t["output.iou"].shape[0]),
                "stability_score_token0": s,
                # how far the nearest token-0 logit is from the band edges +-delta: a port whose logits differ by
                # less than this cannot change the stability score
                "stability_band_margin": float(torch.minimum(
                    (t["decoder.masks_raw"][0, 0] - model.sam_mask_decoder.dynamic_multimask_stability_delta).abs(),
                    (t["decoder.masks_raw"][0, 0] + model.sam_mask_decoder.dynamic_multimask_stability_delta).abs()
                ).min()) if "decoder.masks_raw" in t else None,
                "stability_counts": _stab_counts(t, model),
                "selection": ("multimask: tokens 1-3" if c["multimask_output"] else
                              ("stability: token 0 (stable)" if s >= thr else
                               "stability: IoU-argmax of tokens 1-3 (unstable token 0)")),
                "iou": [float(x) for x in t["output.iou"]],
                "tensors": tensor_table(t),
            })
            save_st(t, os.path.join(a.out, entry["file"]), {k: entry[k] for k in ("name", "image", "note")})
            man_cases.append(entry)

    manifest = {
        "format": FORMAT_VERSION,
        "generator": {"tool": "tools/reference/make_goldens.py", "torch": torch.__version__,
                      "sam2": _sam2_version(), "device": "cpu", "dtype": "float32",
                      "command": " ".join(["make_goldens.py"] + (argv if argv is not None else sys.argv[1:]))},
        "config": spec["name"], "config_file": "config.json", "image_size": S,
        "embedding_size": S // 16, "seed": a.seed, "checkpoint": ckpt_info,
        "geometry": sam2cfg.describe(model),
        "stage_outputs": {str(i): f"trunk.block.{b}" for i, b in enumerate(model.image_encoder.trunk.stage_ends)},
        "stage_outputs_note": "Hiera returns stage outputs permuted to NCHW; the goldens keep the block outputs "
                              "in NHWC (same values)",
        "constants": {"file": "constants.safetensors", "tensors": tensor_table(const)},
        "preprocess": {"resize": "torchvision Resize((S,S)) on the float tensor: bilinear, antialias=True",
                       "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
        "mask_threshold": pred.mask_threshold,
        "images": man_images, "cases": man_cases,
        "layouts": dict(LAYOUT),
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(json.dumps({"out": a.out, "images": len(man_images), "cases": len(man_cases),
                      "stability": stab and [stab[0][2], stab[1][2]], "seconds": round(time.time() - t0, 1)}))


def _stab_counts(t, model):
    """area_i = #(l > delta), area_u = #(l > -delta) of token 0, and how many single-pixel band flips it takes at
    least to move the stability score across the threshold (small = selection fragile under numeric noise)."""
    dec = model.sam_mask_decoder
    l0 = t["decoder.masks_raw"][0, 0]
    d, thr = dec.dynamic_multimask_stability_delta, dec.dynamic_multimask_stability_thresh
    ai, au = int((l0 > d).sum()), int((l0 > -d).sum())
    flips = int(abs(ai - thr * au) // 1) + 1 if au > 0 else None
    return {"area_i": ai, "area_u": au, "min_flips_to_cross": flips}


def _sam2_version():
    try:
        from importlib.metadata import version

        return version("sam2")
    except Exception:
        return "unknown"


if __name__ == "__main__":
    main()
