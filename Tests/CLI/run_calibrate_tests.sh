#!/usr/bin/env bash
# End-to-end checks of `sam2r calibrate` on the committed micro model: the table has one entry for every
# Linear / Conv / ConvTranspose of the image path (the checkpoint's `<prefix>.weight` of rank 2 or 4 with a
# `<prefix>.bias`, video-only modules excluded — computed here from the safetensors header, independently of
# sam2r), the header names the model and calibrator, each method works, bad input is one "error:" line.
# Usage: Tests/CLI/run_calibrate_tests.sh path/to/sam2r
set -u
BIN=${1:?usage: run_calibrate_tests.sh path/to/sam2r}
source "$(dirname "$0")/lib.sh"
MODEL=(--checkpoint "$G/checkpoint.pt" --config "$G/config.json")

# The GEMMs of the micro model, from the checkpoint alone.
python3 - "$G/checkpoint.safetensors" > "$TMP/expected.txt" <<'PY'
import json, struct, sys
f = open(sys.argv[1], 'rb'); n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n))
video = ["memory_attention.", "memory_encoder.", "mask_downsample.", "obj_ptr_proj.", "obj_ptr_tpos_proj.",
         "maskmem_tpos_enc", "no_mem_pos_enc", "no_obj_ptr", "no_obj_embed_spatial"]
for k, v in sorted(h.items()):
    if k.endswith('.weight') and len(v['shape']) in (2, 4) and k[:-7] + '.bias' in h \
            and not any(k.startswith(p) for p in video):
        print(k[:-7])
PY
nexp=$(grep -c . "$TMP/expected.txt")
[ "$nexp" -gt 50 ] && ok || bad "expected GEMM list too short ($nexp)"

# --- default scope: image-side GEMMs (encoder, decoder upscaling) as entries, the prompt/mask side as '# float: ' lines (docs/quantization-table.md)
"$BIN" calibrate "${MODEL[@]}" --images "$G/images" --threads 2 --quiet --out "$TMP/scope.txt" 2>/dev/null
grep -v '^#' "$TMP/scope.txt" | awk 'NF == 11 { print $1 }' | sort > "$TMP/scope-int8.txt"
sed -n 's/^# float: //p' "$TMP/scope.txt" | awk 'NF == 11 { print $1 }' | sort > "$TMP/scope-float.txt"
IMAGE_SIDE='^(image_encoder|sam_mask_decoder\.output_upscaling)\.'
grep -E "$IMAGE_SIDE" "$TMP/expected.txt" | diff -q - "$TMP/scope-int8.txt" >/dev/null && ok || bad "default scope: int8 entries are not the image encoder's and the decoder upscaling's GEMMs"
grep -vE "$IMAGE_SIDE" "$TMP/expected.txt" | diff -q - "$TMP/scope-float.txt" >/dev/null && ok || bad "default scope: '# float:' lines are not the other GEMMs"

# --- every GEMM (--scope all), default method (mse), default prompts, progress silenced
"$BIN" calibrate "${MODEL[@]}" --images "$G/images" --scope all --threads 2 --quiet --out "$TMP/t.txt" 2>"$TMP/err.txt"
rc=$?
[ $rc -eq 0 ] && ok || bad "calibrate exit $rc: $(cat "$TMP/err.txt")"
[ ! -s "$TMP/err.txt" ] && ok || bad "--quiet still wrote to stderr: $(cat "$TMP/err.txt")"
grep -v '^#' "$TMP/t.txt" | awk 'NF == 11 { print $1 }' | sort > "$TMP/got.txt"
if diff -u "$TMP/expected.txt" "$TMP/got.txt" > "$TMP/diff.txt"; then ok; else bad "entries differ from the model's GEMMs: $(head -20 "$TMP/diff.txt")"; fi
for h in "format 1" "model micro" "calibrator mse" "images 5" "prompts 25"; do
  grep -qx "$h" "$TMP/t.txt" && ok || bad "header lacks '$h'"
