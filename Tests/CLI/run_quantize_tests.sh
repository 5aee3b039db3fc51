#!/usr/bin/env bash
# End-to-end checks of the int8 model file (.sam2q, docs/model-file.md) on the committed micro model:
# quantize → inspect → run, bit-identical to `run --table` (also when packed for another machine's
# layout), profiles (float_ops, input size, arena budget), and bad input: a table for another model, a
# corrupted or truncated file → one "error:" line, exit 1, no output file, no temporary left behind.
# Usage: Tests/CLI/run_quantize_tests.sh path/to/sam2r
set -u
BIN=${1:?usage: run_quantize_tests.sh path/to/sam2r}
source "$(dirname "$0")/lib.sh"
MODEL=(--checkpoint "$G/checkpoint.pt" --config "$G/config.json")
IMG=(--image "$G/images/coffee.png")

# What a failing command must not leave behind (expect_exit / expect_error, Tests/CLI/lib.sh).
OUTPUTS=("$TMP/out.png" "$TMP/out.sam2q")

# --- quantize: summary, file written
out=$("$BIN" quantize "${MODEL[@]}" --table "$G/int8-table.txt" --threads 2 --out "$TMP/m.sam2q"); rc=$?
[ $rc -eq 0 ] && [ -s "$TMP/m.sam2q" ] && ok || bad "quantize exit $rc: $out"
case "$out" in *"105 int8 GEMMs, 0 float GEMMs"*"int8 share of GEMM MACs: 100.0%"*"arena "*" bytes"*) ok ;;
  *) bad "quantize summary: $out" ;; esac

# --- inspect, text and JSON
out=$("$BIN" inspect "$TMP/m.sam2q"); rc=$?
[ $rc -eq 0 ] && ok || bad "inspect exit $rc"
for frag in "format version 1" "config: micro, input 128²" "arena: " "tensors: 182 (105 int8 GEMMs, 77 fp32)" \
            "int8 image_encoder.trunk.blocks.0.attn.qkv [24, 8]" "act_scale=" "crc32 " "fingerprint fnv1a64:"; do
  case "$out" in *"$frag"*) ok ;; *) bad "inspect lacks '$frag'" ;; esac
done
"$BIN" inspect "$TMP/m.sam2q" --json > "$TMP/i.json" && python3 - "$TMP/i.json" <<'PY' && ok || bad "inspect --json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["version"] == 1 and j["int8_tensors"] == 105 and j["float_tensors"] == 77, j
assert j["arena"]["bytes"] > 0 and j["config"]["name"] == "micro"
assert [s["kind"] for s in j["sections"]] == ["config", "quant", "tensors", "arena", "data"]
assert all(s["checksum"] == "ok" and s["offset"] % 64 == 0 for s in j["sections"])
PY

# --- run: the file gives exactly what the in-memory int8 path gives
"$BIN" run "${MODEL[@]}" --table "$G/int8-table.txt" "${IMG[@]}" --point 90,60 --box 10,10,150,100 --multimask \
  --threads 2 --logits-out "$TMP/a.npy" --scores-out "$TMP/as.npy" --mask-out "$TMP/a.png" >/dev/null || bad "run --table"
out=$("$BIN" run --checkpoint "$TMP/m.sam2q" "${IMG[@]}" --point 90,60 --box 10,10,150,100 --multimask --threads 2 \
  --logits-out "$TMP/b.npy" --scores-out "$TMP/bs.npy" --mask-out "$TMP/b.png" --overlay-out "$TMP/b-overlay.png" --json); rc=$?
[ $rc -eq 0 ] && ok || bad "run .sam2q exit $rc"
case "$out" in *'"config":"micro"'*'"arena_bytes":'*) ok ;; *) bad "run .sam2q json: $out" ;; esac
cmp -s "$TMP/a.npy" "$TMP/b.npy" && cmp -s "$TMP/as.npy" "$TMP/bs.npy" && cmp -s "$TMP/a.png" "$TMP/b.png" && ok \
  || bad ".sam2q results differ from run --table"
