#!/usr/bin/env python3
"""`make eval-demo`: merges two `sam2r eval --json` runs on the held-out set (with the refiner, and `--no-refine`)
into out/demo/eval.json = {"float": {...}, "float_no_refiner": {...}, "int8": {...}, ...} (mIoU and boundary IoU
against ground truth) and a markdown table. Standard library only.

  eval_summary.py REFINED.json PLAIN.json --json OUT.json --markdown OUT.md
"""

import argparse
import json
import os


def scores(summary: dict, side: str) -> dict:
    return {"miou": summary[f"gt_miou_{side}"], "boundary_iou": summary[f"gt_boundary_iou_{side}"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("refined")
    ap.add_argument("plain")
    ap.add_argument("--json", required=True)
    ap.add_argument("--markdown", required=True)
    a = ap.parse_args()
    with open(a.refined) as f:
        refined = json.load(f)["summary"]
    with open(a.plain) as f:
        plain = json.load(f)["summary"]
    out = {
        "float": scores(refined, "reference"),
        "float_no_refiner": scores(plain, "reference"),
        "int8": scores(refined, "candidate"),
        "int8_no_refiner": scores(plain, "candidate"),
        "cases": refined["cases"],
        "int8_vs_float": {"mask_iou_mean": refined["mask_iou_mean"], "mask_iou_min": refined["mask_iou_min"],
                          "chosen_mask_flips": refined.get("chosen_mask_flips")},
    }
    rows = [("float, refiner", out["float"]), ("float, no refiner", out["float_no_refiner"]),
            ("int8, refiner", out["int8"]), ("int8, no refiner", out["int8_no_refiner"])]
    md = [f"Held-out set: {out['cases']} cases (demo/heldout, ground truth demo/heldout/masks). Command: `make eval-demo`.", "",
          "| model | mIoU | boundary IoU |", "|---|---:|---:|"]
    md += [f"| {name} | {v['miou']:.4f} | {v['boundary_iou']:.4f} |" for name, v in rows]
    md += ["", f"Refiner: boundary IoU {out['float']['boundary_iou'] - out['float_no_refiner']['boundary_iou']:+.4f}, "
           f"mIoU {out['float']['miou'] - out['float_no_refiner']['miou']:+.4f} (float). "
           f"int8 vs float with refiner: mIoU {100 * (out['int8']['miou'] - out['float']['miou']):+.2f} points."]
    for path, text in ((a.json, json.dumps(out, indent=1) + "\n"), (a.markdown, "\n".join(md) + "\n")):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)


if __name__ == "__main__":
    main()