done
grep -Eq '^fingerprint fnv1a64:[0-9a-f]{16}$' "$TMP/t.txt" && ok || bad "no fingerprint line"
grep -q '^image_encoder.trunk.blocks.3.mlp.layers.1 s8-asym ' "$TMP/t.txt" && ok || bad "post-GELU input not s8-asym"
grep -q '^image_encoder.trunk.blocks.3.attn.qkv s8-sym .* zp=0 ' "$TMP/t.txt" && ok || bad "qkv input not s8-sym zp=0"

# --- deterministic: same inputs, same table
"$BIN" calibrate "${MODEL[@]}" --images "$G/images" --scope all --threads 1 --quiet --out "$TMP/t2.txt"
cmp -s "$TMP/t.txt" "$TMP/t2.txt" && ok || bad "two runs gave different tables"

# --- every method, progress bar on stderr
for m in minmax entropy percentile; do
  "$BIN" calibrate "${MODEL[@]}" --images "$G/images" --method $m --out "$TMP/$m.txt" 2>"$TMP/err.txt"
  rc=$?
  [ $rc -eq 0 ] && ok || bad "--method $m exit $rc"
  grep -Eqx "calibrator $m(:99.99)?" "$TMP/$m.txt" && ok || bad "--method $m: header"
  grep -q "5/5 images" "$TMP/err.txt" && ok || bad "--method $m: no progress bar: $(cat "$TMP/err.txt")"
done

# --- prompts file
mkdir -p "$TMP/one"; cp "$G/images/chelsea.png" "$TMP/one/"
echo '{"chelsea.png": [{"points": [[60, 40, 1], [20, 20, 0]]}, {"box": [10, 10, 90, 70]}, {"refine": true, "points": [[60, 40, 1]]}]}' > "$TMP/p.json"
"$BIN" calibrate "${MODEL[@]}" --images "$TMP/one" --prompts "$TMP/p.json" --quiet --out "$TMP/p.txt"
[ $? -eq 0 ] && grep -qx "prompts 3" "$TMP/p.txt" && grep -qx "images 1" "$TMP/p.txt" && ok || bad "--prompts run"

# --- errors: one line "error: …", non-zero exit, no table left
OUTPUTS=("$TMP/e.txt")
mkdir -p "$TMP/empty"
expect_error "empty folder" "no .png/.jpg images" calibrate "${MODEL[@]}" --images "$TMP/empty" --quiet --out "$TMP/e.txt"
expect_error "no folder" "not a directory" calibrate "${MODEL[@]}" --images "$TMP/nope" --quiet --out "$TMP/e.txt"
expect_error "bad method" "--method" calibrate "${MODEL[@]}" --images "$G/images" --method kl --out "$TMP/e.txt"
echo '{"other.png": [{"points": [[1, 1, 1]]}]}' > "$TMP/bad.json"
expect_error "prompts for a missing image" "other.png" calibrate "${MODEL[@]}" --images "$TMP/one" --prompts "$TMP/bad.json" --quiet --out "$TMP/e.txt"
echo '{"chelsea.png": [{"points": [[1, 1, 7]]}]}' > "$TMP/bad.json"
expect_error "bad label" "label must be 0 or 1" calibrate "${MODEL[@]}" --images "$TMP/one" --prompts "$TMP/bad.json" --quiet --out "$TMP/e.txt"
echo '{"chelsea.png": [{"points": [[1000, 1, 1]]}]}' > "$TMP/bad.json"
expect_error "point outside" "chelsea.png: prompt 0" calibrate "${MODEL[@]}" --images "$TMP/one" --prompts "$TMP/bad.json" --quiet --out "$TMP/e.txt"
expect_error "tiny config on micro weights" "config tiny" calibrate --checkpoint "$G/checkpoint.pt" --images "$TMP/one" --quiet --out "$TMP/e.txt"
expect_error "unwritable out" "does not exist" calibrate "${MODEL[@]}" --images "$TMP/one" --quiet --out "$TMP/no/dir/t.txt"

finish calibrate