[ -s "$TMP/b-overlay.png" ] && ok || bad "no overlay"
"$BIN" run --checkpoint "$TMP/m.sam2q" "${IMG[@]}" --point 90,60 --threads 1 --mask-out "$TMP/c.png" >/dev/null && ok \
  || bad "run .sam2q single thread"

# --- bench model on the file
out=$("$BIN" bench model --model "$TMP/m.sam2q" --runs 1 --threads 2 --no-alloc-count --json); rc=$?
case "$rc:$out" in 0:*'"config":"micro"'*'"arena_bytes":'*) ok ;; *) bad "bench model .sam2q exit $rc: $out" ;; esac

# --- a model for another board's kernel layout (dotprod, NR=8 KR=4) made here, repacked at load: same results
cat > "$TMP/pi5-micro.json" <<'JSON'
{"schema": 1, "name": "pi5-micro", "description": "Raspberry Pi 5 layout at the micro model's size", "arch": "aarch64",
 "core": "cortex-a76", "required_isa": ["neon", "dotprod"], "preferred_isa": ["dotprod"], "threads": 2,
 "arena_budget_bytes": 805306368, "input_size": 128, "precision": "int8", "float_ops": []}
JSON
out=$("$BIN" quantize "${MODEL[@]}" --table "$G/int8-table.txt" --profile "$TMP/pi5-micro.json" --out "$TMP/pi.sam2q"); rc=$?
[ $rc -eq 0 ] && ok || bad "quantize --profile pi5-micro exit $rc: $out"
"$BIN" inspect "$TMP/pi.sam2q" | grep -q "packing: dotprod (NR=8 KR=4)" && ok || bad "pi5 file not packed for dotprod"
"$BIN" run --checkpoint "$TMP/pi.sam2q" "${IMG[@]}" --point 90,60 --box 10,10,150,100 --multimask --threads 2 \
  --logits-out "$TMP/p.npy" >/dev/null && cmp -s "$TMP/a.npy" "$TMP/p.npy" && ok || bad "repacked file differs"

# --- 7-bit weights (--weight-bits 7) packed for AVX2: the narrow-weight layout; where AVX2 runs, its
# vpmaddubsw kernel gives the bits of the scalar kernel on the same file
sed -e 's/"arch": "aarch64"/"arch": "x86_64"/' -e 's/"core": "cortex-a76"/"core": "generic-avx2"/' \
  -e 's/"required_isa": \["neon", "dotprod"\]/"required_isa": ["avx2"]/' -e 's/"preferred_isa": \["dotprod"\]/"preferred_isa": ["avx2"]/' \
  -e 's/pi5-micro/avx2-micro/' "$TMP/pi5-micro.json" > "$TMP/avx2-micro.json"
out=$("$BIN" quantize "${MODEL[@]}" --table "$G/int8-table.txt" --profile "$TMP/avx2-micro.json" --weight-bits 7 \
  --out "$TMP/w7.sam2q"); rc=$?
case "$rc:$out" in 0:*"7-bit weights, packed for avx2-w7 (NR=16 KR=4)"*) ok ;; *) bad "quantize --weight-bits 7 exit $rc: $out" ;; esac
"$BIN" inspect "$TMP/w7.sam2q" | grep -q "packing: avx2-w7 (NR=16 KR=4)" && ok || bad "7-bit file not packed avx2-w7"
SAM2R_ISA=scalar "$BIN" run --checkpoint "$TMP/w7.sam2q" "${IMG[@]}" --point 90,60 --box 10,10,150,100 --multimask \
  --threads 2 --logits-out "$TMP/w7s.npy" >/dev/null || bad "run 7-bit file, scalar"
if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
  SAM2R_ISA=avx2 "$BIN" run --checkpoint "$TMP/w7.sam2q" "${IMG[@]}" --point 90,60 --box 10,10,150,100 --multimask \
    --threads 2 --logits-out "$TMP/w7a.npy" >/dev/null && cmp -s "$TMP/w7s.npy" "$TMP/w7a.npy" && ok \
    || bad "7-bit file: the avx2 narrow-weight kernel differs from scalar"
