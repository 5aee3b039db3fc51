#!/usr/bin/env bash
# `sam2r bench` (model benchmark) on the committed micro model: JSON fields, a real heap-allocation count
# (libsam2r-alloccount.so next to the binary, preloaded by sam2r's re-exec), the table, `bench kernels` still a
# subcommand, bad input. Usage: Tests/CLI/run_bench_tests.sh path/to/sam2r
# (build both products first: `swift build` builds every product, including sam2r-alloccount)
set -u
BIN=${1:?usage: run_bench_tests.sh path/to/sam2r}
source "$(dirname "$0")/lib.sh"
MODEL=(--model "$G/checkpoint.pt" --config "$G/config.json")

isint() { [[ "$1" =~ ^[0-9]+$ ]]; }

out=$("$BIN" bench "${MODEL[@]}" --runs 1 --threads 1 --json); rc=$?
[ $rc -eq 0 ] && ok || bad "bench --json exit $rc"
if python3 -c 'import json,sys; json.loads(sys.argv[1])' "$out" 2>/dev/null; then ok; else bad "not one JSON object: $out"; fi
for k in encoder_ms_median decoder_ms_median preprocess_ms_median postprocess_ms_median hiera_stage3_ms_median; do
  v=$(field $k "$out"); [[ "$v" =~ ^[0-9]+(\.[0-9]+)?$ ]] && ok || bad "$k = $v"
done
for k in arena_bytes peak_rss_bytes heap_allocations_during_inference heap_allocations_set_image heap_allocations_predict; do
  v=$(field $k "$out"); isint "$v" && ok || bad "$k = $v (not an integer; is libsam2r-alloccount.so next to $BIN?)"
done
n=$(field heap_allocations_during_inference "$out")
echo "micro: heap allocations during inference (setImage + predict): $n" \
  "(setImage $(field heap_allocations_set_image "$out"), predict $(field heap_allocations_predict "$out"))"
[ "$(field peak_rss_bytes "$out")" -gt 1000000 ] 2>/dev/null && ok || bad "peak RSS implausible"
# The mask decoder's parts are each timed (non-zero) and add up to mask_decoder (the same sample sums per run, so
# the medians agree only within rounding when runs = 1).
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
parts = [d[k + "_ms_median"] for k in ("decoder_layer0", "decoder_layer1", "decoder_final_attn", "decoder_upscale_heads")]
assert all(p > 0 for p in parts), parts
assert abs(sum(parts) - d["mask_decoder_ms_median"]) <= 0.01, (parts, d["mask_decoder_ms_median"])
' "$out" && ok || bad "decoder parts do not add up to mask_decoder"
# Encoder work of micro from its shapes (ModelMACs.swift) is non-zero.
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["encoder_gmac"]>0 and d["decoder_gmac"]>0' "$out" && ok || bad "gmac"

# The counter is real: a forced extra allocation path (--multimask builds 3 masks) is counted too and
# --no-alloc-count gives null.
out2=$("$BIN" bench "${MODEL[@]}" --runs 1 --threads 1 --json --no-alloc-count)
[ "$(field heap_allocations_during_inference "$out2")" = null ] && ok || bad "--no-alloc-count still counted"

# Table mode (the default): a markdown table with the stages.
tab=$("$BIN" bench "${MODEL[@]}" --runs 1 --threads 2); rc=$?
[ $rc -eq 0 ] && ok || bad "bench table exit $rc"
for row in "| preprocess |" "| hiera_stage1 |" "| **encoder** |" "| **predict** |" "heap allocations during inference: "; do
  grep -qF -- "$row" <<<"$tab" && ok || bad "table lacks '$row'"
done

# `bench kernels` is still a subcommand.
"$BIN" bench kernels --help 2>&1 | grep -q "GEMM throughput" && ok || bad "bench kernels --help"

# Bad input: one line "error: …", non-zero exit.
err=$("$BIN" bench --model "$ROOT/nonexistent.pt" --config "$G/config.json" --runs 1 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && [ "$(grep -c . <<<"$err")" -eq 1 ] && [[ "$err" == error:*nonexistent.pt* ]] && ok || bad "missing model: rc=$rc $err"
err=$("$BIN" bench "${MODEL[@]}" --runs 0 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && [[ "$err" == error:* ]] && ok || bad "--runs 0: rc=$rc $err"
err=$("$BIN" bench "${MODEL[@]}" --predicts 0 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && [[ "$err" == error:*predicts* ]] && ok || bad "--predicts 0: rc=$rc $err"

# Several prompts per image (--predicts): the report says so and still times every row.
out3=$("$BIN" bench "${MODEL[@]}" --runs 1 --predicts 3 --threads 1 --json --no-alloc-count); rc=$?
[ $rc -eq 0 ] && [ "$(field predicts "$out3")" = 3 ] && ok || bad "--predicts 3: rc=$rc $out3"
for k in encoder_ms_median mask_decoder_ms_median decoder_layer1_ms_median; do
  v=$(field $k "$out3"); [[ "$v" =~ ^[0-9]+(\.[0-9]+)?$ ]] && [ "$v" != 0.000 ] && ok || bad "--predicts 3: $k = $v"
done

finish bench
