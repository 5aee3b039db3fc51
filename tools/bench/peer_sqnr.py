#!/usr/bin/env python3
"""Accuracy of the peer int8 encoder: ONNX Runtime `quantize_static` (the model `make bench` builds and times,
calibrated on the same 4 photos as our `sam2r calibrate` runs) against Meta's PyTorch fp32 encoder, on held-out photos.

  peer_sqnr.py --config tiny --checkpoint out/reference/tiny/checkpoint.pt \
               --onnx out/bench/tiny/encoder.onnx --onnx-int8 out/bench/tiny/encoder.int8.onnx \
               [--sam2r-eval EVAL.json] [--out BENCHMARKS.md]

SQNR (dB) = 10 log10(sum ref^2 / sum (ref - x)^2), per output (image_embed, feat_s1, feat_s0), per photo, then the mean
over photos. The ORT fp32 row is a sanity check of the export. `--sam2r-eval` adds sam2r's own image-embedding SQNR from
a `sam2r eval --json` file made on the same held-out photos. With `--out`, the markdown table replaces the block between
`<!-- bench:sqnr:start -->` and `<!-- bench:sqnr:end -->`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peer  # noqa: E402

HELD_OUT_PHOTOS = ["hubble_deep_field", "immunohistochemistry", "motorcycle_left"]
OUTPUTS = ["feat_s0", "feat_s1", "image_embed"]


def sqnr_db(ref: np.ndarray, x: np.ndarray) -> float:
    noise = float(np.sum((ref.astype(np.float64) - x.astype(np.float64)) ** 2))
    signal = float(np.sum(ref.astype(np.float64) ** 2))
    return float("inf") if noise == 0 else 10.0 * np.log10(signal / noise)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--onnx-int8", required=True)
    ap.add_argument("--photos", nargs="+", default=HELD_OUT_PHOTOS)
    ap.add_argument("--sam2r-eval", help="`sam2r eval --json` output on the same held-out photos")
    ap.add_argument("--out", help="markdown file with the bench:sqnr markers")
    a = ap.parse_args(argv)

    import onnxruntime as ort
    import torch

    torch.set_num_threads(2)
    enc = peer.EncoderForExport.wrap(peer.load_model(a.config, a.checkpoint))
    size = peer.model_size(a.config)
    sessions = {name: ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                for name, path in (("ort_fp32", a.onnx), ("ort_int8", a.onnx_int8))}
    per_photo = {}
    for photo in a.photos:
        x = peer.photo_input(photo, size)
        with torch.inference_mode():
            ref = [t.numpy() for t in enc(torch.from_numpy(x))]
        per_photo[photo] = {}
        for name, sess in sessions.items():
            got = sess.run(OUTPUTS, {"image": x})
            per_photo[photo][name] = {o: sqnr_db(r, g) for o, r, g in zip(OUTPUTS, ref, got)}
    mean = {name: {o: float(np.mean([per_photo[p][name][o] for p in a.photos])) for o in OUTPUTS} for name in sessions}
    result = {"config": a.config, "photos": a.photos, "per_photo": per_photo, "mean": mean}
    if a.sam2r_eval:
        with open(a.sam2r_eval) as f:
            result["sam2r_int8_image_embedding_sqnr_db_mean"] = json.load(f)["summary"]["image_embedding_sqnr_db_mean"]
    print(json.dumps(result, indent=1))
    if a.out:
        write_table(a.out, result)


def write_table(path: str, r: dict) -> None:
    lines = [f"Image-encoder accuracy vs Meta's PyTorch fp32, seeded `{r['config']}`, held-out photos "
             f"{', '.join(r['photos'])} (calibration: {', '.join(peer.CALIBRATION_PHOTOS)}). "
             "Command: `make bench-sqnr`.", "",
             "| system | image_embed SQNR (dB) | feat_s1 | feat_s0 |", "|---|---:|---:|---:|"]
    for name, label in (("ort_fp32", "ONNX Runtime fp32 (export check)"), ("ort_int8", "ONNX Runtime int8 quantize_static")):
        m = r["mean"][name]
        lines.append(f"| {label} | {m['image_embed']:.1f} | {m['feat_s1']:.1f} | {m['feat_s0']:.1f} |")
    if "sam2r_int8_image_embedding_sqnr_db_mean" in r:
        lines.append(f"| sam2r int8 (default calibrate + quantize) | {r['sam2r_int8_image_embedding_sqnr_db_mean']:.1f} | | |")
    block = "\n".join(lines)
    with open(path) as f:
        text = f.read()
    start, end = "<!-- bench:sqnr:start -->", "<!-- bench:sqnr:end -->"
    if start in text and end in text:
        text = text[:text.index(start) + len(start)] + "\n" + block + "\n" + text[text.index(end):]
    else:
        text += f"\n## Int8 accuracy vs peers\n\n{start}\n{block}\n{end}\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