fi
cmp -s "$TMP/a.npy" "$TMP/w7s.npy" && bad "7-bit weights gave the 8-bit logits (not quantized to 7 bits?)" || ok
expect_exit "--weight-bits 6" 64 "weight-bits must be 8 or 7" quantize "${MODEL[@]}" --table "$G/int8-table.txt" \
  --weight-bits 6 --out "$TMP/out.sam2q"

# --- profile float_ops keep matching GEMMs in float
sed -e 's/"float_ops": \[\]/"float_ops": ["*mlp.layers.*", "sam_mask_decoder.*"]/' -e 's/pi5-micro/mixed/' \
  "$TMP/pi5-micro.json" > "$TMP/mixed.json"
out=$("$BIN" quantize "${MODEL[@]}" --table "$G/int8-table.txt" --profile "$TMP/mixed.json" --float-weights f32 \
  --out "$TMP/mixed.sam2q"); rc=$?
[ $rc -eq 0 ] && ok || bad "quantize float_ops exit $rc: $out"
case "$out" in *" 0 float GEMMs"*) bad "float_ops kept nothing in float: $out" ;; *"float GEMMs"*) ok ;; esac
"$BIN" inspect "$TMP/mixed.sam2q" | grep -q "fp32 image_encoder.trunk.blocks.0.mlp.layers.0.weight" && ok \
  || bad "float_ops GEMM not stored in fp32"
"$BIN" run --checkpoint "$TMP/mixed.sam2q" "${IMG[@]}" --point 90,60 --mask-out "$TMP/mixed.png" >/dev/null && ok \
  || bad "run mixed-precision file"

# the default --float-weights f16: float nn.Linear weights stored as binary16 (half the bytes), biases and
# convs in fp32; the file runs and answers close to, not exactly like, the f32 file (the bit-exact check
# against fp32 GEMMs over the rounded weights is MicroModelFileTests.testHalfLinearWeightsMatchRoundedFloat)
out=$("$BIN" quantize "${MODEL[@]}" --table "$G/int8-table.txt" --profile "$TMP/mixed.json" --out "$TMP/mixed16.sam2q"); rc=$?
case "$rc:$out" in 0:*" f16 tensors"*) ok ;; *) bad "quantize --float-weights f16 (default) exit $rc: $out" ;; esac
ins=$("$BIN" inspect "$TMP/mixed16.sam2q")
case "$ins" in *"f16 image_encoder.trunk.blocks.0.mlp.layers.0.weight"*"fp32 image_encoder.trunk.blocks.0.mlp.layers.0.bias"*) ok ;;
  *) bad "f16 file: Linear weight not f16 or bias not fp32" ;; esac
[ "$(stat -c %s "$TMP/mixed16.sam2q")" -lt "$(stat -c %s "$TMP/mixed.sam2q")" ] && ok || bad "f16 file not smaller than the f32 one"
"$BIN" run --checkpoint "$TMP/mixed16.sam2q" "${IMG[@]}" --point 90,60 --logits-out "$TMP/m16.npy" >/dev/null && ok \
  || bad "run f16 file"
expect_exit "--float-weights f8" 64 "float-weights must be f16 or f32" quantize "${MODEL[@]}" --table "$G/int8-table.txt" \
  --float-weights f8 --out "$TMP/out.sam2q"

