#!/usr/bin/env bash
# Zero heap allocations per inference after load (issue #5): `sam2r bench` of an OPTIMIZED build counts every
# allocation between the start of setImage and the end of predict (libsam2r-alloccount.so, LD_PRELOAD) and must
# report 0 — plain fp32 at 1 and 2 threads (and at 1024², where the decoder splits rows over the pool), multimask, the refiner (local_views 0 and 4), and an int8 .sam2q.
# The counter is shown to be live first (the first inference at a new size plans and allocates).
# Usage: Tests/CLI/run_alloc_tests.sh path/to/release/sam2r
set -u
BIN=${1:?usage: run_alloc_tests.sh path/to/release/sam2r}
source "$(dirname "$0")/lib.sh"
R=$ROOT/Tests/Goldens/refiner-micro

check() {  # check LABEL ARGS...: bench --json, 0 allocations during inference, > 0 at the first inference
  local label=$1; shift
  local out; out=$("$BIN" bench "$@" --runs 1 --json 2>/dev/null)
  local n first
  n=$(field heap_allocations_during_inference "$out"); first=$(field heap_allocations_first_inference "$out")
  [ "$first" != null ] && [ "$first" -gt 0 ] 2>/dev/null && ok || bad "$label: counter not live (first inference $first)"
  [ "$n" = 0 ] && ok || bad "$label: $n heap allocation(s) during setImage + predict"
  echo "$label: heap allocations during inference $n (first inference $first)"
}

IMG=(--image "$G/images/chelsea.png")
check "micro fp32 1 thread" --model "$G/checkpoint.pt" --config "$G/config.json" "${IMG[@]}" --threads 1
check "micro fp32 2 threads" --model "$G/checkpoint.pt" --config "$G/config.json" "${IMG[@]}" --threads 2
# At 1024² the decoder's image side (64² tokens, 256² mask pixels) is large enough for its row loops to split over
# the pool (ExecDecoder.forEachRange); at 128² they run on the caller, so only this run sees that path.
sed 's/"image_size": [0-9]*/"image_size": 1024/' "$G/config.json" > "$TMP/micro1024.json"
grep -q '"image_size": 1024' "$TMP/micro1024.json" && ok || bad "could not make an image_size 1024 config"
check "micro fp32 1024² 2 threads" --model "$G/checkpoint.pt" --config "$TMP/micro1024.json" "${IMG[@]}" --threads 2
check "micro fp32 multimask" --model "$G/checkpoint.pt" --config "$G/config.json" "${IMG[@]}" --threads 1 --multimask
check "micro-refiner lv0" --model "$R/checkpoint.safetensors" --config "$R/config.json" "${IMG[@]}" --threads 2
sed 's/"local_views": 0/"local_views": 4/' "$R/config.json" > "$TMP/lv4.json"
grep -q '"local_views": 4' "$TMP/lv4.json" && ok || bad "could not make a local_views 4 config"
check "micro-refiner lv4" --model "$R/checkpoint.safetensors" --config "$TMP/lv4.json" "${IMG[@]}" --threads 2
"$BIN" quantize --checkpoint "$G/checkpoint.pt" --config "$G/config.json" --table "$G/int8-table.txt" \
  --out "$TMP/micro.sam2q" >/dev/null && ok || bad "quantize"
check "micro int8 .sam2q" --model "$TMP/micro.sam2q" "${IMG[@]}" --threads 2

finish alloc
