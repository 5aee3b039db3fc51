#!/usr/bin/env python3
"""Goldens at reduced/other input sizes, from Meta's SAM2.1 image predictor (CPU fp32).

Two modes:

  micro (default)   The committed micro checkpoint (Tests/Goldens/micro/checkpoint.pt) with `image_size` changed to
                    each of --sizes (default 192,256,320). Nothing in the checkpoint depends on image_size: Hiera's
                    background pos-embed (window_pos_embed_bkg_spatial_size) is bicubic-interpolated to S/4 x S/4
                    and the window pos-embed tiled over it, exactly as hieradet.Hiera._get_pos_embed does. Writes a
                    small set (< 1 MB) to Tests/Goldens/micro-sizes/:

                      manifest.json                    sizes, images, cases, prompts, stability margins
                      <S>/config.json                  micro config with image_size S
                      <S>/constants.safetensors        trunk.pos_embed [1,S/4,S/4,C0] NHWC (the interpolation;
                                                       only --pos-sizes, default 192,256: size budget)
                      <S>/<image>.safetensors          image_embed [1,C,S/16,S/16] NCHW
                      <S>/<case>.safetensors           output.low_res_logits [M,S/4,S/4] (clamped +-32), output.iou
                                                       [M], output.masks [M,H,W] uint8 (single-mask cases)

                    Images are the committed PNGs of Tests/Goldens/micro/images (not copied).

  --tiny512         Full-size hiera-tiny (seeded checkpoint of `make check-tiny`, out/reference/tiny/checkpoint.pt)
                    at image_size 512 through tools/reference/make_goldens.py (same layout as the tiny goldens)
                    into out/reference/tiny-512 (astronaut + rocket, end-to-end tensors only).

Usage:
  tools/.venv/bin/python tools/reference/make_size_goldens.py                 # micro sizes -> Tests/Goldens/micro-sizes
  tools/.venv/bin/python tools/reference/make_size_goldens.py --tiny512       # -> out/reference/tiny-512
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import make_goldens  # noqa: E402
import sam2cfg  # noqa: E402

MICRO = os.path.join(ROOT, "Tests", "Goldens", "micro")


def px(img, fx, fy):
    return make_goldens.px(img, fx, fy)


def cases_for(images: dict) -> list[dict]:
    """Three cases: a click with multimask (tokens 1-3), a box and a box + click on the non-square image (single mask:
    stability rule)."""
    a, r = images["astronaut"], images["rocket"]
    return [
        dict(name="astronaut_pt_multi", image="astronaut", point_coords=[px(a, 0.45, 0.25)], point_labels=[1],
             box=None, multimask_output=True),
        dict(name="astronaut_box", image="astronaut", point_coords=None, point_labels=None,
             box=px(a, 0.30, 0.05) + px(a, 0.62, 0.45), multimask_output=False),
        dict(name="rocket_box_pt", image="rocket", point_coords=[px(r, 0.5, 0.5)], point_labels=[1],
             box=px(r, 0.3, 0.1) + px(r, 0.7, 0.95), multimask_output=False),
    ]


def read_png(path):
    from PIL import Image

    return np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))


def stability_info(model, low_res_all, multimask):
    """Token-0 stability score of the raw decoder output and the distance of the nearest token-0 logit to the band
    edges +-delta (a port whose logits differ by less cannot change the selection)."""
    dec = model.sam_mask_decoder
    d, thr = dec.dynamic_multimask_stability_delta, dec.dynamic_multimask_stability_thresh
    l0 = low_res_all[0, 0]
    ai, au = int((l0 > d).sum()), int((l0 > -d).sum())
    margin = float(torch.minimum((l0 - d).abs(), (l0 + d).abs()).min())
    s = ai / au if au else 1.0
    sel = "multimask: tokens 1-3" if multimask else (
        "stability: token 0 (stable)" if s >= thr else "stability: IoU-argmax of tokens 1-3 (unstable token 0)")
    return {"stability_score_token0": s, "stability_band_margin": margin, "selection": sel}


def micro_sizes(sizes: list[int], out: str, pos_sizes: set[int]):
    spec0 = sam2cfg.load_spec(os.path.join(MICRO, "config.json"))
    ck = os.path.join(MICRO, "checkpoint.pt")
    sd = torch.load(ck, map_location="cpu", weights_only=True)["model"]
    names = ["astronaut", "rocket"]
    images = {n: read_png(os.path.join(MICRO, "images", f"{n}.png")) for n in names}
    man = {
        "format": 1,
        "generator": {"tool": "tools/reference/make_size_goldens.py", "torch": torch.__version__,
                      "sam2": make_goldens._sam2_version(), "device": "cpu", "dtype": "float32",
                      "command": " ".join(["make_size_goldens.py"] + sys.argv[1:])},
        "checkpoint": {"safetensors": "../micro/checkpoint.safetensors", "pt": "../micro/checkpoint.pt",
                       "pt_sha256": make_goldens.sha256(ck),
                       "safetensors_sha256": make_goldens.sha256(os.path.join(MICRO, "checkpoint.safetensors"))},
        "images": [{"name": n, "file": f"../micro/images/{n}.png", "height": int(images[n].shape[0]),
                    "width": int(images[n].shape[1])} for n in names],
        "sizes": [],
        "layouts": {
            "trunk.pos_embed": "NHWC [1,S/4,S/4,C0]: bicubic(pos_embed -> S/4, align_corners=False) + "
                               "pos_embed_window tiled (hieradet.Hiera._get_pos_embed)",
            "image_embed": "NCHW [1,C,S/16,S/16]: neck.fpn.2 + no_mem_embed",
            "output.low_res_logits": "[M,S/4,S/4]: predictor output, clamped to [-32,32]",
            "output.iou": "[M]",
            "output.masks": "[M,H,W] uint8: bilinear upsample of the selected low-res logits to H x W, > 0",
        },
    }
    for S in sizes:
        spec = copy.deepcopy(spec0)
        spec["image_size"] = S
        spec["name"] = f"micro-{S}"
        sam2cfg.validate_spec(spec)
        sdir = os.path.join(out, str(S))
        os.makedirs(sdir, exist_ok=True)
        with open(os.path.join(sdir, "config.json"), "w") as f:
            json.dump(spec, f, indent=2)
            f.write("\n")
        model = sam2cfg.build_model(spec)
        model.load_state_dict(sd, strict=True)
        model.eval()
        pred = sam2cfg.make_predictor(model)
        # raw decoder outputs (all 4 tokens) for the stability margins
        raw = {}
        model.sam_mask_decoder.register_forward_hook(lambda m, i, o: raw.__setitem__("masks", o[0].detach()))
        entry = {"image_size": S, "embedding_size": S // 16, "config": f"{S}/config.json", "encoders": {},
                 "cases": []}
        if S in pos_sizes:
            with torch.no_grad():
                g = S // 4
                const = {"trunk.pos_embed": model.image_encoder.trunk._get_pos_embed((g, g)).contiguous()}
            make_goldens.save_st(const, os.path.join(sdir, "constants.safetensors"))
            entry["constants"] = f"{S}/constants.safetensors"
        for n in names:
            pred.set_image(images[n])
            emb = {"image_embed": pred._features["image_embed"].contiguous()}
            make_goldens.save_st(emb, os.path.join(sdir, f"{n}.safetensors"), {"image": n, "image_size": str(S)})
            entry["encoders"][n] = f"{S}/{n}.safetensors"
            for c in cases_for(images):
                if c["image"] != n:
                    continue
                pts = np.array(c["point_coords"], np.float32) if c["point_coords"] else None
                lbl = np.array(c["point_labels"], np.int32) if c["point_labels"] else None
                box = np.array(c["box"], np.float32) if c["box"] else None
                logits, iou, low = pred.predict(point_coords=pts, point_labels=lbl, box=box,
                                                multimask_output=c["multimask_output"], return_logits=True)
                t = {"output.low_res_logits": torch.from_numpy(low).contiguous(),
                     "output.iou": torch.from_numpy(iou).contiguous()}
                if not c["multimask_output"]:  # size budget: full-resolution masks of the single-mask cases only
                    t["output.masks"] = (torch.from_numpy(logits) > pred.mask_threshold).to(torch.uint8).contiguous()
                fname = f"{S}/{c['name']}.safetensors"
                make_goldens.save_st(t, os.path.join(out, fname), {"name": c["name"], "image_size": str(S)})
                e = dict(c)
                e.update({"file": fname, "num_masks": int(iou.shape[0]), "iou": [float(x) for x in iou]})
                e.update(stability_info(model, raw["masks"], c["multimask_output"]))
                entry["cases"].append(e)
        man["sizes"].append(entry)
        print(f"image_size {S}: {len(entry['cases'])} cases", flush=True)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(out) for fn in fns)
    print(json.dumps({"out": out, "sizes": sizes, "bytes": total}))


def tiny512(out: str, checkpoint: str, size: int, images: str):
    spec = sam2cfg.load_spec("tiny")
    spec["image_size"] = size
    spec["name"] = f"tiny-{size}"
    os.makedirs(out, exist_ok=True)
    cfg = os.path.join(out, "config-in.json")
    with open(cfg, "w") as f:
        json.dump(spec, f, indent=2)
    if not os.path.exists(checkpoint):
        sys.exit(f"{checkpoint} missing: run `make check-tiny` first (seeded tiny checkpoint, seed 1)")
    # --full-images none: end-to-end tensors only (input, features, image_embed; per case the decoder outputs)
    make_goldens.main(["--config", cfg, "--checkpoint", checkpoint, "--out", out, "--images", images,
                       "--full-images", "none", "--photo-max", "0"])
    with open(os.path.join(out, "checkpoint-source.txt"), "w") as f:
        f.write(os.path.abspath(checkpoint) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="192,256,320")
    ap.add_argument("--pos-sizes", default="192,256", help="sizes that also store trunk.pos_embed (size budget)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--tiny512", action="store_true")
    ap.add_argument("--size", type=int, default=512, help="image size for --tiny512")
    ap.add_argument("--checkpoint", default=os.path.join(ROOT, "out", "reference", "tiny", "checkpoint.pt"))
    ap.add_argument("--images", default="astronaut,rocket")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    t0 = time.time()
    if a.tiny512:
        tiny512(a.out or os.path.join(ROOT, "out", "reference", f"tiny-{a.size}"), a.checkpoint, a.size, a.images)
    else:
        micro_sizes([int(s) for s in a.sizes.split(",")],
                    a.out or os.path.join(ROOT, "Tests", "Goldens", "micro-sizes"),
                    {int(s) for s in a.pos_sizes.split(",") if s})
    print(f"{time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