# run --table with the same profile keeps the same GEMMs in float (fp32): identical to the f32 file
"$BIN" run --checkpoint "$TMP/mixed.sam2q" "${IMG[@]}" --point 90,60 --logits-out "$TMP/mf.npy" >/dev/null
python3 - "$TMP/mf.npy" "$TMP/m16.npy" <<'PY' && ok || bad "f16 file's logits not within 35 dB SQNR of the f32 file's"
import math, struct, sys
def npy(p):
    b = open(p, "rb").read(); n = struct.unpack("<H", b[8:10])[0]; body = b[10 + n:]
    return struct.unpack("<%df" % (len(body) // 4), body)
a, b = npy(sys.argv[1]), npy(sys.argv[2])
assert len(a) == len(b) and a != b, "identical or different sizes"
# measured 39.6 dB on this model; its int8 GEMMs alone cost 27.4 dB against the fp32 checkpoint
sqnr = 10 * math.log10(sum(x * x for x in a) / sum((x - y) ** 2 for x, y in zip(a, b)))
assert sqnr >= 35, sqnr
PY
"$BIN" run "${MODEL[@]}" --table "$G/int8-table.txt" --profile "$TMP/mixed.json" "${IMG[@]}" --point 90,60 \
  --logits-out "$TMP/mt.npy" >/dev/null && cmp -s "$TMP/mf.npy" "$TMP/mt.npy" && ok || bad "run --table --profile differs from the mixed file"
# a profile of precision fp32 stores no int8 GEMM
sed -e 's/"precision": "int8"/"precision": "fp32"/' -e 's/pi5-micro/fp32-micro/' "$TMP/pi5-micro.json" > "$TMP/fp32.json"
out=$("$BIN" quantize "${MODEL[@]}" --table "$G/int8-table.txt" --profile "$TMP/fp32.json" --out "$TMP/fp32.sam2q")
case "$out" in *" 0 int8 GEMMs, 105 float GEMMs"*) ok ;; *) bad "precision fp32 profile: $out" ;; esac
"$BIN" run --checkpoint "$TMP/fp32.sam2q" "${IMG[@]}" --point 90,60 --logits-out "$TMP/f32a.npy" >/dev/null
"$BIN" run "${MODEL[@]}" "${IMG[@]}" --point 90,60 --logits-out "$TMP/f32b.npy" >/dev/null
cmp -s "$TMP/f32a.npy" "$TMP/f32b.npy" && ok || bad "all-fp32 model file differs from the fp32 checkpoint run"

# --- usage errors with a .sam2q
expect_exit "--config with .sam2q" 64 "carries its own config" run --checkpoint "$TMP/m.sam2q" --config tiny "${IMG[@]}" --point 5,5 --mask-out "$TMP/out.png"
expect_exit "--table with .sam2q" 64 "already quantized" run --checkpoint "$TMP/m.sam2q" --table "$G/int8-table.txt" "${IMG[@]}" --point 5,5 --mask-out "$TMP/out.png"

# --- corrupted, truncated, mislabelled files: one line before any tensor is used
size=$(stat -c %s "$TMP/m.sam2q")
cp "$TMP/m.sam2q" "$TMP/flip.sam2q"
printf '\x55' | dd of="$TMP/flip.sam2q" bs=1 seek=$((size - 1000)) conv=notrunc 2>/dev/null
expect_exit "corrupted data" 1 "section 'data' checksum mismatch" run --checkpoint "$TMP/flip.sam2q" "${IMG[@]}" --point 5,5 --mask-out "$TMP/out.png"
expect_exit "inspect corrupted" 1 "flip.sam2q: section 'data' checksum mismatch" inspect "$TMP/flip.sam2q"
cp "$TMP/m.sam2q" "$TMP/hdr.sam2q"
printf '\x07' | dd of="$TMP/hdr.sam2q" bs=1 seek=20 conv=notrunc 2>/dev/null
expect_exit "corrupted header" 1 "header checksum mismatch" run --checkpoint "$TMP/hdr.sam2q" "${IMG[@]}" --point 5,5 --mask-out "$TMP/out.png"
head -c $((size / 2)) "$TMP/m.sam2q" > "$TMP/half.sam2q"
expect_exit "truncated" 1 "truncated: $((size / 2)) bytes, header says $size" run --checkpoint "$TMP/half.sam2q" "${IMG[@]}" --point 5,5 --mask-out "$TMP/out.png"
head -c 30 "$TMP/m.sam2q" > "$TMP/tiny.sam2q"
expect_exit "truncated header" 1 "shorter than the 64-byte header" inspect "$TMP/tiny.sam2q"
expect_exit "missing file" 1 "cannot open" inspect "$TMP/none.sam2q"
cp "$G/int8-table.txt" "$TMP/not-a-model.sam2q"
expect_exit "not a model file" 1 "bad magic" run --checkpoint "$TMP/not-a-model.sam2q" "${IMG[@]}" --point 5,5 --mask-out "$TMP/out.png"

