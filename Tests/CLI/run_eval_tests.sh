#!/usr/bin/env bash
# End-to-end checks of `sam2r eval` on the committed micro model (fp32 checkpoint vs the same checkpoint with
# Tests/Goldens/micro/int8-table.txt): the JSON has the contract's keys with sane values, the layer list is
# sorted worst first and covers every table entry, the markdown report is written, ground truth works, bad
# input is one "error:" line with a non-zero exit and no report left behind.
# Usage: Tests/CLI/run_eval_tests.sh path/to/sam2r
set -u
BIN=${1:?usage: run_eval_tests.sh path/to/sam2r}
source "$(dirname "$0")/lib.sh"
MODEL=(--reference "$G/checkpoint.pt" --config "$G/config.json" --candidate-table "$G/int8-table.txt")
mkdir -p "$TMP/two"; cp "$G/images/coffee.png" "$G/images/chelsea.png" "$TMP/two/"

# --- JSON + report, progress silenced
"$BIN" eval "${MODEL[@]}" --images "$TMP/two" --threads 2 --quiet --json --report "$TMP/r.md" >"$TMP/out.json" 2>"$TMP/err.txt"
rc=$?
[ $rc -eq 0 ] && ok || bad "eval exit $rc: $(cat "$TMP/err.txt")"
[ ! -s "$TMP/err.txt" ] && ok || bad "--quiet still wrote to stderr: $(cat "$TMP/err.txt")"
python3 - "$TMP/out.json" "$G/int8-table.txt" <<'PY' && ok || bad "json check failed"
import json, sys
o = json.load(open(sys.argv[1]))
s = o["summary"]
entries = [l.split()[0] for l in open(sys.argv[2]) if l.strip() and not l.startswith('#') and len(l.split()) == 11]
def fail(m): print("json:", m); sys.exit(1)
for k in ["mask_iou_mean", "mask_iou_min", "boundary_iou_mean", "logits_sqnr_db_mean", "image_embedding_sqnr_db_mean"]:
    if not isinstance(s.get(k), float): fail(f"summary.{k} missing or not a number")
if s["cases"] != 10 or s["images"] != 2: fail(f"cases/images {s['cases']}/{s['images']}, expected 10/2")
if not (0 <= s["mask_iou_min"] <= s["mask_iou_mean"] <= 1): fail("mask IoU not in 0 <= min <= mean <= 1")
if not (0 <= s["boundary_iou_mean"] <= 1): fail("boundary IoU outside [0, 1]")
# Int8Tests measures 27.4 dB on coffee with this table; chelsea is similar.
if not (20 < s["image_embedding_sqnr_db_mean"] < 40): fail(f"embedding SQNR {s['image_embedding_sqnr_db_mean']}")
if not (-200 <= s["logits_sqnr_db_mean"] <= 200): fail("logits SQNR out of range")
if not (0 <= s["chosen_mask_agreement"] <= 1): fail("agreement not a fraction")
if s["chosen_mask_flips"] != sum(1 for c in o["cases"] if not c["chosen_mask_agrees"]): fail("flip count")
L = o["layers"]
if sorted(l["name"] for l in L) != sorted(entries): fail("layers != table entries")
q = [l["sqnr_db"] for l in L]
if q != sorted(q): fail("layers not worst first")
if any(not isinstance(l["sqnr_db"], float) for l in L): fail("sqnr_db not a number")
if abs(sum(l["mac_share"] for l in L) - 1) > 1e-3: fail("MAC shares do not sum to 1")
if "gt_miou_reference" in s: fail("ground-truth keys without --ground-truth")
PY
[ -s "$TMP/r.md" ] && ok || bad "no report"
for h in "## Summary" "## Cases" "## Layers" "mask IoU"; do grep -q "$h" "$TMP/r.md" && ok || bad "report lacks '$h'"; done
[ "$(grep -c '^| [0-9]* | `' "$TMP/r.md")" -eq "$(grep -v '^#' "$G/int8-table.txt" | awk 'NF == 11' | wc -l)" ] && ok \
  || bad "report layer table does not list every quantized layer"

# --- deterministic
"$BIN" eval "${MODEL[@]}" --images "$TMP/two" --threads 1 --quiet --json >"$TMP/out2.json"
cmp -s "$TMP/out.json" "$TMP/out2.json" && ok || bad "two runs (threads 2, 1) gave different JSON"

# --- --layer-samples 0: no layer table, both models on the decoder's fast path; the masks agree with the
# reference-path run to within fp32 rounding (mean mask IoU within 0.01)
"$BIN" eval "${MODEL[@]}" --images "$TMP/two" --threads 2 --quiet --json --layer-samples 0 --report "$TMP/r0.md" \
  >"$TMP/out0.json" 2>"$TMP/err.txt"
