#!/usr/bin/env python3
"""Compare trained demo models on validation scenes, so that choosing one never looks at the held-out set.

    tools/.venv/bin/python tools/train/select_model.py --models demo/model out/train8/model [--scenes 120]

Why: per-image IoU on these scenes spreads widely (many prompts score near 0 or near 1), so a mean over a few
dozen images moves by several points with the sample, and picking the best of several runs on the set that is
then reported inflates the report. The validation scenes come from the held-out generator (make_sets.py) with
the seeds make_sets.VALIDATION_SEEDS; each set is written once under --dir and reused.

Prints JSON: per model and set the refined / plain mIoU (eval_float.evaluate), their means over the sets, and
the paired per-image difference of each model's refined IoU against the first model's, with its standard error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import eval_float  # noqa: E402
import make_sets  # noqa: E402


def validation_sets(root: str, n: int) -> list[str]:
    dirs = []
    pool = None
    for seed in make_sets.VALIDATION_SEEDS:
        d = os.path.join(root, f"seed{seed}-n{n}")
        if not os.path.exists(os.path.join(d, "contents.json")):   # written last: the set is complete
            if pool is None:
                pool = make_sets.synth.Pool()
            make_sets.write_prompted_set(pool, d, seed, n, "val")
        dirs.append(d)
    return dirs


def paired(a: list[float], b: list[float]) -> dict:
    d = [y - x for x, y in zip(a, b)]
    m = sum(d) / len(d)
    se = math.sqrt(sum((v - m) ** 2 for v in d) / (len(d) - 1) / len(d)) if len(d) > 1 else float("nan")
    return {"mean": round(m, 4), "standard_error": round(se, 4), "images": len(d)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", required=True, help="directories with config.json and demo.safetensors")
    ap.add_argument("--scenes", type=int, default=120, help="scenes per validation seed")
    ap.add_argument("--dir", default="out/validation")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(a.threads)
    for m in a.models:
        for f in ("config.json", "demo.safetensors"):
            if not os.path.exists(os.path.join(m, f)):
                raise SystemExit(f"error: {os.path.join(m, f)}: not found")
    if a.scenes < 2:
        raise SystemExit(f"error: --scenes {a.scenes}: at least 2 (a standard error needs two)")
    sets = validation_sets(a.dir, a.scenes)
    report, refined_ious = {}, {}
    for m in a.models:
        _, model = eval_float.load_model(m)
        per_set, ious = {}, []
        for d in sets:
            r = eval_float.evaluate(model, d)
            per_set[os.path.basename(d)] = {"refined": r["refined"]["miou"], "plain": r["plain"]["miou"]}
            ious += [row["refined"]["iou"] for row in r["per_image"]]
        report[m] = {"sets": per_set,
                     "refined_miou": round(sum(v["refined"] for v in per_set.values()) / len(per_set), 4),
                     "plain_miou": round(sum(v["plain"] for v in per_set.values()) / len(per_set), 4)}
        refined_ious[m] = ious
    base = a.models[0]
    for m in a.models[1:]:
        report[m]["refined_minus_first"] = paired(refined_ious[base], refined_ious[m])
    print(json.dumps({"first": base, "validation_sets": sets, "models": report}, indent=1))


if __name__ == "__main__":
    main()