# A config section that is not a valid config (checksums recomputed, so only the config check can catch it).
python3 - "$TMP/m.sam2q" "$TMP/badcfg.sam2q" <<'PY'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
count, d = struct.unpack_from("<IQ", b, 12)
for i in range(count):
    kind, _, off, ln = struct.unpack_from("<IIQQ", b, d + 32 * i)
    if kind == 1:
        b[off:off + ln] = b"{" + b" " * (ln - 2) + b"}"  # valid JSON, not a model config
for i in range(count):
    _, _, off, ln = struct.unpack_from("<IIQQ", b, d + 32 * i)
    struct.pack_into("<I", b, d + 32 * i + 24, zlib.crc32(bytes(b[off:off + ln])))
struct.pack_into("<I", b, 32, zlib.crc32(bytes(b[d:d + 32 * count])))
struct.pack_into("<I", b, 60, zlib.crc32(bytes(b[0:60])))
open(sys.argv[2], "wb").write(b)
PY
expect_exit "config section" 1 "badcfg.sam2q: config section is not a valid model config JSON" run --checkpoint "$TMP/badcfg.sam2q" "${IMG[@]}" --point 5,5 --mask-out "$TMP/out.png"

# --- quantize refuses before writing: a table for another model, a budget too small
sed -e 's/^image_encoder.trunk.blocks.0.attn.qkv \(.*\) in=8 /image_encoder.trunk.blocks.0.attn.qkv \1 in=96 /' \
    -e 's/^sam_mask_decoder.iou_prediction_head.layers.0 /sam_mask_decoder.iou_head.layers.0 /' "$G/int8-table.txt" > "$TMP/other.txt"
expect_exit "table for another model" 1 "2 mismatched tensor(s): image_encoder.trunk.blocks.0.attn.qkv (in=96, model has 8)" \
  quantize "${MODEL[@]}" --table "$TMP/other.txt" --out "$TMP/out.sam2q"
grep -q "sam_mask_decoder.iou_head.layers.0" "$TMP/other.txt" && \
  "$BIN" quantize "${MODEL[@]}" --table "$TMP/other.txt" --out "$TMP/out.sam2q" 2>&1 | grep -q "sam_mask_decoder.iou_head.layers.0 (not a GEMM of the model)" \
  && ok || bad "mismatch list lacks the unknown tensor"
sed -e 's/"arena_budget_bytes": 805306368/"arena_budget_bytes": 100000/' -e 's/pi5-micro/small-budget/' "$TMP/pi5-micro.json" > "$TMP/budget.json"
expect_exit "arena budget" 1 "profile 'small-budget' allows 100000" quantize "${MODEL[@]}" --table "$G/int8-table.txt" --profile "$TMP/budget.json" --out "$TMP/out.sam2q"
expect_exit "arena budget (run)" 1 "profile 'small-budget' allows 100000" run --checkpoint "$TMP/m.sam2q" "${IMG[@]}" --point 5,5 --profile "$TMP/budget.json" --mask-out "$TMP/out.png"
expect_exit "missing table" 1 "cannot read" quantize "${MODEL[@]}" --table "$TMP/none.txt" --out "$TMP/out.sam2q"
expect_exit "output directory missing" 1 "does not exist" quantize "${MODEL[@]}" --table "$G/int8-table.txt" --out "$TMP/no/dir/out.sam2q"

finish quantize