[ $? -eq 0 ] && ok || bad "eval --layer-samples 0: $(cat "$TMP/err.txt")"
python3 - "$TMP/out0.json" "$TMP/out.json" <<'PY' && ok || bad "--layer-samples 0 json check failed"
import json, sys
fast, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
if fast["layers"]: print("layers listed with --layer-samples 0"); sys.exit(1)
if fast["summary"]["cases"] != ref["summary"]["cases"]: print("case count differs"); sys.exit(1)
d = abs(fast["summary"]["mask_iou_mean"] - ref["summary"]["mask_iou_mean"])
if d > 0.01: print(f"fast-path mask IoU mean differs by {d}"); sys.exit(1)
PY
grep -q "No layer SQNR" "$TMP/r0.md" && ! grep -q "## Layers" "$TMP/r0.md" && ok || bad "report with --layer-samples 0"

# --- text output and progress bar
"$BIN" eval "${MODEL[@]}" --images "$TMP/two" >"$TMP/out.txt" 2>"$TMP/err.txt"
[ $? -eq 0 ] && grep -q "mask IoU mean" "$TMP/out.txt" && grep -q "worst layers" "$TMP/out.txt" && ok || bad "text output"
grep -q "2/2 images" "$TMP/err.txt" && ok || bad "no progress bar: $(cat "$TMP/err.txt")"

# --- ground truth: a centred rectangle per image → both mIoUs in [0, 1], drop = reference − candidate
mkdir -p "$TMP/gt"
for f in coffee chelsea; do
  python3 - "$TMP/two/$f.png" "$TMP/gt/$f.png" <<'PY'
import struct, sys, zlib
# A 0/255 mask of the image size: a centred rectangle (hand-made ground truth), written as a gray PNG.
def size(p):
    b = open(p, 'rb').read(24); return struct.unpack('>II', b[16:24])
w, h = size(sys.argv[1])
rows = b''.join(b'\0' + bytes(255 if w // 4 <= x < 3 * w // 4 and h // 4 <= y < 3 * h // 4 else 0 for x in range(w)) for y in range(h))
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
open(sys.argv[2], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
                             + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
PY
done
"$BIN" eval "${MODEL[@]}" --images "$TMP/two" --quiet --json --ground-truth "$TMP/gt" >"$TMP/gt.json"
python3 - "$TMP/gt.json" <<'PY' && ok || bad "ground-truth summary"
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
r, c, d = s["gt_miou_reference"], s["gt_miou_candidate"], s["gt_miou_drop"]
assert 0 <= r <= 1 and 0 <= c <= 1 and abs((r - c) - d) < 1e-5, (r, c, d)
PY

# --- errors: one line "error: …", non-zero exit, no report left
OUTPUTS=("$TMP/e.md")
mkdir -p "$TMP/empty"
expect_error "empty folder" "no .png/.jpg images" eval "${MODEL[@]}" --images "$TMP/empty" --quiet --report "$TMP/e.md"
rm "$TMP/gt/chelsea.png"
expect_error "missing ground-truth mask" "chelsea.png" eval "${MODEL[@]}" --images "$TMP/two" --ground-truth "$TMP/gt" --quiet --report "$TMP/e.md"
cp "$TMP/two/coffee.png" "$TMP/gt/chelsea.png"
expect_error "ground-truth size" "mask is" eval "${MODEL[@]}" --images "$TMP/two" --ground-truth "$TMP/gt" --quiet --report "$TMP/e.md"
expect_error "no candidate" "exactly one of" eval --reference "$G/checkpoint.pt" --config "$G/config.json" --images "$TMP/two"
expect_error "sam2q not yet" ".sam2q" eval --reference "$G/checkpoint.pt" --config "$G/config.json" --candidate "$TMP/m.sam2q" --images "$TMP/two" --quiet
expect_error "not a table" "run_eval_tests.sh" eval --reference "$G/checkpoint.pt" --config "$G/config.json" --candidate-table "$ROOT/Tests/CLI/run_eval_tests.sh" --images "$TMP/two" --quiet
printf 'format 1\nmodel tiny\nfingerprint fnv1a64:0000000000000000\ncalibrator mse\nimages 1\nprompts 1\n' > "$TMP/other.txt"
expect_error "fingerprint mismatch" "does not match" eval --reference "$G/checkpoint.pt" --config "$G/config.json" --candidate-table "$TMP/other.txt" --images "$TMP/two" --quiet
expect_error "unwritable report" "does not exist" eval "${MODEL[@]}" --images "$TMP/two" --quiet --report "$TMP/no/dir/r.md"
echo '{"other.png": [{"points": [[1, 1, 1]]}]}' > "$TMP/bad.json"
expect_error "prompts for a missing image" "other.png" eval "${MODEL[@]}" --images "$TMP/two" --prompts "$TMP/bad.json" --quiet

finish eval
