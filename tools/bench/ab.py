#!/usr/bin/env python3
"""A/B of sam2r binaries on a shared, noisy host: interleaved rounds of `sam2r bench --json`.

Runs each binary in turn, `--rounds` times, so that a slow phase of the host hits every binary alike, and
reports per stage the median of the per-round medians and the minimum over every predict of every round (the
least disturbed figure). A difference smaller than the spread between rounds of the same binary is noise.

    tools/bench/ab.py --model out/reference/tiny/model.sam2q --threads 2 OLD_SAM2R NEW_SAM2R

Standard library only (no venv needed).
"""
import argparse
import json
import statistics
import subprocess
import sys

DEFAULT_STAGES = ("decoder_layer0", "decoder_layer1", "decoder_final_attn", "decoder_upscale_heads", "decoder",
                  "postprocess", "encoder")


def one_round(binary, args):
    cmd = [binary, "bench", "--model", args.model, "--threads", str(args.threads), "--runs", str(args.runs),
           "--predicts", str(args.predicts), "--no-alloc-count", "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binaries", nargs="+", help="sam2r executables to compare")
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--predicts", type=int, default=40)
    ap.add_argument("--stages", default=",".join(DEFAULT_STAGES))
    args = ap.parse_args()
    stages = args.stages.split(",")
    results = {b: [] for b in args.binaries}
    for r in range(args.rounds):
        for b in args.binaries:
            results[b].append(one_round(b, args))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    width = max(len(s) for s in stages)
    print(f"{args.rounds} interleaved rounds, {args.threads} thread(s), --runs {args.runs} --predicts {args.predicts}; "
          "ms: median of round medians / min")
    for s in stages:
        cells = []
        for b in args.binaries:
            med = [x[f"{s}_ms_median"] for x in results[b] if f"{s}_ms_median" in x]
            low = [x[f"{s}_ms_min"] for x in results[b] if f"{s}_ms_min" in x]
            cells.append(f"{statistics.median(med):8.2f} / {min(low):8.2f}" if med else "       -")
        print(f"{s.ljust(width)}  " + "   ".join(cells))
    print("columns: " + "   ".join(args.binaries))


if __name__ == "__main__":
    main()
